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


def _say(page: Page, text: str) -> None:
    page.locator(INPUT).fill(text)
    page.locator(INPUT).press("Enter")
    page.locator(CLIENT, has_text=text).last.wait_for()


def test_no_serious_violations_on_greeting_exercise_and_crisis(open_page) -> None:
    page = open_page()
    _wait_for_greeting(page)
    _wait_until_quiet(page)
    found = {"greeting": _serious(_axe(page, "greeting"))}

    first_button = page.locator(REPLIES).first
    title = first_button.inner_text().strip()
    before = len(_responses(page))
    first_button.click()
    page.locator(CLIENT, has_text=title).wait_for()
    _wait_for_responses(page, before + 1)
    _wait_until_quiet(page)
    found["exercise"] = _serious(_axe(page, "exercise"))

    before = len(_responses(page))
    _say(page, "I want to die")
    deadline = time.monotonic() + WAIT_MS / 1000
    while not shows_crisis_resources(_responses(page)[before:]):
        assert time.monotonic() < deadline, f"no crisis resources shown: {_responses(page)}"
        page.wait_for_timeout(250)
    _wait_until_quiet(page)
    found["crisis"] = _serious(_axe(page, "crisis"))

    assert found == {"greeting": [], "exercise": [], "crisis": []}
