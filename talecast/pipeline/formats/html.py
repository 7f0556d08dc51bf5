"""HTML and XHTML to readable text: paragraphs, headings and element ids.

Uses the standard library's lenient ``html.parser``, so sloppy markup still reads.
Scripts, styles, page-number markers and footnote bodies are dropped.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from talecast.pipeline.formats.common import TextBuilder

logger = logging.getLogger(__name__)

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption dd div dl dt figcaption figure "
    "footer form header hr li main nav ol p pre section table tbody td th tr ul".split()
)
_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_SKIP_TAGS = frozenset("script style noscript template svg head object iframe".split())
_SKIP_EPUB_TYPES = ("pagebreak", "footnote", "endnote", "rearnote")
_VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
_SPACE_RE = re.compile(r"[ \t\r\n\f\v]+")


@dataclass
class Block:
    """One paragraph or heading of an HTML page, with the ids that point at it."""

    text: str
    heading_level: int = 0  # 1-6 for h1-h6, 0 for a paragraph
    anchors: list[str] = field(default_factory=list)


@dataclass
class HtmlPage:
    """What one HTML page holds: its blocks and metadata."""

    blocks: list[Block]
    title: str | None = None
    author: str | None = None


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title: str | None = None
        self.author: str | None = None
        self._buffer: list[str] = []
        self._anchors: list[str] = []
        self._heading = 0
        self._skip_depth = 0
        self._pre_depth = 0
        self._in_title = False
        self._title_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "meta" and values.get("name", "").lower() == "author":
            self.author = values.get("content") or self.author
        if tag == "title":
            self._in_title = True
        if tag == "body":
            self._skip_depth = 0  # a <head> that was never closed ends here
        if self._skip_depth:
            if tag not in _VOID_TAGS:
                self._skip_depth += 1
            return
        epub_type = values.get("epub:type", "") + " " + values.get("role", "")
        if tag in _SKIP_TAGS or any(kind in epub_type for kind in _SKIP_EPUB_TYPES):
            if tag not in _VOID_TAGS:
                self._skip_depth = 1
            return

        if tag in _BLOCK_TAGS or tag in _HEADING_TAGS:
            self._flush()
        if tag in _HEADING_TAGS:
            self._heading = int(tag[1])
        if tag == "pre":
            self._pre_depth += 1
        if tag == "br":
            self._buffer.append("\n")
        if values.get("id"):
            self._anchors.append(values["id"])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._skip_depth:
            self._skip_depth -= 1
            return
        if tag in _BLOCK_TAGS or tag in _HEADING_TAGS:
            self._flush()
        if tag in _HEADING_TAGS:
            self._heading = 0
        if tag == "pre" and self._pre_depth:
            self._pre_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title_parts.append(data)
        if self._skip_depth:
            return
        self._buffer.append(data if self._pre_depth else _SPACE_RE.sub(" ", data))

    def close(self) -> None:
        super().close()
        self._flush()
        self.title = " ".join("".join(self._title_parts).split()) or None

    def _flush(self) -> None:
        raw = "".join(self._buffer)
        self._buffer = []
        if self._pre_depth:
            text = raw.strip("\n")
        else:
            text = "\n".join(" ".join(line.split()) for line in raw.split("\n"))
            text = text.strip()
        if not text:
            return
        self.blocks.append(Block(text, self._heading, self._anchors))
        self._anchors = []


def parse_html(markup: str) -> HtmlPage:
    """Split an HTML or XHTML page into text blocks."""
    extractor = _Extractor()
    extractor.feed(markup)
    extractor.close()
    return HtmlPage(extractor.blocks, extractor.title, extractor.author)


def add_page(
    builder: TextBuilder, page: HtmlPage, *, chapter_levels: int = 2
) -> dict[str, int]:
    """Append a page's blocks to ``builder``; return each anchor id's text offset.

    Headings of level 1..``chapter_levels`` start chapters (0 starts none).
    """
    anchors: dict[str, int] = {}
    for block in page.blocks:
        start = builder.next_start()
        for anchor in block.anchors:
            anchors.setdefault(anchor, start)
        if block.heading_level:
            mark = block.heading_level <= chapter_levels
            builder.add_heading(block.text, mark=mark)
        else:
            builder.add_paragraph(block.text)
    return anchors


def first_heading(page: HtmlPage, max_level: int = 3) -> str | None:
    """The text of the page's first heading of level ``max_level`` or above."""
    for block in page.blocks:
        if 0 < block.heading_level <= max_level:
            return " ".join(block.text.split())
    return None
