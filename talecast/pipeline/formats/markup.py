"""Markdown and HTML stories: readable text without markup, headings as chapters.

Both become paragraphs separated by a blank line; ``#``/``##`` (Markdown) and
``<h1>``/``<h2>`` (HTML) headings start chapters.
"""

from __future__ import annotations

import html
import logging
import re

from talecast.pipeline.formats.common import TextBuilder, tile_chapters
from talecast.pipeline.formats.html import add_page, parse_html
from talecast.pipeline.types import Document

logger = logging.getLogger(__name__)

_ATX_RE = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SETEXT_RE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE_RE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE_RE = re.compile(r"^ {0,3}(```|~~~)")
_LIST_RE = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_QUOTE_RE = re.compile(r"^[ \t]{0,3}>[ \t]?")
_REF_DEF_RE = re.compile(r"^ {0,3}\[[^\]\n]{1,200}\]:[ \t]*\S")
_FRONT_KEY_RE = re.compile(r"^(title|author)[ \t]*:[ \t]*(.+?)[ \t]*$", re.IGNORECASE)

# Inline markup. Each span stops at the next marker of its kind, so a long line of
# unmatched markers stays linear.
_INLINE_RULES = (
    (re.compile(r"!\[([^\[\]\n]{0,300})\]\([^()\s]{0,500}\)"), ""),
    (re.compile(r"\[([^\[\]\n]{1,300})\]\([^()\s]{0,500}\)"), r"\1"),
    (re.compile(r"\[([^\[\]\n]{1,300})\]\[[^\[\]\n]{0,300}\]"), r"\1"),
    (re.compile(r"<(https?://[^<>\s]{1,500})>"), r"\1"),
    (re.compile(r"</?[A-Za-z][^<>\n]{0,300}>"), ""),
    (re.compile(r"`([^`\n]{1,500})`"), r"\1"),
    (re.compile(r"\*\*(?=[^\s*])([^*\n]{1,500}?)(?<=\S)\*\*"), r"\1"),
    (re.compile(r"__(?=[^\s_])([^_\n]{1,500}?)(?<=\S)__"), r"\1"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^\n*]{1,500}?)(?<=\S)\*(?!\*)"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=[^\s_])([^\n_]{1,500}?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"~~(?=[^\s~])([^\n~]{1,500}?)(?<=\S)~~"), r"\1"),
)
# Backslash escapes are hidden in the Private Use Area while the rules run.
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>~|])")
_ESCAPED_RE = re.compile("[\ue000-\ue07f]")
_ESCAPE_BASE = 0xE000


def read_markdown(text: str) -> Document:
    """Turn Markdown into plain paragraphs; ``#`` and ``##`` headings start chapters."""
    lines = text.splitlines()
    front, index = _front_matter(lines)
    builder = TextBuilder()
    first_h1: str | None = None
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            builder.add_paragraph(_inline(_join_lines(paragraph)))
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        index += 1
        atx = _ATX_RE.match(line)
        setext = _SETEXT_RE.match(line) if len(paragraph) == 1 else None
        if atx or setext:
            if setext:
                title, level = paragraph.pop(), 1 if line.strip()[0] == "=" else 2
            else:
                title, level = atx[2], len(atx[1])  # type: ignore[index]
            flush()
            title = _inline(title)
            first_h1 = first_h1 or (title if level == 1 else None)
            builder.add_heading(title, mark=level <= 2)
        elif _FENCE_RE.match(line):
            flush()
            index = _add_fenced(lines, index, line, builder)
        elif not line.strip() or _RULE_RE.match(line) or _REF_DEF_RE.match(line):
            flush()
        elif _LIST_RE.match(line):
            flush()
            paragraph.append(_LIST_RE.sub("", line, count=1))
        elif _QUOTE_RE.match(line):
            rest = _QUOTE_RE.sub("", line, count=1)
            if rest.strip():
                paragraph.append(rest)
            else:
                flush()
        else:
            paragraph.append(line)
    flush()

    body = builder.text()
    return Document(
        text=body,
        chapters=tile_chapters(body, builder.marks),
        title=front.get("title") or first_h1,
        author=front.get("author"),
        source_format="markdown",
    )


def read_html(markup: str) -> Document:
    """Turn an HTML page into plain paragraphs; ``<h1>`` and ``<h2>`` start chapters."""
    page = parse_html(markup)
    builder = TextBuilder()
    add_page(builder, page)
    body = builder.text()
    first_h1 = next((b.text for b in page.blocks if b.heading_level == 1), None)
    return Document(
        text=body,
        chapters=tile_chapters(body, builder.marks),
        title=page.title or first_h1,
        author=page.author,
        source_format="html",
    )


def _front_matter(lines: list[str]) -> tuple[dict[str, str], int]:
    """Read a leading ``---`` YAML block's title and author; return the next index."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    values: dict[str, str] = {}
    for index in range(1, min(len(lines), 200)):
        if lines[index].strip() in ("---", "..."):
            return values, index + 1
        match = _FRONT_KEY_RE.match(lines[index])
        if match:
            values[match[1].lower()] = match[2].strip("\"'")
    return {}, 0


def _add_fenced(
    lines: list[str], index: int, opening: str, builder: TextBuilder
) -> int:
    fence = opening.strip()[:3]
    body: list[str] = []
    while index < len(lines) and not lines[index].strip().startswith(fence):
        body.append(lines[index])
        index += 1
    builder.add_paragraph("\n".join(body))
    return index + 1


def _join_lines(lines: list[str]) -> str:
    """Join soft-wrapped lines with spaces; keep hard breaks (two spaces, ``\\``)."""
    parts = []
    for line in lines:
        hard = line.endswith("  ") or line.endswith("\\")
        parts.append(line.rstrip(" \\").strip() + ("\n" if hard else " "))
    return "".join(parts).strip()


def _inline(text: str) -> str:
    text = _ESCAPE_RE.sub(lambda m: chr(_ESCAPE_BASE + ord(m[1])), text)
    for pattern, replacement in _INLINE_RULES:
        text = pattern.sub(replacement, text)
    text = _ESCAPED_RE.sub(lambda m: chr(ord(m[0]) - _ESCAPE_BASE), text)
    return html.unescape(text)
