"""'Show my progress' on the real page in Chromium (issue 19): each picture arrives as an <img>
with a ``data:`` PNG and its description as alt text, right after its one-line summary; the
live region reads the description out; the picture fits a phone and a desktop; axe-core finds
nothing serious or critical. Screenshots: test-artifacts/screenshots/progress-*.png (the ones in
docs/images are copied from there).

The user keeps their answers and rates a value through the chat. The older history the pictures
compare it with (a rating a week ago, wise-mind pauses, role-plays in an earlier week) cannot be
made through the chat without a clock the test controls, so it is written through
``bot.journal.repository`` under the page's own session id, as the values exercise and the
other exercises' save actions write it (as tests/e2e/test_progress_e2e.py does over REST).

Unlike tests/web/test_accessibility.py, the page keeps its Content-Security-Policy here: the
pictures must load under it. axe-core is evaluated through the DevTools protocol, which the
policy does not govern.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from actions.progress import read_history
from bot.journal import ValueRatingIn, repository, session_scope
from bot.journal.db import dispose_engines
from bot.journal.models import utcnow
from bot.progress import charts, pictures
from tests.builders import roleplay_weeks
from tests.web.test_accessibility import AXE, _announced, _axe, _serious, _squash
from tests.web.test_page import CLIENT, DESKTOP, INPUT, PHONE, REPLIES, RESPONSES, WAIT_MS

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.server]

PNG_URL = "data:image/png;base64,"
IMAGES = ".rw-conversation-container .rw-message .image img.rw-image-frame"
CHANNEL = "socketio"  # the web page's channel: the journal's pseudonym is made from it
TEXTS = pictures.texts()


@pytest.fixture
def page(site, browser, monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    """A phone-sized page with the page's own CSP; this process reads the stack's journal."""
    monkeypatch.setenv("SECURE_BASE_ID_SECRET", site.stack.env["SECURE_BASE_ID_SECRET"])
    monkeypatch.setenv("DATABASE_URL", site.stack.database_url)
    context = browser.new_context(viewport=PHONE)
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    opened.goto(site.page_url)
    try:
        yield opened
    finally:
        context.close()
        dispose_engines(site.stack.database_url)


def _responses(page: Page) -> list[str]:
    return page.locator(RESPONSES).all_inner_texts()


def _wait_for_response_with(page: Page, text: str) -> None:
    page.wait_for_function(
        "([sel, text]) => [...document.querySelectorAll(sel)]"
        ".some((el) => el.innerText.includes(text))",
        arg=[RESPONSES, text],
    )


def _tap(page: Page, title: str) -> None:
    page.locator(REPLIES, has_text=title).last.click()
    page.locator(CLIENT, has_text=title).last.wait_for()


def _say(page: Page, text: str, then: str) -> None:
    page.locator(INPUT).fill(text)
    page.locator(INPUT).press("Enter")
    page.locator(CLIENT, has_text=text).last.wait_for()
    _wait_for_response_with(page, then)


def _sender(page: Page) -> str:
    """The page's session id without its signature: the web channel's sender id."""
    token = page.evaluate(
        "() => JSON.parse(window.sessionStorage.getItem('chat_session')).session_id"
    )
    return token.split(".")[0]


def _rate_honesty_through_the_chat(page: Page) -> None:
    from bot.exercises.values import values_content

    texts = values_content().texts
    page.locator(REPLIES).first.wait_for()
    _tap(page, "Yes, keep my answers")
    _say(page, "find my values", texts.text("ask_area"))
    _tap(page, "Friendships")
    _tap(page, "Honesty")
    _tap(page, texts.text("button_done"))
    _say(page, "9", "how much room")
    _say(page, "6", "concrete thing")
    _say(page, "tell Sam honestly why I cancelled on Friday", texts.text("summary_closing"))
    # The exercise's last lines may still be on their way: ask for the pictures only once the
    # conversation is quiet, so the answer is not interleaved with them.
    _wait_until_settled(page)


def _seed_earlier_history(database_url: str, sender: str) -> None:
    """What the user did before today, as the exercises' save actions keep it."""
    with session_scope(database_url) as session:
        user = repository.find_user(session, CHANNEL, sender)
        assert user is not None and user.journal_consent, "the chat made a user who said yes"
        earlier = repository.save_value_ratings(
            session, user, "friendships", [ValueRatingIn("Honesty", 9, 3)]
        )
        for row in earlier:
            row.created_at = utcnow() - timedelta(days=14)
        for days_ago, before, after in ((12, 8, 5), (9, 7, 4), (3, 6, 4)):
            entry = repository.add_wise_mind_entry(session, user, "wise_mind_breath", before, after)
            entry.created_at = utcnow() - timedelta(days=days_ago)
        roleplay_weeks(
            session,
            user,
            (
                (2, ("passive", "passive", "assertive")),
                (1, ("assertive", "passive", "assertive")),
                (0, ("assertive", "assertive", "assertive", "passive")),
            ),
        )
    dispose_engines(database_url)


def _expected_pictures(database_url: str, sender: str) -> list[pictures.Picture]:
    """What the action draws from this journal now (its summaries and alt texts)."""
    with session_scope(database_url) as session:
        found = read_history(session, CHANNEL, sender)
    items = pictures.progress_items(found, TEXTS)
    assert all(isinstance(item, pictures.Picture) for item in items), items
    return items


def _conversation(page: Page) -> list[dict]:
    """Every bot and user message in order: text, or for a picture its <img>'s attributes."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
              '.rw-conversation-container .rw-message:not(.rw-typing-indication)')].map((m) => {
            const img = m.querySelector('img.rw-image-frame');
            if (img) {
              const r = img.getBoundingClientRect();
              return {image: true, src: img.getAttribute('src'), alt: img.getAttribute('alt'),
                      loaded: img.complete && img.naturalWidth > 0,
                      natural: [img.naturalWidth, img.naturalHeight],
                      shown: [r.width, r.height]};
            }
            const bubble = m.querySelector('.rw-response, .rw-client');
            return {image: false, text: bubble ? bubble.innerText.trim() : ''};
          })"""
    )


def _wait_for_pictures(page: Page, count: int) -> None:
    page.wait_for_function(
        "([sel, n]) => { const imgs = document.querySelectorAll(sel);"
        " return imgs.length >= n && [...imgs].every((i) => i.complete && i.naturalWidth > 0); }",
        arg=[IMAGES, count],
    )


def _wait_until_settled(page: Page) -> None:
    """No message (text or picture) added for two seconds, and no typing indicator."""
    page.wait_for_function(
        """() => {
          const n = document.querySelectorAll('.rw-conversation-container .rw-message').length;
          if (window.__sbSettled !== n) { window.__sbSettled = n; window.__sbSince = Date.now(); }
          return Date.now() - window.__sbSince > 2000
            && !document.querySelector('.rw-typing-indication');
        }""",
        polling=250,
    )


def _newest_picture(page: Page) -> dict:
    """Where the newest picture is, and where the conversation's visible box is."""
    return page.evaluate(
        """(sel) => {
          const r = [...document.querySelectorAll(sel)].pop().getBoundingClientRect();
          const box = document.querySelector('.rw-messages-container').getBoundingClientRect();
          return {top: r.top, bottom: r.bottom, height: r.height,
                  listTop: box.top, listBottom: box.bottom};
        }""",
        IMAGES,
    )


def _axe_under_csp(page: Page, state: str) -> list[str]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return _serious(_axe(page, state))


def _layout(page: Page) -> dict:
    return page.evaluate(
        """(sel) => {
          const box = document.querySelector('.rw-messages-container').getBoundingClientRect();
          return {
            sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            list: box.width,
            images: [...document.querySelectorAll(sel)].map((img) => {
              const r = img.getBoundingClientRect();
              return {left: r.left - box.left, right: box.right - r.right,
                      width: r.width, height: r.height};
            }),
          };
        }""",
        IMAGES,
    )


def _show(page: Page, picture_index: int) -> None:
    """Scroll the conversation so a picture and its summary above it are on screen."""
    page.locator(IMAGES).nth(picture_index).evaluate(
        "(img) => img.closest('.rw-message').scrollIntoView({block: 'end'})"
    )
    page.wait_for_timeout(300)


def test_progress_pictures_on_a_phone_and_a_desktop(page: Page, site, screenshot_dir) -> None:
    _rate_honesty_through_the_chat(page)
    sender = _sender(page)
    _seed_earlier_history(site.stack.database_url, sender)
    expected = _expected_pictures(site.stack.database_url, sender)
    assert [p.skill for p in expected] == ["values", "wise_mind", "roleplay"]

    _say(page, "show my progress", TEXTS.text("intro"))
    _wait_for_pictures(page, len(expected))
    _wait_until_settled(page)
    page.screenshot(path=str(screenshot_dir / "progress-arrived-phone.png"))
    # The newest picture is in view without scrolling (it grows when it has loaded).
    newest = _newest_picture(page)
    assert newest["height"] > 0 and newest["top"] >= newest["listTop"] - 1, newest
    assert newest["bottom"] <= newest["listBottom"] + 1, f"the last picture is cut off: {newest}"

    # Each picture: the summary line, then the <img> with the data: PNG and its description.
    shown = _conversation(page)
    start = max(i for i, m in enumerate(shown) if m.get("text") == "show my progress")
    answer = shown[start + 1 :]
    assert answer[0] == {"image": False, "text": TEXTS.text("intro")}
    drawn = answer[1:]
    assert len(drawn) == 2 * len(expected), drawn
    pairs = zip(drawn[::2], drawn[1::2], strict=True)
    for picture, (summary, image) in zip(expected, pairs, strict=True):
        assert summary == {"image": False, "text": picture.summary}
        assert image["image"] and image["loaded"], "the picture loads under the page's CSP"
        assert image["src"].startswith(PNG_URL)
        png = base64.b64decode(image["src"][len(PNG_URL) :])
        assert png.startswith(charts.PNG_SIGNATURE)
        assert image["natural"] == [charts.WIDTH_PX, charts.HEIGHT_PX]
        assert image["alt"] == picture.alt and image["alt"].strip()
    values_alt = expected[0].alt
    assert "Honesty: 3, 6." in values_alt, "the rating made through the chat is drawn"
    assert "from 3 to 6 out of 10" in expected[0].summary
    # The widget's visible copy of the description is hidden (it is the alt, read once).
    assert page.locator(".rw-image-title").evaluate_all(
        "(titles) => titles.every((t) => getComputedStyle(t).display === 'none')"
    )

    # A screen reader hears the summary and then the picture's description.
    announced = _squash(_announced(page))
    for picture in expected:
        assert _squash(picture.summary) in announced
        assert _squash(picture.alt) in announced, "the picture's description is announced"
    assert announced.index(_squash(expected[-1].summary)) < announced.index(
        _squash(expected[-1].alt)
    )
    assert page.evaluate("() => document.activeElement.matches('.rw-new-message')"), (
        "the message box keeps the focus while the pictures arrive"
    )

    found = {}
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(500)
        layout = _layout(page)
        assert layout["sideways"] == 0, f"{name}: no sideways scrolling"
        for box in layout["images"]:
            # Inside the conversation, as wide as the bubbles may be, in proportion.
            assert box["left"] >= 0 and box["right"] >= 0, f"{name}: {box}"
            assert box["width"] <= charts.WIDTH_PX
            assert box["width"] >= min(charts.WIDTH_PX, 0.8 * layout["list"] - 20), box
            ratio = box["height"] / box["width"]
            assert abs(ratio - charts.HEIGHT_PX / charts.WIDTH_PX) < 0.02, f"{name}: {box}"
        found[name] = _axe_under_csp(page, f"progress pictures ({name})")
        for index, picture in enumerate(expected):
            _show(page, index)
            page.screenshot(path=str(screenshot_dir / f"progress-{picture.skill}-{name}.png"))
        _show(page, 0)
        page.screenshot(path=str(screenshot_dir / f"progress-{name}.png"))
    assert found == {"phone": [], "desktop": []}

    # A reload redraws the conversation the widget keeps in the tab (sessionStorage): each
    # picture gets its description again, and only the last message is read out again.
    page.reload()
    _wait_for_pictures(page, len(expected))
    _wait_until_settled(page)
    redrawn = [m["alt"] for m in _conversation(page) if m["image"]]
    assert redrawn == [picture.alt for picture in expected]
    assert page.locator("#chat-announcer p").all_inner_texts() == [expected[-1].alt]
