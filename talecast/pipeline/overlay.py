"""An EPUB 3 with Media Overlays: the text read along with the narration, every voice.

Each chapter is an XHTML document whose lines are ``<span>`` elements with a class per
speaker (``narrator``, ``speaker-2``, ...), and a SMIL document that pairs each span
with its clip of ``narration.mp3``, on the same exported timeline as every other output.
A reading system with Media Overlays (Thorium, Apple Books) highlights the line being
spoken with the ``-epub-media-overlay-active`` class, so readers see who says what.
"""

from __future__ import annotations

import html
import uuid
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from talecast.pipeline.timedtext import TimedItem

EPUB_NAME = "narration.epub"
AUDIO_HREF = "audio/narration.mp3"
ACTIVE_CLASS = "-epub-media-overlay-active"
_STYLE = """body { font-family: serif; line-height: 1.5; margin: 1em; }
h1 { font-size: 1.4em; }
span.dialogue { font-style: italic; }
.-epub-media-overlay-active { background: #fff1a8; }
"""


def clock(samples: int, rate_hz: int) -> str:
    """A SMIL clock value: ``h:mm:ss.mmm``."""
    ms = samples * 1000 // rate_hz
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def write_overlay_epub(
    path: Path,
    items: Sequence[TimedItem],
    titles: Sequence[str],
    mp3: Path,
    rate_hz: int,
    meta: dict[str, object],
) -> Path:
    """Write the EPUB to ``path``: ``items`` on the timeline of ``mp3``."""
    chapters: list[list[tuple[int, TimedItem]]] = [[] for _ in titles]
    for index, item in enumerate(items):
        chapters[min(item.chapter, len(titles) - 1)].append((index, item))
    speakers = sorted({item.speaker for item in items} - {"Narrator"})
    css = {name: f"speaker-{n}" for n, name in enumerate(speakers, start=1)}
    css["Narrator"] = "narrator"
    title = str(meta.get("title") or "Untitled")
    total = sum(max(0, i.end_sample - i.start_sample) for i in items)

    tmp = path.with_name(f".{path.name}.part")
    with zipfile.ZipFile(tmp, "w") as book:
        # The mimetype entry comes first and uncompressed (OCF 3.0).
        book.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        deflate = zipfile.ZIP_DEFLATED
        book.writestr("META-INF/container.xml", _CONTAINER, deflate)
        book.writestr("EPUB/style.css", _STYLE, deflate)
        book.write(mp3, f"EPUB/{AUDIO_HREF}", zipfile.ZIP_STORED)
        durations = []
        for n, (chapter_title, lines) in enumerate(zip(titles, chapters, strict=True)):
            name = f"chapter-{n + 1:03d}"
            book.writestr(
                f"EPUB/{name}.xhtml", _chapter(chapter_title, lines, css), deflate
            )
            book.writestr(f"EPUB/{name}.smil", _smil(name, lines, rate_hz), deflate)
            durations.append(sum(i.end_sample - i.start_sample for _, i in lines))
        book.writestr("EPUB/nav.xhtml", _nav(title, titles), deflate)
        book.writestr(
            "EPUB/package.opf",
            _package(meta, titles, durations, total, rate_hz, speakers),
            deflate,
        )
    tmp.replace(path)
    return path


def _chapter(
    title: str, lines: list[tuple[int, TimedItem]], css: dict[str, str]
) -> str:
    heading = ""
    if lines and lines[0][1].text.strip() == title.strip():
        heading = f' id="l{lines[0][0]}"'  # the heading line is spoken: it is the <h1>
        lines = lines[1:]
    body: list[str] = [f"<h1{heading}>{html.escape(title)}</h1>"]
    paragraph: list[str] = []

    def close() -> None:
        if paragraph:
            body.append("<p>" + " ".join(paragraph) + "</p>")
            paragraph.clear()

    for index, item in lines:
        if item.paragraph:
            close()
        text = html.escape(item.text)
        if item.kind == "dialogue":
            text = f"\u201c{text}\u201d"
        classes = f"{css[item.speaker]} {item.kind}"
        speaker = html.escape(item.speaker, quote=True)
        paragraph.append(
            f'<span id="l{index}" class="{classes}" title="{speaker}">{text}</span>'
        )
    close()
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" '
        'xmlns:epub="http://www.idpf.org/2007/ops" lang="en" xml:lang="en">\n'
        f"<head><title>{html.escape(title)}</title>"
        '<link rel="stylesheet" type="text/css" href="style.css"/></head>\n'
        "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _smil(name: str, lines: list[tuple[int, TimedItem]], rate_hz: int) -> str:
    pars = []
    for index, item in lines:
        pars.append(
            f'<par id="p{index}"><text src="{name}.xhtml#l{index}"/>'
            f'<audio src="{AUDIO_HREF}" '
            f'clipBegin="{clock(item.start_sample, rate_hz)}" '
            f'clipEnd="{clock(item.end_sample, rate_hz)}"/></par>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<smil xmlns="http://www.w3.org/ns/SMIL" '
        'xmlns:epub="http://www.idpf.org/2007/ops" version="3.0">\n'
        f'<body><seq id="s-{name}" epub:textref="{name}.xhtml">\n'
        + "\n".join(pars)
        + "\n</seq></body>\n</smil>\n"
    )


def _nav(title: str, titles: Sequence[str]) -> str:
    entries = "\n".join(
        f'<li><a href="chapter-{n + 1:03d}.xhtml">{html.escape(t)}</a></li>'
        for n, t in enumerate(titles)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" '
        'xmlns:epub="http://www.idpf.org/2007/ops" lang="en" xml:lang="en">\n'
        f"<head><title>{html.escape(title)}</title></head>\n"
        f'<body><nav epub:type="toc" id="toc"><h1>{html.escape(title)}</h1>'
        f"<ol>\n{entries}\n</ol></nav></body>\n</html>\n"
    )


def _package(
    meta: dict[str, object],
    titles: Sequence[str],
    durations: list[int],
    total: int,
    rate_hz: int,
    speakers: list[str],
) -> str:
    title = html.escape(str(meta.get("title") or "Untitled"))
    author = meta.get("author")
    narrator = meta.get("narrator")
    modified = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    book_id = uuid.uuid5(uuid.NAMESPACE_URL, f"talecast:{title}:{author}")
    items = [
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
        'properties="nav"/>',
        '<item id="css" href="style.css" media-type="text/css"/>',
        f'<item id="audio" href="{AUDIO_HREF}" media-type="audio/mpeg"/>',
    ]
    spine = []
    durations_meta = [
        f'<meta property="media:duration">{clock(total, rate_hz)}</meta>',
        f'<meta property="media:active-class">{ACTIVE_CLASS}</meta>',
    ]
    for n, _ in enumerate(titles):
        name = f"chapter-{n + 1:03d}"
        items.append(
            f'<item id="{name}" href="{name}.xhtml" media-type="application/xhtml+xml" '
            f'media-overlay="{name}-overlay"/>'
        )
        items.append(
            f'<item id="{name}-overlay" href="{name}.smil" '
            'media-type="application/smil+xml"/>'
        )
        spine.append(f'<itemref idref="{name}"/>')
        durations_meta.append(
            f'<meta property="media:duration" refines="#{name}-overlay">'
            f"{clock(durations[n], rate_hz)}</meta>"
        )
    creators = f"<dc:creator>{html.escape(str(author))}</dc:creator>" if author else ""
    voices = ", ".join(["Narrator", *speakers])
    narrated = (
        f'<meta property="media:narrator">{html.escape(str(narrator))} '
        "(synthetic Talecast voice)</meta>"
        if narrator
        else ""
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="book-id" xml:lang="en">\n'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f'<dc:identifier id="book-id">urn:uuid:{book_id}</dc:identifier>\n'
        f"<dc:title>{title}</dc:title>\n<dc:language>en</dc:language>\n{creators}\n"
        f"<dc:description>Read along, voices: {html.escape(voices)}</dc:description>\n"
        f'<meta property="dcterms:modified">{modified}</meta>\n{narrated}\n'
        + "\n".join(durations_meta)
        + "\n</metadata>\n<manifest>\n"
        + "\n".join(items)
        + "\n</manifest>\n<spine>\n"
        + "\n".join(spine)
        + "\n</spine>\n</package>\n"
    )


_CONTAINER = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
    '<rootfiles><rootfile full-path="EPUB/package.opf" '
    'media-type="application/oebps-package+xml"/></rootfiles></container>\n'
)
