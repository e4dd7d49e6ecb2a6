"""The chosen region is kept in the journal; a journal out of reach changes nothing for the user."""

from rasa_sdk.executor import CollectingDispatcher

from actions.region import ActionSaveRegion
from bot.journal import repository, session_scope
from tests.conftest import journal_kept_for, make_tracker

journal_db = journal_kept_for("rest", "ana")


def test_the_region_is_saved_for_this_user(journal_db: str) -> None:
    dispatcher = CollectingDispatcher()
    events = ActionSaveRegion().run(dispatcher, make_tracker({"region": "UK"}, sender_id="ana"), {})
    assert events == [] and dispatcher.messages == []
    with session_scope() as session:
        assert repository.find_user(session, "rest", "ana").region == "UK"


def test_nothing_happens_without_a_region(journal_db: str) -> None:
    ActionSaveRegion().run(
        CollectingDispatcher(), make_tracker({"region": None}, sender_id="bo"), {}
    )
    with session_scope() as session:
        assert repository.find_user(session, "rest", "bo") is None


def test_an_unreachable_journal_stays_quiet(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    dispatcher = CollectingDispatcher()
    assert ActionSaveRegion().run(dispatcher, make_tracker({"region": "AU"}), {}) == []
    assert dispatcher.messages == []
