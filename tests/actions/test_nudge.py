"""Lean on people, not on the bot: the reminder's actions on hand-built trackers, with a real
(temporary) SQLite journal and the conversation log written by Rasa's own SQL tracker store.

The clock is ``bot.exercises.nudge.now``, set by each test; the log's times are the messages'
own timestamps, so a week of use is written as it would have been."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import (
    boundaries,
    journal,
    nudge,
    reflection,
    roleplay,
    safety_plan,
    values,
    voice_check,
    wise_mind,
)
from bot.exercises import nudge as rules
from bot.journal import db, repository, session_scope
from tests.actions.sdk_forms import form_tracker, texts_of
from tests.actions.sdk_forms import run_action as run
from tests.builders import rasa_tracker

CHANNEL = "rest"
SENDER = "nudge-tester"
SENDER_ID = f"{CHANNEL}:{SENDER}"
NOW = datetime(2026, 12, 7, 20, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
TEXTS = rules.texts()
ASK = TEXTS.text("ask_people")
MOST_DAYS = TEXTS.text("intro.most_days")
LONG_SITTING = TEXTS.text("intro.long_sitting")

Clock = Callable[[datetime], None]
WriteLog = Callable[..., None]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    def set_to(moment: datetime) -> None:
        monkeypatch.setattr(rules, "now", lambda: moment)

    set_to(NOW)
    return set_to


@pytest.fixture
def write_log(journal_db: str) -> Iterator[WriteLog]:
    """Store user messages at the given times in Rasa's conversation log (its own store)."""
    from rasa.core.tracker_store import create_tracker_store
    from rasa.utils.endpoints import EndpointConfig

    store = create_tracker_store(EndpointConfig.from_dict(db.rasa_tracker_store_config(journal_db)))
    saved: list[Any] = []

    def write(*moments: datetime, sender_id: str = SENDER_ID) -> None:
        from rasa.shared.core.events import ActionExecuted, UserUttered

        for moment in moments:
            stamp = moment.timestamp()
            saved.extend(
                [
                    UserUttered("what is wise mind?", {"name": "learn"}, timestamp=stamp),
                    ActionExecuted("utter_learn", timestamp=stamp + 0.1),
                    ActionExecuted("action_listen", timestamp=stamp + 0.2),
                ]
            )
        asyncio.run(store.save(rasa_tracker(*saved, sender_id=sender_id, listening=False)))

    yield write
    store.engine.dispose()


def at_menu(intent: str = "greet", events: tuple[dict, ...] = ()) -> Tracker:
    """The user has just said hello (or ``intent``); no exercise is running."""
    return form_tracker(SENDER, CHANNEL, None, text="hi", intent=intent, events=events)


def offered(tracker: Tracker | None = None) -> list[str]:
    dispatcher = CollectingDispatcher()
    nudge.offer_nudge(dispatcher, tracker or at_menu())
    return texts_of(dispatcher)


def most_days() -> list[datetime]:
    return [NOW - DAY * n for n in (1, 2, 3, 4)]


def test_use_on_most_days_gets_the_reminder_once_with_its_buttons(
    clock: Clock, write_log: WriteLog
) -> None:
    write_log(*most_days())
    dispatcher = CollectingDispatcher()
    nudge.offer_nudge(dispatcher, at_menu())
    assert texts_of(dispatcher) == [MOST_DAYS, ASK]
    payloads = [b["payload"] for b in dispatcher.messages[-1]["buttons"]]
    assert payloads == ["/start_boundary_script", "/start_roleplay", "/stop_nudges"]
    # Said once: not again this week, even on the next day of use...
    assert offered() == []
    clock(NOW + 6 * DAY)
    write_log(NOW + 5 * DAY)
    assert offered() == []
    # ...and again a week later, when the week still holds most days.
    clock(NOW + 7 * DAY)
    write_log(*(NOW + DAY * n for n in (3, 4, 6)))
    assert offered() == [MOST_DAYS, ASK]


def test_four_days_or_a_short_sitting_get_nothing(clock: Clock, write_log: WriteLog) -> None:
    write_log(*most_days()[:3], NOW - timedelta(minutes=20))
    assert offered() == []


def test_a_long_sitting_gets_it(clock: Clock, write_log: WriteLog) -> None:
    write_log(*(NOW - timedelta(minutes=m) for m in range(46, 0, -3)))
    assert offered() == [LONG_SITTING, ASK]


def test_the_greeting_at_the_menu_offers_it_after_its_own_words(
    clock: Clock, write_log: WriteLog
) -> None:
    write_log(*most_days())
    with session_scope() as session:
        repository.set_consent(
            session, repository.get_or_create_user(session, CHANNEL, SENDER_ID), True
        )
    _, dispatcher = run(journal.ActionAskJournalConsent(), at_menu())
    assert texts_of(dispatcher) == [MOST_DAYS, ASK]  # the consent question was answered before


def test_without_the_journal_consent_it_is_still_said_and_kept(
    clock: Clock, write_log: WriteLog
) -> None:
    write_log(*most_days())
    _, dispatcher = run(journal.ActionAskJournalConsent(), at_menu())
    said = [m.get("response") or m.get("text") for m in dispatcher.messages]
    assert said == ["utter_ask_journal_consent", MOST_DAYS, ASK]
    with session_scope() as session:
        row = repository.nudge_of(session, CHANNEL, SENDER_ID)
        assert row is not None and row.last_nudge_at == NOW and not row.reminders_off
        assert repository.find_user(session, CHANNEL, SENDER_ID) is None


def test_turned_off_it_is_never_said_and_back_on_it_is(clock: Clock, write_log: WriteLog) -> None:
    write_log(*most_days())
    _, dispatcher = run(nudge.ActionStopNudges(), at_menu("stop_nudges"))
    assert texts_of(dispatcher) == [TEXTS.text("stopped")]
    assert offered() == []
    clock(NOW + 30 * DAY)
    write_log(*(NOW + 30 * DAY - DAY * n for n in (1, 2, 3, 4)))
    assert offered() == []
    _, again = run(nudge.ActionStopNudges(), at_menu("stop_nudges"))
    assert texts_of(again) == [TEXTS.text("already_stopped")]
    _, on = run(nudge.ActionAllowNudges(), at_menu("allow_nudges"))
    assert texts_of(on) == [TEXTS.text("allowed")]
    assert offered() == [MOST_DAYS, ASK]


def test_turning_it_on_when_it_is_on_says_so(journal_db: str) -> None:
    _, dispatcher = run(nudge.ActionAllowNudges(), at_menu("allow_nudges"))
    assert texts_of(dispatcher) == [TEXTS.text("already_allowed")]


def test_never_in_the_middle_of_an_exercise(clock: Clock, write_log: WriteLog) -> None:
    write_log(*most_days())
    mid = form_tracker(SENDER, CHANNEL, "values_form", text="honesty", requested="value_area")
    assert offered(mid) == []
    assert offered() == [MOST_DAYS, ASK]  # it waited for the menu


@pytest.mark.parametrize(
    ("intent", "events"),
    [
        ("crisis", ()),
        ("confirm_safe", ()),
        ("check_in_no", ()),
        ("greet", ({"event": "action", "name": "utter_crisis_resources"},)),
    ],
)
def test_never_on_a_crisis_turn(
    clock: Clock, write_log: WriteLog, intent: str, events: tuple[dict, ...]
) -> None:
    write_log(*most_days())
    assert offered(at_menu(intent, events)) == []
    assert offered() == [MOST_DAYS, ASK]  # and the next ordinary turn gets it


def test_an_unreachable_journal_shows_nothing_and_says_nothing(
    clock: Clock, unreachable_journal: str
) -> None:
    assert offered() == []
    dispatcher = CollectingDispatcher()
    assert nudge.offer_nudge(dispatcher, at_menu()) == [] and dispatcher.messages == []


def test_delete_my_data_erases_the_choice_and_the_export_holds_it(
    clock: Clock, write_log: WriteLog
) -> None:
    write_log(*most_days())
    run(nudge.ActionStopNudges(), at_menu("stop_nudges"))
    with session_scope() as session:
        export = repository.export_user(session, CHANNEL, SENDER_ID)
        assert export["nudges"]["reminders_off"] is True
        counts = repository.delete_user(session, CHANNEL, SENDER_ID)
        assert counts["nudges"] == 1
        assert repository.nudge_of(session, CHANNEL, SENDER_ID) is None
        assert repository.export_user(session, CHANNEL, SENDER_ID)["nudges"] is None


def test_purge_removes_old_choices(clock: Clock, write_log: WriteLog) -> None:
    run(nudge.ActionStopNudges(), at_menu("stop_nudges"))
    with session_scope() as session:
        counts = repository.purge(session, timedelta(days=1), now=datetime.now(timezone.utc))
        assert counts["nudges"] == 0
        counts = repository.purge(
            session, timedelta(days=1), now=datetime.now(timezone.utc) + 2 * DAY
        )
        assert counts["nudges"] == 1


@pytest.mark.parametrize(
    "action",
    [
        values.ActionSaveValuesExercise,
        voice_check.ActionReflectVoiceCheck,
        reflection.ActionReflectDependency,
        wise_mind.ActionSaveWiseMind,
        boundaries.ActionSaveBoundaryScript,
        roleplay.ActionEndRoleplay,
        safety_plan.ActionSaveSafetyPlan,
        journal.ActionAskJournalConsent,
    ],
)
def test_every_exercise_end_and_the_greeting_offer_it(action: type) -> None:
    assert issubclass(action, nudge.OffersNudge)
    assert action.__mro__.index(nudge.OffersNudge) < action.__mro__.index(journal.kit.SkillAction)


def test_the_end_of_an_exercise_offers_it_after_the_exercise_s_words(
    clock: Clock, write_log: WriteLog
) -> None:
    write_log(*most_days())
    ended = form_tracker(SENDER, CHANNEL, None, text="no", intent="deny")
    _, dispatcher = run(roleplay.ActionEndRoleplay(), ended)  # nothing to debrief: no state
    assert texts_of(dispatcher) == [MOST_DAYS, ASK]
