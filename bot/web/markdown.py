"""The small part of Markdown our documents use, rendered as HTML that cannot carry markup.

The page serves ``docs/crisis-protocol.md`` at ``/safety``. A Markdown library would be a new
pinned dependency, and the common ones pass raw HTML through; this renderer knows only what the
document uses: headings, paragraphs, bullet and numbered lists (a line indented under an item
continues it), tables, fenced code blocks, ``code``, **bold**, *emphasis* and [links](url).
Every piece of text is escaped; anything else reads as plain text. A link keeps its target only
for http(s), mailto and tel addresses, ``#anchors`` and paths on this site (``/...``); any other
target (``javascript:``, a path into the repository) keeps the words and drops the link.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET_RE = re.compile(r"^[-*+]\s+(.*)$")
_NUMBERED_RE = re.compile(r"^\d{1,9}[.)]\s+(.*)$")
_TABLE_RULE_RE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_FENCE_RE = re.compile(r"^(```|~~~)")
_INLINE_RE = re.compile(
    r"`(?P<code>[^`]+)`"
    r"|\[(?P<label>[^\]]+)\]\((?P<href>[^)\s]+)\)"
    r"|\*\*(?P<strong>.+?)\*\*"
    r"|(?<![\w*])\*(?P<em>[^*\s](?:[^*]*[^*\s])?)\*(?![\w*])"
)
_SAFE_HREF_RE = re.compile(r"^(https?://|mailto:|tel:|#|/(?!/))", re.IGNORECASE)
_SLUG_DROP_RE = re.compile(r"[^\w\s-]")


def slug(text: str) -> str:
    """The anchor of a heading, as GitHub makes it: "How it is tested" -> "how-it-is-tested"."""
    words = _SLUG_DROP_RE.sub("", _plain(text).lower()).strip()
    return re.sub(r"\s", "-", words)


def _plain(text: str) -> str:
    """The words of inline Markdown without its marks (for anchors)."""
    return _INLINE_RE.sub(
        lambda m: m["code"] or m["label"] or m["strong"] or m["em"] or "", text
    ).replace("`", "")


def inline(text: str, *, links: bool = True) -> str:
    """One line or paragraph of inline Markdown as escaped HTML."""
    out: list[str] = []
    position = 0
    for match in _INLINE_RE.finditer(text):
        out.append(html.escape(text[position : match.start()]))
        position = match.end()
        if match["code"] is not None:
            out.append(f"<code>{html.escape(match['code'])}</code>")
        elif match["label"] is not None:
            label = inline(match["label"], links=False)
            href = match["href"]
            if links and _SAFE_HREF_RE.match(href):
                external = href.lower().startswith(("http://", "https://"))
                rel = ' rel="noopener noreferrer"' if external else ""
                out.append(f'<a href="{html.escape(href, quote=True)}"{rel}>{label}</a>')
            else:
                out.append(label)
        elif match["strong"] is not None:
            out.append(f"<strong>{inline(match['strong'], links=links)}</strong>")
        else:
            out.append(f"<em>{inline(match['em'], links=links)}</em>")
    out.append(html.escape(text[position:]))
    return "".join(out)


def _cells(line: str) -> list[str]:
    row = line.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|"):
        row = row[:-1]
    return [cell.strip() for cell in row.split("|")]


def _table(lines: list[str]) -> str:
    head, body = _cells(lines[0]), [_cells(line) for line in lines[2:]]
    parts = ["<table>", "<thead><tr>"]
    parts += [f"<th>{inline(cell)}</th>" for cell in head]
    parts.append("</tr></thead>")
    if body:
        parts.append("<tbody>")
        for row in body:
            cells = (row + [""] * len(head))[: len(head)]
            parts.append("<tr>" + "".join(f"<td>{inline(cell)}</td>" for cell in cells) + "</tr>")
        parts.append("</tbody>")
    parts.append("</table>")
    return "".join(parts)


def _list_items(lines: list[str], item_re: re.Pattern[str]) -> Iterator[str]:
    current: list[str] = []
    for line in lines:
        match = item_re.match(line)
        if match:
            if current:
                yield " ".join(current)
            current = [match[1]]
        else:
            current.append(line.strip())
    if current:
        yield " ".join(current)


def _blocks(text: str) -> Iterator[tuple[str, list[str]]]:
    """(kind, lines) for each block: heading, fence, table, ul, ol or p."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        fence = _FENCE_RE.match(line)
        if fence:
            end = index + 1
            while end < len(lines) and not lines[end].startswith(fence[1]):
                end += 1
            yield "fence", lines[index + 1 : end]
            index = end + 1
            continue
        if _HEADING_RE.match(line):
            yield "heading", [line]
            index += 1
            continue
        block = [line]
        index += 1
        while (
            index < len(lines)
            and lines[index].strip()
            and not _HEADING_RE.match(lines[index])
            and not _FENCE_RE.match(lines[index])
        ):
            block.append(lines[index])
            index += 1
        if len(block) >= 2 and "|" in block[0] and _TABLE_RULE_RE.match(block[1].strip()):
            yield "table", block
        elif _BULLET_RE.match(block[0]):
            yield "ul", block
        elif _NUMBERED_RE.match(block[0]):
            yield "ol", block
        else:
            yield "p", block


def render(text: str) -> str:
    """The HTML of a Markdown document (see the module for what is understood)."""
    parts: list[str] = []
    for kind, lines in _blocks(text):
        if kind == "heading":
            match = _HEADING_RE.match(lines[0])
            assert match is not None  # _blocks only yields matching lines
            level, words = len(match[1]), match[2]
            parts.append(f'<h{level} id="{html.escape(slug(words))}">{inline(words)}</h{level}>')
        elif kind == "fence":
            parts.append(f"<pre><code>{html.escape(chr(10).join(lines))}</code></pre>")
        elif kind == "table":
            parts.append(_table(lines))
        elif kind in ("ul", "ol"):
            item_re = _BULLET_RE if kind == "ul" else _NUMBERED_RE
            items = "".join(f"<li>{inline(item)}</li>" for item in _list_items(lines, item_re))
            parts.append(f"<{kind}>{items}</{kind}>")
        else:
            parts.append(f"<p>{inline(' '.join(line.strip() for line in lines))}</p>")
    return "\n".join(parts) + "\n"
