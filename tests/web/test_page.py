"""The chat page in a real browser against the real servers (action server, Rasa, page server).

Each test opens its own browser context (fresh storage, so a fresh conversation).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import requests

from bot.channels.ai_notice import is_notice_text
from tests.e2e.crisis_check import shows_crisis_resources

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Response

pytestmark = [pytest.mark.browser, pytest.mark.server]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# A guard against a hang, not a speed requirement: start-up of the widget and the first answer.
WAIT_MS = 90_000

# The typing indicator ("...") is drawn as a response bubble too: leave it out.
RESPONSES = ".rw-conversation-container .rw-message:not(.rw-typing-indication) .rw-response"
CLIENT = ".rw-conversation-container .rw-client"
REPLIES = ".rw-conversation-container .rw-replies .rw-reply"
INPUT = ".rw-conversation-container .rw-new-message"


class PageVisit:
    """One browser context on the page, with every non-local response it saw."""

    def __init__(self, browser: Browser, url: str, viewport: dict) -> None:
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.external: list[str] = []
        self.page.on("response", self._note)
        self.page.goto(url)

    def _note(self, response: Response) -> None:
        if urlsplit(response.url).hostname not in ("127.0.0.1", "localhost"):
            self.external.append(response.url)

    def responses(self) -> list[str]:
        return self.page.locator(RESPONSES).all_inner_texts()

    def wait_for_responses(self, count: int) -> None:
        self.page.wait_for_function(
            "([sel, n]) => document.querySelectorAll(sel).length >= n", arg=[RESPONSES, count]
        )

    def wait_for_text(self, predicate_js: str) -> None:
        self.page.wait_for_function(predicate_js, arg=RESPONSES)

    def type(self, text: str) -> None:
        self.page.locator(INPUT).fill(text)
        self.page.locator(INPUT).press("Enter")

    def session_token(self) -> str:
        stored = self.page.evaluate("() => window.sessionStorage.getItem('chat_session')")
        return json.loads(stored)["session_id"]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(site, browser) -> Iterator[PageVisit]:
    opened: list[PageVisit] = []

    def open_page(viewport: dict = DESKTOP) -> PageVisit:
        page = PageVisit(browser, site.page_url, viewport)
        opened.append(page)
        return page

    yield open_page
    for page in opened:
        page.close()


def _user_texts(site, token: str) -> list[str]:
    sender = token.split(".")[0]
    answer = requests.get(f"{site.stack.base_url}/conversations/web:{sender}/tracker", timeout=60)
    answer.raise_for_status()
    return [e.get("text") for e in answer.json()["events"] if e["event"] == "user"]


def _wait_for_greeting(page: PageVisit) -> None:
    page.page.locator(REPLIES).first.wait_for()


def test_greeting_renders_line_breaks_and_buttons(visit, screenshot_dir: Path) -> None:
    page = visit()
    _wait_for_greeting(page)
    assert page.page.title() == "Secure Base"
    notice = page.page.locator("#crisis-notice").inner_text()
    for number in ("988", "116 123", "13 11 14", "findahelpline.com"):
        assert number in notice.replace("\xa0", " ")
    notice, greeting = page.responses()[:2]
    assert is_notice_text(notice), "the first message starts with the AI notice"
    assert "\n" in greeting.strip(), "the greeting's lines should render as separate lines"
    assert page.page.locator(REPLIES).count() >= 2
    page.page.screenshot(path=str(screenshot_dir / "greeting-desktop-1280x800.png"))
    assert page.external == []


def test_phone_layout_keeps_notice_and_chat_visible(visit, screenshot_dir: Path) -> None:
    page = visit(PHONE)
    _wait_for_greeting(page)
    notice = page.page.locator("#crisis-notice").bounding_box()
    chat_input = page.page.locator(INPUT).bounding_box()
    assert notice["width"] <= PHONE["width"] and notice["y"] >= 0
    assert chat_input["y"] + chat_input["height"] <= PHONE["height"]
    width = page.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "no sideways scrolling on a phone"
    page.page.screenshot(path=str(screenshot_dir / "greeting-phone-390x844.png"))


def test_button_starts_an_exercise_and_reload_keeps_the_conversation(
    visit,
    site,
    screenshot_dir: Path,
) -> None:
    page = visit()
    _wait_for_greeting(page)
    first_button = page.page.locator(REPLIES).first
    title = first_button.inner_text().strip()
    before = len(page.responses())
    first_button.click()
    page.page.locator(CLIENT, has_text=title).wait_for()
    page.wait_for_responses(before + 1)
    page.page.screenshot(path=str(screenshot_dir / "exercise-started-desktop-1280x800.png"))
    token = page.session_token()
    shown = page.responses()
    payload_texts = _user_texts(site, token)
    assert payload_texts[0] == "/greet" and payload_texts[1].startswith("/")

    page.page.reload()
    page.page.locator(CLIENT, has_text=title).wait_for()
    assert page.responses()[: len(shown)] == shown
    assert page.session_token() == token

    page.type("thank you")
    page.page.locator(CLIENT, has_text="thank you").wait_for()
    page.wait_for_responses(len(shown) + 1)
    assert _user_texts(site, token) == [*payload_texts, "thank you"]


def test_crisis_message_shows_the_resources(visit, screenshot_dir: Path) -> None:
    page = visit(PHONE)
    _wait_for_greeting(page)
    before = len(page.responses())
    page.type("I want to die")
    page.page.locator(CLIENT, has_text="I want to die").wait_for()
    # The widget paces answers one by one; poll until the resources are on screen.
    deadline = time.monotonic() + WAIT_MS / 1000
    while not shows_crisis_resources(page.responses()[before:]):
        assert time.monotonic() < deadline, f"no crisis resources shown: {page.responses()}"
        page.page.wait_for_timeout(250)
    page.page.wait_for_timeout(1500)  # let the last paced message land before the picture
    page.page.screenshot(path=str(screenshot_dir / "crisis-phone-390x844.png"))
    assert page.external == []


def _stored_session(page: PageVisit) -> str:
    return page.session_token().split(".")[0]


def _across_the_reload(page: PageVisit, predicate_js: str, arg: object) -> None:
    """Wait until ``predicate_js(arg)`` holds, while the page may reload itself on the way (a
    check that meets the reload is simply made again on the new page)."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        try:
            if page.page.evaluate(predicate_js, arg):
                return
        except PlaywrightError:
            pass  # the execution context went away with the reload
        assert time.monotonic() < deadline, f"never true: {predicate_js}"
        time.sleep(0.25)


def _wait_for_new_session(page: PageVisit, old_session: str) -> str:
    page.page.wait_for_function(
        "(old) => { const s = window.sessionStorage.getItem('chat_session');"
        " return s && !JSON.parse(s).session_id.startsWith(old + '.'); }",
        arg=old_session,
    )
    return _stored_session(page)


def _token_from(site, session_id: str, days_ago: int) -> str:
    """A token the server issued ``days_ago`` for this session, signed with its secret."""
    import base64
    import hashlib
    import hmac

    secret = site.stack.env["SECURE_BASE_SESSION_SECRET"].encode()
    body = f"{session_id}.{int(time.time()) - days_ago * 86_400}"
    digest = hmac.new(
        secret, b"secure-base socketio session v2:" + body.encode(), hashlib.sha256
    ).digest()
    return f"{body}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def test_erasure_and_expiry_give_the_page_a_new_session(visit, site) -> None:
    """The unmodified widget takes the new token the server sends, and shows the note."""
    page = visit()
    _wait_for_greeting(page)
    first = _stored_session(page)
    page.type("delete my data")
    page.page.locator(REPLIES, has_text="Yes, delete everything").click()
    page.wait_for_text(
        "(sel) => [...document.querySelectorAll(sel)].some(e => e.innerText.includes('erased'))"
    )
    second = _wait_for_new_session(page, first)
    assert second != first

    # The page forgets the erased conversation (web/static/page.js): once the turn is drawn it
    # keeps only the answer that came after the last message typed or tapped, and redraws.
    _across_the_reload(
        page,
        "([client, responses]) => {"
        " const s = JSON.parse(window.sessionStorage.getItem('chat_session'));"
        " return s.conversation.length > 0 && s.conversation.every(m => m.sender !== 'client')"
        " && document.querySelectorAll(client).length === 0"
        " && [...document.querySelectorAll(responses)].some(e => e.innerText.includes('erased'));"
        " }",
        [CLIENT, RESPONSES],
    )
    stored = page.page.evaluate("() => window.sessionStorage.getItem('chat_session')")
    assert "delete my data" not in stored and "Yes, delete everything" not in stored
    assert _stored_session(page) == second

    # A reload continues the new session (no note: nothing ended for this page).
    page.page.reload()
    page.wait_for_text(
        "(sel) => [...document.querySelectorAll(sel)].some(e => e.innerText.includes('erased'))"
    )
    before = len(page.responses())
    page.type("thank you")
    page.page.locator(CLIENT, has_text="thank you").wait_for()
    page.wait_for_responses(before + 1)
    assert _stored_session(page) == second
    assert _user_texts(site, second) == ["thank you"]
    assert _user_texts(site, first) == []
    assert not any("new conversation" in text for text in page.responses())

    # The same page 31 days later: a new session, and the note says why.
    stale = {"session_id": _token_from(site, second, days_ago=31)}
    page.page.evaluate(
        "(stale) => { const s = JSON.parse(window.sessionStorage.getItem('chat_session'));"
        " window.sessionStorage.setItem('chat_session', JSON.stringify({...s, ...stale})); }",
        stale,
    )
    page.page.reload()
    page.wait_for_text(
        "(sel) => [...document.querySelectorAll(sel)].some(e => e.innerText.includes('has ended'))"
    )
    third = _wait_for_new_session(page, second)
    assert third not in (first, second)
    assert _user_texts(site, second) == ["thank you"]


# --- the safety plan (issue 18) ------------------------------------------------------------------


def _wait_for_response_with(page: PageVisit, text: str) -> None:
    page.page.wait_for_function(
        "([sel, text]) => [...document.querySelectorAll(sel)]"
        ".some((el) => el.innerText.includes(text))",
        arg=[RESPONSES, text],
    )


def _tap(page: PageVisit, title: str) -> None:
    page.page.locator(REPLIES, has_text=title).last.click()
    page.page.locator(CLIENT, has_text=title).last.wait_for()


def _say(page: PageVisit, text: str, then: str) -> None:
    page.type(text)
    _wait_for_response_with(page, then)


def test_a_safety_plan_on_a_phone_and_its_steps_under_a_crisis_answer(
    visit, screenshot_dir: Path
) -> None:
    from bot.exercises import safety_plan as sp

    book = sp.texts()
    page = visit(PHONE)
    _wait_for_greeting(page)
    _tap(page, "Yes, keep my answers")
    _say(page, "make a safety plan", "Step 1 of 6")
    _say(page, "cant sleep, snapping at people", "Step 2 of 6")
    _say(page, "walk the dog, my rainy day playlist", "Step 3 of 6")
    _tap(page, book.text("buttons.skip"))
    _wait_for_response_with(page, "Step 4 of 6")
    _say(page, "Mia 07700 900123", "Step 5 of 6")
    _tap(page, book.text("buttons.thats_all"))
    _wait_for_response_with(page, "Step 6 of 6")
    _tap(page, book.text("buttons.surroundings_done"))
    _wait_for_response_with(page, book.text("summary.after"))

    summaries = [r for r in page.responses() if r.startswith(book.text("summary.title"))]
    assert len(summaries) == 1, "the plan arrives as one message"
    assert "• walk the dog" in summaries[0] and "• Mia 07700 900123" in summaries[0]
    bubble = page.page.locator(RESPONSES, has_text=book.text("summary.title")).last
    # A phone shows the plan in two screens: its start, then its end.
    bubble.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    page.page.screenshot(path=str(screenshot_dir / "safety-plan-summary-top-phone-390x844.png"))
    bubble.evaluate("(el) => el.scrollIntoView({block: 'end'})")
    page.page.screenshot(path=str(screenshot_dir / "safety-plan-summary-end-phone-390x844.png"))

    before = len(page.responses())
    _say(page, "I want to die", book.text("crisis.intro"))
    after = page.responses()[before:]
    assert shows_crisis_resources(after)
    own = [r for r in after if r.startswith(book.text("crisis.intro"))]
    assert len(own) == 1 and "• walk the dog" in own[0] and "cant sleep" not in own[0]
    # The user's own steps come after the static lines.
    assert after.index(own[0]) == len(after) - 1
    # ...and the safety question's buttons stay on screen under them.
    page.page.locator(REPLIES, has_text="Yes, I'm safe right now").last.wait_for()
    page.page.wait_for_timeout(1500)  # let the last paced message land before the picture
    page.page.screenshot(path=str(screenshot_dir / "crisis-with-plan-phone-390x844.png"))
    assert page.external == []
