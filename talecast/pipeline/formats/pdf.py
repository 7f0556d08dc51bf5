"""PDF stories: the text layer page by page, chapters from the outline or headings.

Pages are joined with a blank line. Chapters come from the PDF's outline (bookmarks)
when it has at least two entries that point at pages, else from chapter headings on
their own line, as in plain text. A PDF without any text needs OCR first.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import pypdf
from pypdf.errors import PyPdfError

from talecast.errors import CorruptPdfError, NoTextLayerError, StoryTooLargeError
from talecast.pipeline.formats.common import (
    PARAGRAPH_SEPARATOR,
    Mark,
    ReadLimits,
    tile_chapters,
)
from talecast.pipeline.formats.text import find_text_chapters
from talecast.pipeline.types import Document

logger = logging.getLogger(__name__)

# pypdf raises many kinds of error on damaged files; all mean "cannot parse".
_PDF_ERRORS = (
    PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    OSError,
    RecursionError,
    AssertionError,
    ZeroDivisionError,
)
_TITLE_SEARCH_CHARS = 40


def read_pdf(data: bytes, limits: ReadLimits) -> Document:
    """Read the text layer of a PDF with its chapters, title and author."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        _unlock(reader)
        pages = _page_texts(reader, limits)
        metadata = reader.metadata
        outline = _outline_pages(reader)
    except _PDF_ERRORS as exc:
        raise CorruptPdfError(
            f"the PDF cannot be read ({type(exc).__name__}: {exc}); it may be damaged: "
            "save or print it to a new PDF and upload that"
        ) from exc

    if not any(page.strip() for page in pages):
        raise NoTextLayerError(
            f"the PDF has {len(pages)} pages but no text layer; run OCR first (for "
            "example `ocrmypdf story.pdf story-ocr.pdf`) and upload the result, or "
            "upload the story as text, DOCX or EPUB"
        )

    page_starts = []
    parts: list[str] = []
    length = 0
    for page in pages:
        if parts:
            parts.append(PARAGRAPH_SEPARATOR)
            length += len(PARAGRAPH_SEPARATOR)
        page_starts.append(length)
        parts.append(page)
        length += len(page)
    text = "".join(parts)

    marks = _outline_marks(text, outline, page_starts) or find_text_chapters(text)
    title = metadata.title if metadata is not None else None
    author = metadata.author if metadata is not None else None
    return Document(
        text=text,
        chapters=tile_chapters(text, marks),
        title=title.strip() if title and title.strip() else None,
        author=author.strip() if author and author.strip() else None,
        source_format="pdf",
    )


def _unlock(reader: pypdf.PdfReader) -> None:
    if not reader.is_encrypted:
        return
    try:
        unlocked = bool(reader.decrypt(""))
    except (PyPdfError, NotImplementedError) as exc:
        unlocked = False
        logger.debug("reading: PDF decryption failed: %s", exc)
    if not unlocked:
        raise CorruptPdfError(
            "the PDF is protected by a password; remove the protection (print it to a "
            "new PDF) and upload it again"
        )


def _page_texts(reader: pypdf.PdfReader, limits: ReadLimits) -> list[str]:
    pages = []
    total = 0
    for page in reader.pages:
        text = page.extract_text() or ""
        pages.append(text.strip("\n"))
        total += len(text)
        if total > limits.max_text_chars:
            raise StoryTooLargeError(
                f"the PDF's text passes {limits.max_text_chars:,} characters by page "
                f"{len(pages)}; split the story into smaller files"
            )
    return pages


def _outline_pages(reader: pypdf.PdfReader) -> list[tuple[str, int]]:
    """Top-level and second-level outline entries as (title, page index)."""
    entries: list[tuple[str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                if depth < 1:
                    walk(item, depth + 1)
                continue
            page = reader.get_destination_page_number(item)
            if page is not None and page >= 0:
                entries.append((str(item.title or "").strip(), page))

    walk(list(reader.outline), 0)
    return entries


def _outline_marks(
    text: str, outline: list[tuple[str, int]], page_starts: list[int]
) -> list[Mark]:
    if len(outline) < 2:
        return []
    marks = []
    for title, page in outline:
        if page >= len(page_starts):
            continue
        start = page_starts[page]
        end = page_starts[page + 1] if page + 1 < len(page_starts) else len(text)
        # Start at the heading itself when the page shows the outline title.
        found = text[start:end].lower().find(title[:_TITLE_SEARCH_CHARS].lower())
        start = start + found if title and found >= 0 else start
        marks.append(Mark(start, title or None, start))
    return marks
