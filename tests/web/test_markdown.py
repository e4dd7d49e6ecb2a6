"""The Markdown subset the /safety page is rendered with: what it understands, and that nothing
in the document can become markup or a script link."""

from __future__ import annotations

import pytest

from bot.web import markdown


@pytest.mark.parametrize(
    ("text", "html"),
    [
        pytest.param(
            "# How it *is* tested\n\nOne line\nand the next.\n\n### Small\n",
            '<h1 id="how-it-is-tested">How it <em>is</em> tested</h1>\n'
            "<p>One line and the next.</p>\n"
            '<h3 id="small">Small</h3>\n',
            id="headings get anchors and paragraphs join their lines",
        ),
        pytest.param(
            "- **Full band**: the full\n  answer.\n- second\n\n1. one\n2. two\n   and more\n",
            "<ul><li><strong>Full band</strong>: the full answer.</li><li>second</li></ul>\n"
            "<ol><li>one</li><li>two and more</li></ol>\n",
            id="lists with continuation lines",
        ),
        pytest.param(
            "| sign | band |\n| --- | --- |\n| `passive_wish` | middle |\n| `plan` |\n",
            "<table><thead><tr><th>sign</th><th>band</th></tr></thead><tbody>"
            "<tr><td><code>passive_wish</code></td><td>middle</td></tr>"
            "<tr><td><code>plan</code></td><td></td></tr></tbody></table>\n",
            id="tables with inline code and short rows",
        ),
        pytest.param(
            "```\npython -m bot.safety.report --from <day>\n  indented\n```\nafter\n",
            "<pre><code>python -m bot.safety.report --from &lt;day&gt;\n  indented</code></pre>\n"
            "<p>after</p>\n",
            id="fenced code is kept as written and escaped",
        ),
    ],
)
def test_the_subset_renders_to_its_html(text: str, html: str) -> None:
    assert markdown.render(text) == html


def test_links_keep_safe_targets_only() -> None:
    html = markdown.render(
        "[lines](https://findahelpline.com) [up](#regions) [chat](/) [mail](mailto:a@b.org) "
        "[bad](javascript:alert(1)) [repo](bot/safety/detector.py) [other](//evil.example)"
    )
    assert '<a href="https://findahelpline.com" rel="noopener noreferrer">lines</a>' in html
    assert '<a href="#regions">up</a>' in html
    assert '<a href="/">chat</a>' in html
    assert '<a href="mailto:a@b.org">mail</a>' in html
    assert "javascript" not in html and "evil.example" not in html
    assert "bad" in html and "repo" in html and "other" in html
    assert html.count("<a ") == 4


def test_raw_html_in_the_document_is_text() -> None:
    text = (
        '# <img src=x onerror="alert(1)">\n\n<script>alert(1)</script> & **<b>bold</b>**\n\n'
        '| <i>x</i> |\n| --- |\n| `<svg>` |\n\n- [<em>link</em>](https://x.example/?a=1&b="2")\n'
    )
    html = markdown.render(text)
    for tag in ("<img", "<script", "<b>", "<i>", "<svg", "<em>link"):
        assert tag not in html
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; <strong>&lt;b&gt;bold&lt;/b&gt;</strong>"
        in html
    )
    # A quote cannot close the attribute.
    assert 'href="https://x.example/?a=1&amp;b=&quot;2&quot;"' in html


def test_the_protocol_renders_every_heading_of_the_document() -> None:
    from bot.web import PROTOCOL_PATH

    source = PROTOCOL_PATH.read_text(encoding="utf-8")
    html = markdown.render(source)
    headings = [line for line in source.splitlines() if line.startswith("#")]
    assert len(headings) >= 10
    for line in headings:
        level = len(line) - len(line.lstrip("#"))
        assert f"<h{level} id=" in html and line.lstrip("# ").split("`")[0][:20] in html
    # Every in-page link points at a heading that exists.
    for anchor in ("#the-check-in-question", "#regions", "#how-it-is-tested"):
        assert f'href="{anchor}"' in html and f'id="{anchor[1:]}"' in html
    assert "**" not in html and "](" not in html
