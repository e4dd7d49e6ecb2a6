"""Asking once, recording the answer, and exercises that keep nothing without a yes."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.journal import ActionAskJournalConsent, ActionSetJournalConsent
from actions.wise_mind import STEP_DONE, ActionSaveWiseMind
from bot.journal import repository, session_scope
from tests.conftest import make_tracker

FINISHED_WISE_MIND = {
    "wm_distress_before": 7,
    "wm_intro": "skip",
    "wm_practice": "stone",
    "wm_step": STEP_DONE,
    "wm_step_index": 6,
    "wm_note": "my shoulders dropped",
    "wm_distress_after": 4,
}


def _responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m.get("response") or "" for m in dispatcher.messages]


def _entries(url: str) -> int:
    with session_scope(url) as session:
        counts = repository.table_counts(session)
    return sum(n for name, n in counts.items() if name not in ("users", "deployment_keys"))


def test_the_question_is_asked_until_answered_then_never_again(journal_db: str) -> None:
    ask = ActionAskJournalConsent()
    dispatcher = CollectingDispatcher()
    ask.run(dispatcher, make_tracker(sender_id="newcomer"), {})
    assert _responses(dispatcher) == ["utter_ask_journal_consent"]
    with session_scope(journal_db) as session:
        # Asking stores nothing: no user row until they answer.
        assert repository.find_user(session, "rest", "newcomer") is None

    answer = CollectingDispatcher()
    tracker = make_tracker(sender_id="newcomer", intent="stop_keeping_answers", text="no")
    assert ActionSetJournalConsent().run(answer, tracker, {}) == []
    assert _responses(answer) == ["utter_consent_declined"]

    again = CollectingDispatcher()
    ask.run(again, make_tracker(sender_id="newcomer"), {})
    assert again.messages == []


def test_declined_the_exercise_runs_and_nothing_is_kept(journal_db: str) -> None:
    tracker = make_tracker(sender_id="private", intent="stop_keeping_answers")
    ActionSetJournalConsent().run(CollectingDispatcher(), tracker, {})
    dispatcher = CollectingDispatcher()
    ActionSaveWiseMind().run(dispatcher, make_tracker(FINISHED_WISE_MIND, sender_id="private"), {})
    responses = _responses(dispatcher)
    assert "utter_journal_not_kept" in responses
    assert "utter_journal_unavailable" not in responses
    assert any(m.get("text") for m in dispatcher.messages), "the exercise still sums up"
    assert _entries(journal_db) == 0


def test_never_asked_nothing_is_kept_and_the_question_is_offered(journal_db: str) -> None:
    dispatcher = CollectingDispatcher()
    ActionSaveWiseMind().run(dispatcher, make_tracker(FINISHED_WISE_MIND, sender_id="unasked"), {})
    assert "utter_journal_not_kept_ask" in _responses(dispatcher)
    assert _entries(journal_db) == 0
    with session_scope(journal_db) as session:
        assert repository.find_user(session, "rest", "unasked") is None


def test_changing_ones_mind_both_ways(journal_db: str) -> None:
    keep = make_tracker(sender_id="mind", intent="keep_my_answers", text="keep my answers")
    dispatcher = CollectingDispatcher()
    ActionSetJournalConsent().run(dispatcher, keep, {})
    assert _responses(dispatcher) == ["utter_consent_given"]
    ActionSaveWiseMind().run(
        CollectingDispatcher(), make_tracker(FINISHED_WISE_MIND, sender_id="mind"), {}
    )
    assert _entries(journal_db) == 1

    stop = make_tracker(sender_id="mind", intent="stop_keeping_answers")
    ActionSetJournalConsent().run(CollectingDispatcher(), stop, {})
    ActionSaveWiseMind().run(
        CollectingDispatcher(), make_tracker(FINISHED_WISE_MIND, sender_id="mind"), {}
    )
    assert _entries(journal_db) == 1
