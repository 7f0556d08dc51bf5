"""Story reading: bytes of any supported kind in, a :class:`Document` out.

The kind is told from the content, never from a file name: PDF by its magic bytes,
EPUB and DOCX by the parts of their ZIP archive, HTML by its markup, Markdown by its
headings, links and bold text, anything else that decodes is plain text. Plain text
is kept exactly as decoded, so offsets into ``Document.text`` are offsets into the
file. The format readers live in :mod:`talecast.pipeline.formats`.
"""

from __future__ import annotations

import io
import logging
import os
import re
import zipfile
from pathlib import Path

from talecast.errors import (
    CorruptArchiveError,
    EmptyStoryError,
    StoryDecodeError,
    StoryInputError,
    StoryTooLargeError,
    UnsupportedFormatError,
)
from talecast.pipeline.formats.common import ReadLimits, check_text_size, tile_chapters
from talecast.pipeline.formats.docx import read_docx
from talecast.pipeline.formats.epub import read_epub
from talecast.pipeline.formats.markup import read_html, read_markdown
from talecast.pipeline.formats.pdf import read_pdf
from talecast.pipeline.formats.text import decode_text, find_text_chapters, looks_binary
from talecast.pipeline.types import Document

__all__ = ["ReadLimits", "read_story", "read_story_file", "sniff_format"]

logger = logging.getLogger(__name__)

_DEFAULT_LIMITS = ReadLimits()

_SNIFF_BYTES = 64 * 1024
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_EPUB_MIME = b"application/epub+zip"
_UNICODE_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_SNIFF_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)

# (magic bytes, offset, what the upload looks like, how to fix it)
_BINARY_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", 0, "a PNG image", "upload the story's text instead"),
    (b"\xff\xd8\xff", 0, "a JPEG image", "upload the story's text instead"),
    (b"GIF8", 0, "a GIF image", "upload the story's text instead"),
    (b"\x7fELF", 0, "an ELF program", "upload the story's text instead"),
    (b"\x1f\x8b", 0, "a gzip archive", "unpack it and upload the story file inside"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive", "unpack it and upload the story"),
    (b"Rar!\x1a\x07", 0, "a RAR archive", "unpack it and upload the story file"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        0,
        "a legacy Word (.doc) file",
        "save it as DOCX or plain text",
    ),
    (b"{\\rtf", 0, "an RTF document", "save it as DOCX or plain text"),
    (b"%!PS", 0, "a PostScript file", "convert it to PDF"),
    (b"OggS", 0, "an Ogg audio file", "upload the story's text instead"),
    (b"fLaC", 0, "a FLAC audio file", "upload the story's text instead"),
    (b"RIFF", 0, "a RIFF media file (WAV, AVI, WebP)", "upload the story's text"),
    (b"ftyp", 4, "an MP4/M4A media file", "upload the story's text instead"),
)
_HTML_START_RE = re.compile(
    r"\A\s*(?:<\?xml[^>]{0,300}>\s*)?(?:<!--[^>]{0,2000}-->\s*){0,5}"
    r"<(?:!doctype[ \t\r\n]+html|html|head|body)\b",
    re.IGNORECASE,
)
_HTML_TAG_RE = re.compile(
    r"</?(?:p|div|br|h[1-6]|body|html|span|em|i|b|a|strong|ul|li)\b[^<>\n]{0,300}>",
    re.IGNORECASE,
)
_MD_HEADING_RE = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_MD_LINK_RE = re.compile(r"\[[^\]\n]{1,200}\]\([^)\s]{1,300}\)")
_MD_BOLD_RE = re.compile(r"\*\*[^*\n]{1,200}\*\*")
_META_CHARSET_RE = re.compile(rb"<meta[^>]{0,300}charset=[\"']?([A-Za-z0-9_.:-]{1,40})")


def sniff_format(data: bytes) -> str:
    """Tell the story's kind from its bytes: text, markdown, html, docx, epub or pdf."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(_ZIP_MAGIC):
        return _sniff_zip(data)
    for magic, offset, looks_like, fix in _BINARY_MAGIC:
        if data[offset : offset + len(magic)] == magic:
            raise UnsupportedFormatError(
                f"the upload looks like {looks_like}, not a story; {fix}. Talecast "
                "reads plain text, Markdown, HTML, DOCX, EPUB and PDF"
            )

    head = _text_head(data[:_SNIFF_BYTES])
    if _HTML_START_RE.match(head) or _is_tag_soup(head):
        return "html"
    markdown_signs = (
        len(_MD_HEADING_RE.findall(head))
        + len(_MD_LINK_RE.findall(head))
        + len(_MD_BOLD_RE.findall(head)) // 2
    )
    return "markdown" if markdown_signs else "text"


def read_story(data: bytes, *, limits: ReadLimits = _DEFAULT_LIMITS) -> Document:
    """Read a story upload of any supported kind into a Document."""
    if len(data) > limits.max_input_bytes:
        raise StoryTooLargeError(
            f"the story file has {len(data):,} bytes, over the limit of "
            f"{limits.max_input_bytes:,}; split the story into smaller files"
        )
    if not data.strip():
        what = "is empty (0 bytes)" if not data else f"holds only {len(data)} blanks"
        raise EmptyStoryError(
            f"the story file {what}; upload a file that contains the story's text"
        )

    kind = sniff_format(data)
    if kind == "text":
        document = _read_text(data, limits)
    elif kind == "markdown":
        document = read_markdown(_decode_checked(data, limits))
    elif kind == "html":
        document = read_html(_decode_markup(data, limits))
    elif kind == "docx":
        document = read_docx(data, limits)
    elif kind == "epub":
        document = read_epub(data, limits)
    else:
        document = read_pdf(data, limits)

    check_text_size(document.text, limits)
    if not document.text.strip():
        raise EmptyStoryError(
            f"the {kind} file holds no readable text; check that it is the right "
            "file and that its text is not only in images"
        )
    logger.info(
        "reading: %s story read, %d characters in %d chapters",
        kind,
        len(document.text),
        len(document.chapters),
    )
    return document


def read_story_file(
    path: str | os.PathLike[str], *, limits: ReadLimits = _DEFAULT_LIMITS
) -> Document:
    """Read a story file from disk (its name plays no part in telling its kind)."""
    story = Path(path)
    try:
        size = story.stat().st_size
        if size > limits.max_input_bytes:
            raise StoryTooLargeError(
                f"the story file {str(story)!r} has {size:,} bytes, over the limit "
                f"of {limits.max_input_bytes:,}; split the story into smaller files"
            )
        data = story.read_bytes()
    except OSError as exc:
        raise StoryInputError(
            f"cannot read the story file {str(story)!r}: {exc.strerror or exc}; "
            "check the path and its permissions"
        ) from exc
    return read_story(data, limits=limits)


def _read_text(data: bytes, limits: ReadLimits) -> Document:
    text = _decode_checked(data, limits)
    if "\x00" in text:
        raise UnsupportedFormatError(
            "the upload starts as text but holds binary data further on (a NUL "
            f"character at offset {text.index(chr(0))}); upload the story as plain "
            "text, Markdown, HTML, DOCX, EPUB or PDF"
        )
    return Document(text=text, chapters=tile_chapters(text, find_text_chapters(text)))


def _decode_checked(data: bytes, limits: ReadLimits) -> str:
    return _checked(decode_text(data), limits)


def _checked(text: str, limits: ReadLimits) -> str:
    if not text.strip():
        raise EmptyStoryError(
            "the story file holds nothing but whitespace; upload a file that "
            "contains the story's text"
        )
    check_text_size(text, limits)
    return text


def _decode_markup(data: bytes, limits: ReadLimits) -> str:
    """Decode HTML: a BOM, UTF-8, then the charset its <meta> declares."""
    if data.startswith(_UNICODE_BOMS):
        return _decode_checked(data, limits)
    try:
        return _checked(data.decode("utf-8"), limits)
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET_RE.search(data[:_SNIFF_BYTES])
    if not declared:
        return _decode_checked(data, limits)
    encoding = declared[1].decode("ascii")
    try:
        return _checked(data.decode(encoding), limits)
    except (LookupError, UnicodeDecodeError) as exc:
        raise StoryDecodeError(
            f"the HTML declares charset {encoding!r} but does not decode with it "
            f"({exc}); save the page as UTF-8 and upload it again"
        ) from exc


def _text_head(sample: bytes) -> str:
    """Decode the start of the upload for sniffing; refuse binary data."""
    for bom, encoding in _SNIFF_BOMS:
        if sample.startswith(bom):
            head = sample.decode(encoding, errors="replace")
            break
    else:
        head = _head_without_bom(sample)
    if looks_binary(head[:4096]):
        raise UnsupportedFormatError(
            "the upload is binary data (mostly control characters), not text; upload "
            "plain text, Markdown, HTML, DOCX, EPUB or PDF"
        )
    return head


def _head_without_bom(sample: bytes) -> str:
    if b"\x00" not in sample:
        return sample.decode("utf-8", errors="replace")
    try:
        head = decode_text(sample[: len(sample) & ~1])  # UTF-16 without a BOM
    except StoryDecodeError:
        head = "\x00"
    if "\x00" in head:
        raise UnsupportedFormatError(
            f"the upload is binary data (a NUL byte at offset {sample.index(0)}), not "
            "text or a document Talecast reads; upload plain text, Markdown, HTML, "
            "DOCX, EPUB or PDF"
        )
    return head


def _is_tag_soup(head: str) -> bool:
    tags = len(_HTML_TAG_RE.findall(head))
    return tags >= 20 or (tags >= 3 and head.lstrip().startswith("<"))


def _sniff_zip(data: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        first = _first_member_name(data)
        kind = "EPUB" if first == "mimetype" else "DOCX or EPUB"
        raise CorruptArchiveError(
            f"the upload starts like a ZIP archive (a {kind}) but cannot be opened "
            f"({exc}); it is probably truncated: export it again and upload the new "
            "file"
        ) from exc
    with archive:
        names = set(archive.namelist())
        mimetype = _small_member(archive, "mimetype")
    if mimetype == _EPUB_MIME or "META-INF/container.xml" in names:
        return "epub"
    if "word/document.xml" in names or any(n.startswith("word/") for n in names):
        return "docx"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        raise UnsupportedFormatError(
            "the upload is an OpenDocument file "
            f"({mimetype.decode('ascii', 'replace')}); save it as DOCX and upload that"
        )
    if any(n.startswith(("xl/", "ppt/")) for n in names):
        raise UnsupportedFormatError(
            "the upload is a spreadsheet or a presentation, not a story; upload the "
            "story as text, DOCX, EPUB or PDF"
        )
    if "[Content_Types].xml" in names:
        raise CorruptArchiveError(
            "the upload is an Office file without its main part word/document.xml; "
            "it is damaged or not a DOCX: save it again as DOCX and upload that"
        )
    raise UnsupportedFormatError(
        f"the upload is a ZIP archive of {len(names)} files but neither a DOCX nor an "
        "EPUB; unpack it and upload the story file inside"
    )


def _small_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """The first bytes of a tiny member (like EPUB's ``mimetype``), else b""."""
    try:
        with archive.open(name) as member:
            return member.read(100).strip()
    except (KeyError, zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError):
        return b""


def _first_member_name(data: bytes) -> str:
    """Name of the first member from a ZIP local file header (works on truncated)."""
    if not data.startswith(b"PK\x03\x04") or len(data) < 30:
        return ""
    name_length = int.from_bytes(data[26:28], "little")
    return data[30 : 30 + name_length].decode("utf-8", errors="replace")
