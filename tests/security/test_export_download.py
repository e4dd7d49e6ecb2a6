"""The web page's export: a one-time link served by bot.web, never raw JSON in a chat bubble."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.journal import EXPORT_LINK_PATH, ActionExportMyData
from bot.journal import repository, session_scope
from tests.builders import sdk_tracker
from tests.conftest import user_who_agreed
from tests.page_server import http_get, page_server


@pytest.fixture
def page(journal_db: str) -> Iterator[str]:
    """The real page server on a free port, reading the same journal database."""
    with page_server() as url:
        yield url


def _link_from_the_chat(sender: str) -> str:
    with session_scope() as session:
        user = user_who_agreed(session, "socketio", sender)
        repository.add_committed_action(session, user, "ask for Friday off")
    dispatcher = CollectingDispatcher()
    ActionExportMyData().run(dispatcher, sdk_tracker(sender_id=sender, channel="socketio"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_export_link"
    assert "text" not in message or not message["text"], "no JSON in the chat bubble"
    assert message["link"].startswith(EXPORT_LINK_PATH)
    return message["link"]


def test_the_link_downloads_the_file_once(page: str) -> None:
    link = _link_from_the_chat("web-user")
    assert http_get(page + link, "HEAD")[0] == 405  # a HEAD does not spend the single use
    status, headers, body = http_get(page + link)
    assert status == 200
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["Cache-Control"] == "no-store"
    assert json.loads(body)["committed_actions"][0]["text"] == "ask for Friday off"

    status, _, body = http_get(page + link)
    assert status == 410 and b"export my data" in body


def test_an_expired_or_made_up_link_is_refused(page: str) -> None:
    with session_scope() as session:
        token = repository.create_pending_export(
            session, "socketio", "late", "x.json", "{}", lifetime=timedelta(seconds=-1)
        )
    assert http_get(f"{page}{EXPORT_LINK_PATH}{token}")[0] == 410
    assert http_get(f"{page}{EXPORT_LINK_PATH}{'A' * 43}")[0] == 410


def test_erasure_removes_a_pending_export(journal_db: str) -> None:
    with session_scope() as session:
        token = repository.create_pending_export(session, "socketio", "gone", "x.json", "{}")
        repository.delete_user(session, "socketio", "gone")
    with session_scope() as session:
        assert repository.take_pending_export(session, token) is None
