"""DOCX stories: paragraphs of ``word/document.xml``, headings as chapters.

Paragraphs styled Title, Heading 1 or Heading 2 (or with outline level 0 or 1) start
chapters. Title and author come from ``docProps/core.xml``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from xml.etree import ElementTree

from talecast.pipeline.formats.archive import SafeZip
from talecast.pipeline.formats.common import ReadLimits, TextBuilder, tile_chapters
from talecast.pipeline.types import Document

logger = logging.getLogger(__name__)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_DC = "{http://purl.org/dc/elements/1.1/}"
_CHAPTER_STYLE_NAMES = {"title", "heading 1", "heading 2"}
_CHAPTER_STYLE_IDS = {"title", "heading1", "heading2"}


def read_docx(data: bytes, limits: ReadLimits) -> Document:
    """Read a DOCX file's body text, chapters, title and author."""
    archive = SafeZip(data, "DOCX", limits)
    body = archive.read_xml("word/document.xml")
    heading_styles = _chapter_styles(archive)

    builder = TextBuilder()
    first_title: str | None = None
    for paragraph in _paragraphs(body):
        text = _paragraph_text(paragraph)
        if not text.strip():
            continue
        style = _style_of(paragraph)
        if style in heading_styles or _outline_level(paragraph) in (0, 1):
            if style.lower() == "title" and first_title is None:
                first_title = " ".join(text.split())
            builder.add_heading(text)
        else:
            builder.add_paragraph(text)

    title, author = _core_properties(archive)
    text = builder.text()
    return Document(
        text=text,
        chapters=tile_chapters(text, builder.marks),
        title=title or first_title,
        author=author,
        source_format="docx",
    )


def _paragraphs(element: ElementTree.Element) -> Iterator[ElementTree.Element]:
    """Paragraphs in document order, tables included, compatibility copies skipped."""
    stack = [iter(element)]  # explicit stack: deep nesting cannot overflow recursion
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif child.tag == f"{_W}p":
            yield child
        elif child.tag != _MC_FALLBACK:
            stack.append(iter(child))


def _paragraph_text(paragraph: ElementTree.Element) -> str:
    parts = []
    for node in paragraph.iter():
        if node.tag == f"{_W}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{_W}tab":
            parts.append("\t")
        elif node.tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
        elif node.tag == f"{_W}noBreakHyphen":
            parts.append("-")
    return "".join(parts)


def _style_of(paragraph: ElementTree.Element) -> str:
    style = paragraph.find(f"{_W}pPr/{_W}pStyle")
    return style.get(f"{_W}val", "") if style is not None else ""


def _outline_level(paragraph: ElementTree.Element) -> int | None:
    level = paragraph.find(f"{_W}pPr/{_W}outlineLvl")
    value = level.get(f"{_W}val", "") if level is not None else ""
    return int(value) if value.isdigit() else None


def _chapter_styles(archive: SafeZip) -> set[str]:
    """Style ids that start chapters, including translated ones ("Überschrift1")."""
    ids = set(_CHAPTER_STYLE_IDS) | {name.title() for name in _CHAPTER_STYLE_IDS}
    ids |= {"Heading1", "Heading2", "Title"}
    if not archive.has("word/styles.xml"):
        return ids
    for style in archive.read_xml("word/styles.xml").iter(f"{_W}style"):
        name = style.find(f"{_W}name")
        if (
            name is not None
            and name.get(f"{_W}val", "").lower() in _CHAPTER_STYLE_NAMES
        ):
            ids.add(style.get(f"{_W}styleId", ""))
    return ids


def _core_properties(archive: SafeZip) -> tuple[str | None, str | None]:
    if not archive.has("docProps/core.xml"):
        return None, None
    core = archive.read_xml("docProps/core.xml")
    title = core.findtext(f"{_DC}title") or None
    author = core.findtext(f"{_DC}creator") or None
    return (title.strip() if title else None), (author.strip() if author else None)
