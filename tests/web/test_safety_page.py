"""The published crisis protocol: served at /safety by the real page server, linked from the chat
page, and kept true to the data it describes (warning signs, regions, blind-round scores)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from bot.safety import resources
from bot.safety.taxonomy import default_taxonomy
from bot.web import PROTOCOL_PATH, PageConfig
from deploy.processes import REPO_ROOT
from tests.page_server import http_get, page_server

BLIND_ROUNDS = REPO_ROOT / "data" / "safety" / "training"
TITLE = "How Secure Base handles a crisis"

Serve = Callable[..., str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """``serve(**create_server options)``: the real page server on a free port; its base URL."""
    with ExitStack() as servers:
        yield lambda **options: servers.enter_context(page_server(**options))


def _get(url: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    status, headers, body = http_get(url, method)
    return status, headers, body.decode("utf-8")


def test_the_protocol_is_served_as_html_under_the_pages_headers(serve: Serve) -> None:
    base = serve()
    status, headers, body = _get(f"{base}/safety")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Security-Policy"] == PageConfig().content_security_policy()
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert f"<title>{TITLE}</title>" in body
    assert f'<h1 id="how-secure-base-handles-a-crisis">{TITLE}</h1>' in body
    assert '<h2 id="how-it-is-tested">How it is tested</h2>' in body
    assert "82.7%" in body and "<table>" in body
    assert '<a href="/">Back to the chat</a>' in body
    # Under `script-src 'self'`: the page needs no script at all, and has none.
    assert "<script" not in body
    status, headers, body = _get(f"{base}/safety", "HEAD")
    assert status == 200 and body == "" and headers["Content-Type"].startswith("text/html")


def test_the_chat_page_links_to_it(serve: Serve) -> None:
    base = serve()
    status, _, page = _get(f"{base}/")
    assert status == 200
    link = re.search(r'<a href="(?P<href>[^"]+)"[^>]*>How we handle a crisis</a>', page)
    assert link is not None, "the chat page has no link to the crisis protocol"
    assert _get(base + link["href"])[0] == 200


def test_markup_in_the_document_reaches_the_page_as_text(serve: Serve, tmp_path: Path) -> None:
    doc = tmp_path / "protocol.md"
    doc.write_text(
        "# Title <script>alert(1)</script>\n\n[click](javascript:alert(1)) <iframe src=x>\n",
        encoding="utf-8",
    )
    status, _, body = _get(f"{serve(protocol=doc)}/safety")
    assert status == 200
    assert "<script" not in body and "<iframe" not in body and "javascript:" not in body
    assert "Title &lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_missing_document_is_a_clear_error_not_a_blank_page(serve: Serve, tmp_path: Path) -> None:
    status, headers, body = _get(f"{serve(protocol=tmp_path / 'gone.md')}/safety")
    assert status == 503 and headers["Cache-Control"] == "no-store"
    assert body == "Missing file.\n"


# --- the document stays true to what it describes ------------------------------------------------


def _protocol() -> str:
    return PROTOCOL_PATH.read_text(encoding="utf-8")


def test_it_names_every_warning_sign_with_its_band() -> None:
    text = _protocol()
    taxonomy = default_taxonomy()
    for sign in taxonomy.signs.values():
        band = "middle" if sign.id in taxonomy.middle_band else "full"
        assert re.search(rf"^\| `{sign.id}` \| {band} \|", text, re.MULTILINE), sign.id
    assert f"There are {_number_word(len(taxonomy.signs))} signs." in text


def test_it_names_every_region_and_the_default() -> None:
    text = _protocol()
    catalogue = resources.catalogue()
    for code, region in catalogue.regions.items():
        assert re.search(rf"^\| {code} \| {region.name} \|", text, re.MULTILINE | re.IGNORECASE)
    assert f"There are {_number_word(len(catalogue.regions))} (" in text
    assert f"the default is `{catalogue.default_region}`" in text
    assert f"gets `{catalogue.fallback_region}`" in text


_SCORE_RE = re.compile(
    r"recall\s+(?P<found>\d+)/(?P<crisis>\d+)\s*=\s*(?P<recall>[\d.]+)%(?:\s*\([^)]*\))?[;,]\s*"
    r"false alarms\s+"
    r"(?P<alarms>\d+)/(?P<negatives>\d+)\s*=\s*(?P<rate>[\d.]+)%"
)


def _blind_scores() -> dict[int, re.Match[str]]:
    scores = {}
    for path in BLIND_ROUNDS.glob("blind_round*.yml"):
        header = " ".join(
            line.lstrip("# ") for line in path.read_text(encoding="utf-8").splitlines()[:30]
        )
        match = _SCORE_RE.search(header)
        assert match is not None, f"{path.name}: no first blind score in its header"
        scores[int(re.sub(r"\D", "", path.stem))] = match
    return scores


def test_its_blind_round_table_matches_the_scores_in_the_rounds_files() -> None:
    text = _protocol()
    scores = _blind_scores()
    assert scores, "no blind rounds found"
    for number, score in scores.items():
        row = re.search(rf"^\| {number} \| [\d-]+ \| (.*)$", text, re.MULTILINE)
        assert row is not None, f"round {number} is missing from the table"
        recall = f"{score['found']}/{score['crisis']} ({float(score['recall']):.1f}%)"
        alarms = f"{score['alarms']}/{score['negatives']} ({float(score['rate']):.1f}%)"
        assert row[1] == f"{recall} | {alarms} |", f"round {number}"
    latest = max(scores)
    score = scores[latest]
    assert (
        f"In the latest blind round, round {latest}, the detector found "
        f"{float(score['recall']):.1f}% of the crisis messages and set off on "
        f"{float(score['rate']):.1f}% of the non-crisis ones."
    ) in " ".join(text.split())
    missed = int(score["crisis"]) - int(score["found"])
    assert f"In round {latest} it missed {missed} of {score['crisis']} crisis" in " ".join(
        text.split()
    )


def _number_word(number: int) -> str:
    words = {6: "six", 15: "fifteen"}
    return words.get(number, str(number))
