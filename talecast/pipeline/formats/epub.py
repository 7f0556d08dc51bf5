"""EPUB stories: spine order, chapters from the table of contents, cover and metadata.

``META-INF/container.xml`` names the package (OPF) file; its spine gives the reading
order. Chapters come from the EPUB 3 navigation document or the EPUB 2 ``toc.ncx``;
without either, each spine item is a chapter titled by its first heading.
"""

from __future__ import annotations

import logging
import posixpath
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote
from xml.etree import ElementTree

from talecast.errors import CorruptArchiveError
from talecast.pipeline.formats.archive import SafeZip
from talecast.pipeline.formats.common import (
    Mark,
    ReadLimits,
    TextBuilder,
    tile_chapters,
)
from talecast.pipeline.formats.html import HtmlPage, add_page, first_heading, parse_html
from talecast.pipeline.types import Document

logger = logging.getLogger(__name__)

_CONTAINER = "META-INF/container.xml"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
_CONTAINER_NS = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_XML_ENCODING_RE = re.compile(
    rb"<\?xml[^>]{0,200}?encoding=[\"']([A-Za-z0-9_.:-]{1,40})"
)


@dataclass(frozen=True)
class _Item:
    path: str  # inside the archive
    media_type: str
    properties: str


@dataclass(frozen=True)
class _TocEntry:
    title: str
    path: str
    fragment: str


def read_epub(data: bytes, limits: ReadLimits) -> Document:
    """Read an EPUB's text in spine order with its chapters, metadata and cover."""
    archive = SafeZip(data, "EPUB", limits)
    opf_path = _package_path(archive)
    opf = archive.read_xml(opf_path)
    base = posixpath.dirname(opf_path)
    manifest = _manifest(opf, base)
    spine = _spine_paths(opf, manifest)
    # The navigation page is a list of contents, not story text.
    nav_paths = {i.path for i in manifest.values() if "nav" in i.properties.split()}
    spine = [path for path in spine if path not in nav_paths] or spine

    builder = TextBuilder()
    item_starts: dict[str, int] = {}
    anchors: dict[tuple[str, str], int] = {}
    fallback_marks: list[Mark] = []
    for path in spine:
        page = _read_page(archive, path)
        item_starts[path] = builder.next_start()
        before = builder.length
        for anchor, offset in add_page(builder, page, chapter_levels=0).items():
            anchors[(path, anchor)] = offset
        if builder.length > before:
            fallback_marks.append(
                Mark(item_starts[path], first_heading(page), item_starts[path])
            )

    text = builder.text()
    toc = _table_of_contents(archive, opf, manifest, base)
    marks = _toc_marks(toc, item_starts, anchors) or fallback_marks
    cover_image, cover_mime = _cover(archive, opf, manifest)
    return Document(
        text=text,
        chapters=tile_chapters(text, marks),
        title=_metadata(opf, "title"),
        author=_metadata(opf, "creator"),
        source_format="epub",
        cover_image=cover_image,
        cover_mime=cover_mime,
    )


def _package_path(archive: SafeZip) -> str:
    container = archive.read_xml(_CONTAINER)
    rootfile = container.find(f".//{_CONTAINER_NS}rootfile")
    path = rootfile.get("full-path") if rootfile is not None else None
    if not path:
        raise CorruptArchiveError(
            f"the EPUB's {_CONTAINER} names no package file (rootfile full-path); "
            "the EPUB is damaged: export it again from the program that made it"
        )
    return path


def _manifest(opf: ElementTree.Element, base: str) -> dict[str, _Item]:
    items = {}
    for item in opf.iter(f"{_OPF}item"):
        href = item.get("href")
        if item.get("id") and href:
            path = _join(base, href)
            media = item.get("media-type", "")
            items[item.get("id", "")] = _Item(path, media, item.get("properties", ""))
    return items


def _spine_paths(opf: ElementTree.Element, manifest: dict[str, _Item]) -> list[str]:
    paths = []
    for ref in opf.iter(f"{_OPF}itemref"):
        item = manifest.get(ref.get("idref", ""))
        if item is not None and ref.get("linear", "yes") != "no":
            paths.append(item.path)
    if not paths:
        raise CorruptArchiveError(
            "the EPUB's package file lists no readable spine items, so it has no "
            "reading order; export the EPUB again from the program that made it"
        )
    return paths


def _read_page(archive: SafeZip, path: str) -> HtmlPage:
    raw = archive.read(path)
    declared = _XML_ENCODING_RE.match(raw)
    encoding = declared[1].decode("ascii") if declared else "utf-8-sig"
    try:
        markup = raw.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise CorruptArchiveError(
            f"the EPUB page {path!r} is not valid {encoding} text ({exc}); the EPUB "
            "is damaged: export it again from the program that made it"
        ) from exc
    return parse_html(markup)


def _table_of_contents(
    archive: SafeZip, opf: ElementTree.Element, manifest: dict[str, _Item], base: str
) -> list[_TocEntry]:
    nav = next((i for i in manifest.values() if "nav" in i.properties.split()), None)
    if nav is not None and archive.has(nav.path):
        entries = _nav_entries(archive.read(nav.path).decode("utf-8", "replace"), nav)
        if entries:
            return entries
    spine = opf.find(f"{_OPF}spine")
    ncx_id = spine.get("toc", "") if spine is not None else ""
    ncx = manifest.get(ncx_id) or next(
        (i for i in manifest.values() if i.media_type == "application/x-dtbncx+xml"),
        None,
    )
    if ncx is None or not archive.has(ncx.path):
        return []
    root = archive.read_xml(ncx.path)
    entries = []
    for point in root.iter(f"{_NCX}navPoint"):
        label = " ".join(
            "".join(point.findtext(f"{_NCX}navLabel/{_NCX}text") or "").split()
        )
        content = point.find(f"{_NCX}content")
        if content is not None and content.get("src"):
            entries.append(_entry(label, ncx.path, content.get("src", "")))
    return entries


class _NavLinks(HTMLParser):
    """Collects the links inside a nav document's ``toc`` navigation."""

    def __init__(self, nav_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.entries: list[_TocEntry] = []
        self._nav_path = nav_path
        self._in_toc = 0
        self._href: str | None = None
        self._label: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "nav":
            kinds = (values.get("epub:type") or "") + (values.get("role") or "")
            if "toc" in kinds or self._in_toc:
                self._in_toc += 1
        elif tag == "a" and self._in_toc:
            self._href, self._label = values.get("href"), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self._in_toc:
            self._in_toc -= 1
        elif tag == "a" and self._href is not None:
            label = " ".join("".join(self._label).split())
            self.entries.append(_entry(label, self._nav_path, self._href))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._label.append(data)


def _nav_entries(markup: str, nav: _Item) -> list[_TocEntry]:
    """Links of the nav document's ``toc`` navigation, in order."""
    parser = _NavLinks(nav.path)
    parser.feed(markup)
    parser.close()
    return parser.entries


def _entry(label: str, toc_path: str, href: str) -> _TocEntry:
    target, _, fragment = href.partition("#")
    return _TocEntry(
        label, _join(posixpath.dirname(toc_path), target), unquote(fragment)
    )


def _toc_marks(
    toc: list[_TocEntry],
    item_starts: dict[str, int],
    anchors: dict[tuple[str, str], int],
) -> list[Mark]:
    marks = []
    for entry in toc:
        if entry.path not in item_starts:
            continue
        start = anchors.get((entry.path, entry.fragment), item_starts[entry.path])
        marks.append(Mark(start, entry.title or None, start))
    return marks


def _metadata(opf: ElementTree.Element, name: str) -> str | None:
    value = opf.findtext(f"{_OPF}metadata/{_DC}{name}") or opf.findtext(
        f".//{_DC}{name}"
    )
    return " ".join(value.split()) if value and value.strip() else None


def _cover(
    archive: SafeZip, opf: ElementTree.Element, manifest: dict[str, _Item]
) -> tuple[bytes | None, str | None]:
    cover = next(
        (i for i in manifest.values() if "cover-image" in i.properties.split()), None
    )
    if cover is None:
        for meta in opf.iter(f"{_OPF}meta"):
            if meta.get("name") == "cover" and meta.get("content") in manifest:
                cover = manifest[meta.get("content", "")]
    if cover is None or not cover.media_type.startswith("image/"):
        return None, None
    if not archive.has(cover.path):
        logger.warning("reading: EPUB cover %r is missing from the archive", cover.path)
        return None, None
    return archive.read(cover.path), cover.media_type


def _join(base: str, href: str) -> str:
    return posixpath.normpath(posixpath.join(base, unquote(href))).lstrip("/")
