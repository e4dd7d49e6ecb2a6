"""'Show my progress' against a real (temporary SQLite) journal: the sender's own pictures with
summary and alt text, kind sentences for too little, nothing after an erasure, and the
notebook-unavailable answer."""

from __future__ import annotations

import base64
from datetime import timedelta

from rasa_sdk.executor import CollectingDispatcher

from actions.progress import ActionShowProgress
from bot.journal import ValueRatingIn, repository, session_scope
from bot.journal.models import RoleplaySession, utcnow
from bot.progress import charts, pictures
from tests.builders import roleplay_weeks
from tests.conftest import make_tracker, user_who_agreed

TEXTS = pictures.texts()


def _run(sender: str, channel: str = "rest") -> list[dict]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sender_id=sender, channel=channel, intent="show_progress")
    assert ActionShowProgress().run(dispatcher, tracker, {}) == []
    return dispatcher.messages


def _fill(sender: str, channel: str = "rest") -> None:
    """Two sittings of values, two pauses and role-plays in two weeks, as the exercises save."""
    with session_scope() as session:
        user = user_who_agreed(session, channel, sender)
        for lived in (3, 6):
            rows = repository.save_value_ratings(
                session, user, "work", [ValueRatingIn("rest", 8, lived), ValueRatingIn("fun", 6, 5)]
            )
            # The second sitting a week after the first (the journal stamps "now").
            for row in rows:
                row.created_at = utcnow() - timedelta(days=7 if lived == 3 else 0)
        repository.add_wise_mind_entry(session, user, "wise_mind_breath", 8, 4)
        repository.add_wise_mind_entry(session, user, "wise_mind_breath", 6, 5)
        roleplay_weeks(
            session, user, ((2, ("passive", "assertive")), (0, ("assertive", "assertive")))
        )
        session.flush()


def _png(message: dict) -> bytes:
    prefix = "data:image/png;base64,"
    assert message["image"].startswith(prefix)
    return base64.b64decode(message["image"][len(prefix) :])


def test_each_skill_gets_its_picture_with_summary_and_alt(journal_db: str) -> None:
    _fill("ana")
    messages = _run("ana")
    assert messages[0]["text"] == TEXTS.text("intro")
    drawn = messages[1:]
    assert len(drawn) == 3
    for message in drawn:
        png = _png(message)
        assert png.startswith(charts.PNG_SIGNATURE) and len(png) < 60_000
        assert message["text"] and message["alt"]
    values, wise_mind, roleplay = drawn
    assert "“rest”" in values["text"] and "from 3 to 6" in values["text"]
    assert "rest: 3, 6." in values["alt"] and "fun: 5, 5." in values["alt"]
    assert wise_mind["text"] == (
        "Across your last 2 pauses, the feeling eased by 2.5 points on average."
    )
    assert "8 before, 4 after." in wise_mind["alt"]
    assert "100% of your replies were assertive, up from 50%" in roleplay["text"]
    assert roleplay["alt"].count("Week of ") == 2


def test_only_the_senders_own_journal_is_drawn(journal_db: str) -> None:
    _fill("ana")
    _fill("42", channel="telegram")
    # Same bare id on another channel, and someone else on this one: nothing of ana's.
    for sender, channel in (("ana", "telegram"), ("ben", "rest")):
        [message] = _run(sender, channel)
        assert message["text"] == TEXTS.text("none")
        assert "image" not in message or not message["image"]


def test_nothing_kept_gets_the_kind_sentence_and_the_exercises(journal_db: str) -> None:
    [message] = _run("new")
    assert message["text"] == TEXTS.text("none")
    assert [b["payload"] for b in message["buttons"]] == [
        "/start_values_exercise",
        "/start_wise_mind",
        "/start_roleplay",
    ]


def test_one_point_histories_get_a_sentence_each_never_a_chart(journal_db: str) -> None:
    with session_scope() as session:
        user = user_who_agreed(session, "rest", "one")
        repository.save_value_ratings(session, user, "work", [ValueRatingIn("rest", 8, 3)])
        repository.add_wise_mind_entry(session, user, "wise_mind_breath", 8, 4)
        repository.save_roleplay_session(
            session, user, "flatmate_party", "gentle", "finished", [("no", "assertive", None)]
        )
    messages = _run("one")
    assert [m["text"] for m in messages] == [
        TEXTS.text("intro"),
        TEXTS.text("values.not_yet"),
        TEXTS.text("wise_mind.not_yet"),
        TEXTS.text("roleplay.not_yet"),
    ]
    assert not any(m.get("image") for m in messages)


def test_after_delete_my_data_there_is_nothing_to_draw(journal_db: str) -> None:
    _fill("ana")
    with session_scope() as session:
        repository.delete_user(session, "rest", "rest:ana")
        assert session.query(RoleplaySession).count() == 0
    [message] = _run("ana")
    assert message["text"] == TEXTS.text("none")


def test_an_unreachable_notebook_is_said_plainly(unreachable_journal: str) -> None:
    [message] = _run("ana")
    assert message["response"] == "utter_journal_unavailable"
