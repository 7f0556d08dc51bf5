"""Builders for small DOCX, EPUB and PDF story files, written byte by byte in Python."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def make_zip(
    members: dict[str, bytes | str], *, stored_first: str | None = None
) -> bytes:
    """A ZIP archive of ``members``; ``stored_first`` is written first, uncompressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first is not None:
            archive.writestr(
                stored_first, members[stored_first], compress_type=zipfile.ZIP_STORED
            )
        for name, content in members.items():
            if name != stored_first:
                archive.writestr(name, content)
    return buffer.getvalue()


def make_docx(
    paragraphs: list[tuple[str, str]],
    *,
    title: str | None = None,
    author: str | None = None,
    document_xml: str | None = None,
) -> bytes:
    """A DOCX whose body holds ``(style, text)`` paragraphs ("" = normal style)."""
    body = []
    for style, text in paragraphs:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        runs = "".join(
            f'<w:r><w:t xml:space="preserve">{escape(part)}</w:t></w:r>'
            + ("<w:r><w:br/></w:r>" if index < text.count("\n") else "")
            for index, part in enumerate(text.split("\n"))
        )
        body.append(f"<w:p>{props}{runs}</w:p>")
    document = document_xml or (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}">'
        f"<w:body>{''.join(body)}</w:body></w:document>"
    )
    members: dict[str, bytes | str] = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types/>',
        "word/document.xml": document,
    }
    if title or author:
        members["docProps/core.xml"] = (
            '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.'
            'openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{escape(title or '')}</dc:title>"
            f"<dc:creator>{escape(author or '')}</dc:creator></cp:coreProperties>"
        )
    return make_zip(members)


def xhtml(body: str, title: str = "page") -> str:
    """A minimal XHTML content document."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"'
        ' xmlns:epub="http://www.idpf.org/2007/ops">'
        f"<head><title>{title}</title></head><body>{body}</body></html>"
    )


def make_epub(
    pages: dict[str, str],
    *,
    nav: list[tuple[str, str]] | None = None,
    ncx: list[tuple[str, str]] | None = None,
    cover: bytes | None = None,
    title: str = "A Story",
    author: str = "Ann Author",
    extra: dict[str, bytes | str] | None = None,
) -> bytes:
    """An EPUB with XHTML ``pages`` (file name -> body) in spine order under OEBPS/.

    ``nav`` (EPUB 3) and ``ncx`` (EPUB 2) are lists of (label, href) entries.
    """
    manifest = [
        f'<item id="p{i}" href="{name}" media-type="application/xhtml+xml"/>'
        for i, name in enumerate(pages)
    ]
    spine = "".join(f'<itemref idref="p{i}"/>' for i in range(len(pages)))
    members: dict[str, bytes | str] = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": (
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" '
            'media-type="application/oebps-package+xml"/></rootfiles></container>'
        ),
    }
    for name, body in pages.items():
        members[f"OEBPS/{name}"] = xhtml(body)
    if nav is not None:
        links = "".join(f'<li><a href="{href}">{label}</a></li>' for label, href in nav)
        members["OEBPS/nav.xhtml"] = xhtml(
            f'<nav epub:type="toc"><ol>{links}</ol></nav>'
        )
        manifest.append(
            '<item id="nav" href="nav.xhtml" properties="nav" '
            'media-type="application/xhtml+xml"/>'
        )
    toc_attr = ""
    if ncx is not None:
        points = "".join(
            f'<navPoint id="n{i}"><navLabel><text>{label}</text></navLabel>'
            f'<content src="{href}"/></navPoint>'
            for i, (label, href) in enumerate(ncx)
        )
        members["OEBPS/toc.ncx"] = (
            '<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" '
            f'version="2005-1"><navMap>{points}</navMap></ncx>'
        )
        manifest.append(
            '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
        )
        toc_attr = ' toc="ncx"'
    if cover is not None:
        members["OEBPS/cover.png"] = cover
        manifest.append(
            '<item id="cover" href="cover.png" media-type="image/png" '
            'properties="cover-image"/>'
        )
    members["OEBPS/content.opf"] = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" '
        'version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{title}</dc:title><dc:creator>{author}</dc:creator></metadata>"
        f"<manifest>{''.join(manifest)}</manifest><spine{toc_attr}>{spine}</spine>"
        "</package>"
    )
    members.update(extra or {})
    return make_zip(members, stored_first="mimetype")


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages show the given lines in Helvetica (an empty list: no text)."""
    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for index, lines in enumerate(pages):
        if lines:
            shown = " ".join(f"({_pdf_string(line)}) Tj T*" for line in lines)
            stream = f"BT /F1 12 Tf 14 TL 72 720 Td {shown} ET".encode()
        else:
            stream = b"0 0 m 200 200 l S"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents "
            + f"{page_ids[index] + 1} 0 R >>".encode()
        )
        objects.append(
            f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream"
        )

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
