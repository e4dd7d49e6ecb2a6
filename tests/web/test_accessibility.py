"""The chat page against WCAG 2.2 AA (issue 19): axe-core on three states, keyboard only, reflow.

axe-core comes from web/node_modules (``make web-deps``) and is injected as an inline script;
the page's Content-Security-Policy forbids inline scripts, so these contexts bypass it (only
here: the page itself keeps the policy).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from deploy.processes import REPO_ROOT
from tests.e2e.crisis_check import shows_crisis_resources
from tests.web.test_page import CLIENT, DESKTOP, INPUT, REPLIES, RESPONSES, WAIT_MS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.server]

AXE = REPO_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0-2.2 A and AA, and axe's best practices (landmarks, one main, a page heading).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
IMPACTS = ("critical", "serious", "moderate", "minor")
# 1280 px at 400 % or 640 px at 200 %: WCAG's reflow width, drawn at twice the pixels.
REFLOW = {"width": 320, "height": 512}


def _open(browser: Browser, url: str, viewport: dict = DESKTOP, **options) -> Page:
    context = browser.new_context(viewport=viewport, bypass_csp=True, **options)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    return page


@pytest.fixture
def open_page(site, browser) -> Iterator:
    opened: list[Page] = []

    def _open_page(viewport: dict = DESKTOP, **options) -> Page:
        page = _open(browser, site.page_url, viewport, **options)
        opened.append(page)
        return page

    yield _open_page
    for page in opened:
        page.context.close()


def _responses(page: Page) -> list[str]:
    return page.locator(RESPONSES).all_inner_texts()


def _wait_for_greeting(page: Page) -> None:
    page.locator(REPLIES).first.wait_for()


def _wait_for_responses(page: Page, count: int) -> None:
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length >= n", arg=[RESPONSES, count]
    )


def _wait_until_quiet(page: Page) -> None:
    """The widget paces messages; wait until none has been added for a while (no assertion)."""
    page.wait_for_function(
        """(sel) => {
          const n = document.querySelectorAll(sel).length;
          if (window.__sbCount !== n) { window.__sbCount = n; window.__sbSince = Date.now(); }
          return Date.now() - window.__sbSince > 2000
            && !document.querySelector('.rw-typing-indication');
        }""",
        arg=RESPONSES,
        polling=250,
    )


def _axe(page: Page, state: str) -> list[dict]:
    """axe-core's violations on the page as it is now; their counts by impact are printed."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    violations = result["violations"]
    rules = {impact: 0 for impact in IMPACTS}
    nodes = {impact: 0 for impact in IMPACTS}
    for violation in violations:
        rules[violation["impact"]] += 1
        nodes[violation["impact"]] += len(violation["nodes"])
    print(f"\naxe {state}: rules {rules} nodes {nodes}")
    for violation in violations:
        targets = [node["target"] for node in violation["nodes"]][:3]
        print(f"  {violation['impact']:9} {violation['id']}: {violation['help']} {targets}")
    return violations


def _serious(violations: list[dict]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v["impact"] in ("critical", "serious")
    ]


def _squash(text: str) -> str:
    return " ".join(text.split())


def _announced(page: Page) -> str:
    """What the page's live region (role=log, polite) has handed to screen readers."""
    return page.locator("#chat-announcer").text_content()


def _say(page: Page, text: str) -> None:
    page.locator(INPUT).fill(text)
    page.locator(INPUT).press("Enter")
    page.locator(CLIENT, has_text=text).last.wait_for()


def _say_crisis_words(page: Page) -> None:
    """Say "I want to die" and wait until the crisis resources are shown and the page is quiet."""
    before = len(_responses(page))
    _say(page, "I want to die")
    deadline = time.monotonic() + WAIT_MS / 1000
    while not shows_crisis_resources(_responses(page)[before:]):
        assert time.monotonic() < deadline, f"no crisis resources shown: {_responses(page)}"
        page.wait_for_timeout(250)
    _wait_until_quiet(page)


def test_no_serious_violations_on_greeting_exercise_and_crisis(open_page) -> None:
    page = open_page()
    _wait_for_greeting(page)
    _wait_until_quiet(page)
    found = {"greeting": _serious(_axe(page, "greeting"))}
    assert _squash(_responses(page)[0]) in _squash(_announced(page)), "greeting not announced"

    first_button = page.locator(REPLIES).first
    title = first_button.inner_text().strip()
    before = len(_responses(page))
    first_button.click()
    page.locator(CLIENT, has_text=title).wait_for()
    _wait_for_responses(page, before + 1)
    _wait_until_quiet(page)
    found["exercise"] = _serious(_axe(page, "exercise"))

    _say_crisis_words(page)
    found["crisis"] = _serious(_axe(page, "crisis"))
    assert _squash(_responses(page)[-1]) in _squash(_announced(page)), "answer not announced"

    assert found == {"greeting": [], "exercise": [], "crisis": []}


def _focused(page: Page) -> dict:
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          return {
            input: el.matches('.rw-new-message'),
            reply: el.matches('.rw-reply'),
            text: (el.innerText || '').trim(),
          };
        }"""
    )


def _answer_by_keyboard(page: Page, message: str, button: str, key: str) -> None:
    """From the message box: write ``message``, walk back to ``button`` and press ``key``."""
    page.keyboard.type(message)
    page.keyboard.press("Enter")
    page.locator(CLIENT, has_text=message).last.wait_for()
    page.locator(REPLIES, has_text=button).last.wait_for()
    _wait_until_quiet(page)
    assert _focused(page)["input"], "the message box keeps the focus after sending"

    # The newest buttons sit just above the message box.
    seen = []
    for _ in range(20):
        page.keyboard.press("Shift+Tab")
        focused = _focused(page)
        seen.append(focused["text"])
        if focused["reply"] and focused["text"] == button:
            break
    assert _focused(page)["text"] == button, f"buttons not reachable by keyboard: {seen}"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows where the focus is"

    before = len(_responses(page))
    page.keyboard.press(key)
    page.locator(CLIENT, has_text=button).last.wait_for()
    _wait_for_responses(page, before + 1)


def test_keyboard_alone_sends_a_message_and_presses_an_answer_button(open_page) -> None:
    """No mouse: Tab to the message box, write, Enter, Shift+Tab to a button, Space."""
    page = open_page()
    _wait_for_greeting(page)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(40):
        page.keyboard.press("Tab")
        if _focused(page)["input"]:
            break
    assert _focused(page)["input"], "Tab never reached the message box"

    _answer_by_keyboard(page, "delete my data", "No, keep it", "Space")
    assert "nothing was deleted" in _responses(page)[-1]
    assert _focused(page)["input"], "after a button the focus goes back to the message box"

    # Enter presses a button as well as Space.
    _answer_by_keyboard(page, "delete my data", "No, keep it", "Enter")
    assert "nothing was deleted" in _responses(page)[-1]


def _visible_in(page: Page, selector: str, container: str | None = None) -> bool:
    """True when some of the element is inside the viewport (and inside its scroll box)."""
    return page.evaluate(
        """([sel, box]) => {
          const el = [...document.querySelectorAll(sel)].pop();
          if (!el) return false;
          const r = el.getBoundingClientRect();
          const areas = [{left: 0, top: 0, right: innerWidth, bottom: innerHeight}];
          if (box) areas.push(document.querySelector(box).getBoundingClientRect());
          return r.width > 0 && r.height > 0 && areas.every(
            (a) => r.right > a.left && r.left < a.right && r.bottom > a.top && r.top < a.bottom
              && r.left >= 0 && r.right <= innerWidth);
        }""",
        [selector, container],
    )


def test_reflow_at_320_px_and_200_percent_zoom(open_page, screenshot_dir) -> None:
    """WCAG 1.4.10: at 320 CSS px (640 px at 200 %) nothing scrolls sideways."""
    page = open_page(REFLOW, device_scale_factor=2)
    _wait_for_greeting(page)
    _wait_until_quiet(page)
    states = {}
    for state in ("greeting", "crisis"):
        if state == "crisis":
            _say_crisis_words(page)
        page.screenshot(path=str(screenshot_dir / f"{state}-reflow-320px-zoom200.png"))
        states[state] = {
            "sideways": page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            ),
            "input": _visible_in(page, INPUT),
            "latest": _visible_in(page, RESPONSES, ".rw-messages-container"),
            "notice": _visible_in(page, "#crisis-notice"),
        }
    expected = {"sideways": 0, "input": True, "latest": True, "notice": True}
    assert states == {"greeting": expected, "crisis": expected}
