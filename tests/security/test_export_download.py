"""The web page's export: a one-time link served by bot.web, never raw JSON in a chat bubble."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.journal import EXPORT_LINK_PATH, ActionExportMyData
from bot.journal import repository, session_scope
from bot.web import PageConfig, create_server
from tests.builders import sdk_tracker
from tests.conftest import user_who_agreed


@pytest.fixture
def page(journal_db: str) -> Iterator[str]:
    """The real page server on a free port, reading the same journal database."""
    server = create_server("127.0.0.1", 0, config=PageConfig())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


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
    assert _get(page + link, "HEAD")[0] == 405  # a HEAD does not spend the single use
    status, headers, body = _get(page + link)
    assert status == 200
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["Cache-Control"] == "no-store"
    assert json.loads(body)["committed_actions"][0]["text"] == "ask for Friday off"

    status, _, body = _get(page + link)
    assert status == 410 and b"export my data" in body


def test_an_expired_or_made_up_link_is_refused(page: str) -> None:
    with session_scope() as session:
        token = repository.create_pending_export(
            session, "socketio", "late", "x.json", "{}", lifetime=timedelta(seconds=-1)
        )
    assert _get(f"{page}{EXPORT_LINK_PATH}{token}")[0] == 410
    assert _get(f"{page}{EXPORT_LINK_PATH}{'A' * 43}")[0] == 410


def test_erasure_removes_a_pending_export(journal_db: str) -> None:
    with session_scope() as session:
        token = repository.create_pending_export(session, "socketio", "gone", "x.json", "{}")
        repository.delete_user(session, "socketio", "gone")
    with session_scope() as session:
        assert repository.take_pending_export(session, token) is None
