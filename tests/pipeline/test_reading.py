"""Story reading: every format, chapter detection and every kind of bad input."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import pypdf
import pytest
from story_builders import make_docx, make_epub, make_pdf, make_zip

from talecast.errors import (
    CorruptArchiveError,
    CorruptPdfError,
    EmptyStoryError,
    NoTextLayerError,
    StoryDecodeError,
    StoryInputError,
    StoryTooLargeError,
    UnsupportedFormatError,
)
from talecast.pipeline.reading import (
    ReadLimits,
    read_story,
    read_story_file,
    sniff_format,
)
from talecast.pipeline.types import Document

EMMA = Path("/work/shared/eval/pdnc/Emma/novel.txt")
PROSE = (
    "The rain had not stopped for three days, and the river was rising fast along "
    "the old stone wall behind the mill where the children used to play."
)


def assert_tiles(doc: Document) -> None:
    """Chapters cover the text from start to end with no gaps and no overlaps."""
    assert doc.chapters, "a document has at least one chapter"
    assert doc.chapters[0].start_char == 0
    assert doc.chapters[-1].end_char == len(doc.text)
    for before, after in zip(doc.chapters, doc.chapters[1:], strict=False):
        assert before.end_char == after.start_char
        assert before.start_char < before.end_char


def chapter_texts(doc: Document) -> list[str]:
    return [doc.text[c.start_char : c.end_char] for c in doc.chapters]


# --- telling formats apart -------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"Once upon a time there was a fox.\n", "text"),
        (b"# The Fox\n\nOnce upon a *time*.\n", "markdown"),
        (b"<!DOCTYPE html><html><body><p>Once.</p></body></html>", "html"),
        (make_docx([("", "Once.")]), "docx"),
        (make_epub({"a.xhtml": "<p>Once.</p>"}), "epub"),
        (make_pdf([["Once."]]), "pdf"),
    ],
)
def test_sniff_format_tells_the_kind_from_content_alone(data: bytes, kind: str) -> None:
    assert sniff_format(data) == kind


def test_sniff_format_leaves_gutenberg_underscore_emphasis_as_plain_text() -> None:
    data = b"CHAPTER I\n\nBetween _them_ it was more the intimacy of sisters.\n"
    assert sniff_format(data) == "text"


# --- plain text --------------------------------------------------------------------


def test_reader_keeps_plain_utf8_text_exactly_with_crlf_line_endings() -> None:
    raw = "CHAPTER I\r\n\r\n\u201cHello,\u201d said Zo\u00eb.\r\n  Indented line.\r\n"
    doc = read_story(raw.encode("utf-8"))
    assert doc.text == raw
    assert doc.source_format == "text"
    assert_tiles(doc)


def test_reader_drops_only_the_utf8_byte_order_mark() -> None:
    doc = read_story(b"\xef\xbb\xbfCaf\xc3\xa9 au lait.\n")
    assert doc.text == "Café au lait.\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_reader_decodes_utf16_and_utf32_with_a_byte_order_mark(encoding: str) -> None:
    raw = "\u201cWhere?\u201d asked Jos\u00e9.\n"
    data = raw.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    assert read_story(data).text == raw


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ("\u201cC\u2019est la vie,\u201d dit-il \u00e0 la fen\u00eatre.\n", "cp1252"),
        ("Il \u00e9tait une fois un gar\u00e7on tr\u00e8s \u00e2g\u00e9.\n", "latin-1"),
        (
            "Жили-были дед да баба. Была у них курочка Ряба.\n" * 30,
            "cp1251",
        ),
    ],
)
def test_reader_decodes_legacy_8bit_text(raw: str, encoding: str) -> None:
    assert read_story(raw.encode(encoding)).text == raw


def test_reader_finds_chapter_headings_of_many_shapes() -> None:
    text = (
        f"CHAPTER IV\n\n{PROSE}\n\n"
        f"Chapter 12. The Ball\n\n{PROSE}\n\n"
        f"Chapter One\n\n{PROSE}\n\n"
        f"PART TWO\n\nCHAPTER I.\nDown the Hill\n\n\n{PROSE}\n\n"
        f"Chapter the Last\n\n{PROSE}\n"
    )
    doc = read_story(text.encode())
    assert [c.title for c in doc.chapters] == [
        "CHAPTER IV",
        "Chapter 12. The Ball",
        "Chapter One",
        "PART TWO, CHAPTER I. Down the Hill",
        "Chapter the Last",
    ]
    assert chapter_texts(doc)[1].startswith("Chapter 12. The Ball\n")
    assert_tiles(doc)


def test_reader_does_not_take_a_sentence_starting_with_chapter_for_a_heading() -> None:
    text = (
        f"CHAPTER I\n\n{PROSE}\n\n"
        "Chapter 3 was where the story turned, she thought.\n\n"
        "Chapter five of the report said nothing\nabout the river at all.\n\n"
        f"{PROSE}\n"
    )
    doc = read_story(text.encode())
    assert [c.title for c in doc.chapters] == ["CHAPTER I"]


def test_reader_folds_a_title_page_into_the_first_chapter() -> None:
    text = (
        f"THE FOX\n\nBy Ann Author\n\n\nCHAPTER I\n\n{PROSE}\n\nCHAPTER II\n\n{PROSE}\n"
    )
    doc = read_story(text.encode())
    assert [c.title for c in doc.chapters] == ["CHAPTER I", "CHAPTER II"]
    assert doc.chapters[0].start_char == 0


def test_reader_keeps_a_prose_foreword_as_its_own_chapter() -> None:
    text = f"{PROSE}\n\nCHAPTER I\n\n{PROSE}\n"
    doc = read_story(text.encode())
    assert [c.title for c in doc.chapters] == [None, "CHAPTER I"]
    assert chapter_texts(doc)[0].strip() == PROSE


def test_reader_makes_one_untitled_chapter_of_a_story_without_headings() -> None:
    doc = read_story(f"{PROSE}\n\n{PROSE}\n".encode())
    assert [(c.title, c.start_char, c.end_char) for c in doc.chapters] == [
        (None, 0, len(doc.text))
    ]


@pytest.mark.skipif(not EMMA.exists(), reason="evaluation novels not present")
def test_reader_reads_emma_exactly_and_finds_its_chapters() -> None:
    doc = read_story_file(EMMA)
    assert doc.text == EMMA.read_bytes().decode("utf-8")
    assert len(doc.chapters) == 55
    assert doc.chapters[0].title == "VOLUME I, CHAPTER I"
    assert_tiles(doc)


def test_reader_reads_a_megabyte_novel_in_well_under_half_a_second() -> None:
    chapters = [f"CHAPTER {n}\n\n" + (PROSE + "\n") * 40 for n in range(1, 200)]
    data = "\n\n".join(chapters).encode()[: 1024 * 1024]
    read_story(data)  # warm the imports and regex caches
    started = time.perf_counter()
    doc = read_story(data)
    assert time.perf_counter() - started < 0.25
    assert len(doc.chapters) > 150


# --- Markdown and HTML -------------------------------------------------------------


def test_reader_strips_markdown_and_starts_chapters_at_headings() -> None:
    data = (
        b"---\ntitle: The Fox\nauthor: Ann Author\n---\n"
        b"# Chapter 1\n\nThe fox was **very** quick and\n*rather* clever.\n\n"
        b"See [the map](http://example.com/map) ![a map](map.png).\n\n"
        b'## Chapter 2\n\n> "Run," said the hen.\n\n- one item\n- two `items`\n'
    )
    doc = read_story(data)
    assert doc.source_format == "markdown"
    assert (doc.title, doc.author) == ("The Fox", "Ann Author")
    assert doc.text == (
        "Chapter 1\n\nThe fox was very quick and rather clever.\n\nSee the map .\n\n"
        'Chapter 2\n\n"Run," said the hen.\n\none item\n\ntwo items'
    )
    assert [c.title for c in doc.chapters] == ["Chapter 1", "Chapter 2"]
    assert_tiles(doc)


def test_reader_reads_html_text_without_scripts_and_splits_on_h1_h2() -> None:
    data = (
        b"<!DOCTYPE html><html><head><title>The Fox</title>"
        b'<meta name="author" content="Ann Author"><style>p {color: red}</style>'
        b"</head><body><h1>Part &amp; Parcel</h1><p>The fox\n   ran.<br>Far.</p>"
        b"<script>alert('x')</script><h2>Second</h2><div>The hen &ldquo;sang&rdquo;."
        b"</div><h3>Not a chapter</h3><p>End.</p></body></html>"
    )
    doc = read_story(data)
    assert doc.text == (
        "Part & Parcel\n\nThe fox ran.\nFar.\n\nSecond\n\nThe hen \u201csang\u201d."
        "\n\nNot a chapter\n\nEnd."
    )
    assert [c.title for c in doc.chapters] == ["Part & Parcel", "Second"]
    assert (doc.title, doc.author) == ("The Fox", "Ann Author")


# --- DOCX, EPUB, PDF ---------------------------------------------------------------


def test_reader_reads_docx_paragraphs_headings_and_core_title() -> None:
    data = make_docx(
        [
            ("Title", "The Fox"),
            ("Heading1", "Chapter One"),
            ("", "The fox ran.\nThen it stopped."),
            ("", "   "),
            ("Heading2", "Chapter Two"),
            ("", "The hen sang."),
        ],
        title="The Fox (core)",
        author="Ann Author",
    )
    doc = read_story(data)
    assert doc.source_format == "docx"
    assert doc.text == (
        "The Fox\n\nChapter One\n\nThe fox ran.\nThen it stopped.\n\n"
        "Chapter Two\n\nThe hen sang."
    )
    assert [c.title for c in doc.chapters] == ["Chapter One", "Chapter Two"]
    assert (doc.title, doc.author) == ("The Fox (core)", "Ann Author")
    assert_tiles(doc)


def test_reader_reads_epub3_chapters_from_nav_with_fragments_and_cover() -> None:
    pages = {
        "cover.xhtml": '<img src="cover.png" alt="cover"/>',
        "c1.xhtml": "<h1>One</h1><p>The fox ran.</p><h2 id='b'>Two</h2><p>It hid.</p>",
        "c2.xhtml": "<h1>Three</h1><p>The hen sang.</p>",
    }
    nav = [("One", "c1.xhtml"), ("Two", "c1.xhtml#b"), ("Three", "c2.xhtml")]
    doc = read_story(make_epub(pages, nav=nav, cover=b"\x89PNG-cover"))
    assert doc.text == "One\n\nThe fox ran.\n\nTwo\n\nIt hid.\n\nThree\n\nThe hen sang."
    assert [c.title for c in doc.chapters] == ["One", "Two", "Three"]
    assert chapter_texts(doc)[1] == "Two\n\nIt hid.\n\n"
    assert (doc.title, doc.author) == ("A Story", "Ann Author")
    assert (doc.cover_image, doc.cover_mime) == (b"\x89PNG-cover", "image/png")


def test_reader_reads_epub2_chapters_from_toc_ncx() -> None:
    pages = {"a.xhtml": "<p>The fox ran.</p>", "b.xhtml": "<p>The hen sang.</p>"}
    ncx = [("The Fox", "a.xhtml"), ("The Hen", "b.xhtml")]
    doc = read_story(make_epub(pages, ncx=ncx))
    assert [(c.title, chapter_texts(doc)[i]) for i, c in enumerate(doc.chapters)] == [
        ("The Fox", "The fox ran.\n\n"),
        ("The Hen", "The hen sang."),
    ]


def test_reader_titles_epub_spine_items_by_first_heading_without_a_toc() -> None:
    pages = {
        "a.xhtml": "<h2>Fox</h2><p>The fox ran.</p>",
        "blank.xhtml": "<div> </div>",
        "b.xhtml": "<p>The hen sang.</p>",
    }
    doc = read_story(make_epub(pages))
    assert [c.title for c in doc.chapters] == ["Fox", None]
    assert_tiles(doc)


def test_reader_reads_a_pdf_text_layer_with_chapters() -> None:
    data = make_pdf(
        [["CHAPTER I.", "", "The fox (a red one) ran."], ["CHAPTER II.", "It hid."]]
    )
    doc = read_story(data)
    assert doc.source_format == "pdf"
    assert "The fox (a red one) ran." in doc.text
    assert [c.title for c in doc.chapters] == ["CHAPTER I.", "CHAPTER II."]
    assert_tiles(doc)


def test_read_story_file_reads_any_name_by_content(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(make_docx([("", "The fox ran.")]))
    assert read_story_file(path).text == "The fox ran."


# --- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b" \n\t\r\n", b"\xef\xbb\xbf  \n", "  ".encode("utf-16")]
)
def test_reader_rejects_empty_or_blank_story(data: bytes) -> None:
    with pytest.raises(EmptyStoryError, match="upload a file that contains"):
        read_story(data)


def test_reader_rejects_documents_that_hold_no_text() -> None:
    with pytest.raises(EmptyStoryError, match="docx file holds no readable text"):
        read_story(make_docx([("", "  ")]))


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(64), "ELF program"),
        (b"Some words\x00\x01\x02 then binary" * 50, "NUL byte"),
        (bytes(range(1, 32)) * 100, "control characters"),
        (make_zip({"notes/readme.txt": "hello"}), "neither a DOCX nor an EPUB"),
    ],
)
def test_reader_rejects_binary_data_naming_what_it_looks_like(
    data: bytes, named: str
) -> None:
    with pytest.raises(UnsupportedFormatError, match=named):
        read_story(data)


def test_reader_rejects_text_whose_encoding_is_broken() -> None:
    data = b"\xff\xfe" + "Hello".encode("utf-16-le") + b"\x00\xd8A\x00"
    with pytest.raises(StoryDecodeError, match="save the file as UTF-8"):
        read_story(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "Zo\u00eb said \u201chi\u201d. ".encode() * 20 + b"\xff!",
            "1 invalid byte sequence.*offset 400 \\(0xff\\)",
        ),
        (bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D, 0x41]) * 50, "no known language"),
    ],
)
def test_reader_rejects_text_it_cannot_decode_saying_where(
    data: bytes, message: str
) -> None:
    with pytest.raises(StoryDecodeError, match=message):
        read_story(data)


def test_reader_rejects_a_truncated_docx_as_corrupt() -> None:
    data = make_docx([("", PROSE)] * 20)
    with pytest.raises(CorruptArchiveError, match="export it again"):
        read_story(data[: len(data) // 2])


def test_reader_rejects_office_zip_without_its_main_part() -> None:
    data = make_zip({"[Content_Types].xml": "<Types/>", "docProps/app.xml": "<x/>"})
    with pytest.raises(CorruptArchiveError, match="word/document.xml"):
        read_story(data)


def test_reader_rejects_epub_without_its_container() -> None:
    data = make_zip(
        {"mimetype": "application/epub+zip", "OEBPS/a.xhtml": "<p>x</p>"},
        stored_first="mimetype",
    )
    with pytest.raises(CorruptArchiveError, match="META-INF/container.xml"):
        read_story(data)


@pytest.mark.parametrize(
    "document_xml",
    [
        "<w:document><w:body><w:p>unclosed</w:body>",
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;">]><d>&b;</d>',
    ],
)
def test_reader_rejects_malformed_or_entity_laden_xml(document_xml: str) -> None:
    with pytest.raises(CorruptArchiveError, match="word/document.xml"):
        read_story(make_docx([], document_xml=document_xml))


def test_reader_stops_an_archive_that_expands_past_the_limit() -> None:
    bomb = make_docx([("", "x" * 3_000_000)])
    assert len(bomb) < 50_000
    limits = ReadLimits(max_expanded_bytes=1_000_000)
    with pytest.raises(StoryTooLargeError, match="limit of 1,000,000 bytes"):
        read_story(bomb, limits=limits)


def test_reader_does_not_trust_an_archive_header_that_understates_sizes() -> None:
    bomb = make_docx([("", "x" * 3_000_000)])
    real = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("word/document.xml")
    lied = bytearray(bomb)
    small = (1000).to_bytes(4, "little")
    for header in re.finditer(rb"PK\x01\x02", bomb):  # central directory entries
        if lied[header.start() + 24 : header.start() + 28] == real.file_size.to_bytes(
            4, "little"
        ):
            lied[header.start() + 24 : header.start() + 28] = small
    started = time.perf_counter()
    with pytest.raises((CorruptArchiveError, StoryTooLargeError)):
        read_story(bytes(lied), limits=ReadLimits(max_expanded_bytes=1_000_000))
    assert time.perf_counter() - started < 1.0


def test_reader_rejects_raw_input_over_the_size_limit(tmp_path: Path) -> None:
    limits = ReadLimits(max_input_bytes=1000)
    with pytest.raises(StoryTooLargeError, match="over the limit of 1,000"):
        read_story(b"a" * 1001, limits=limits)
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * 1001)
    with pytest.raises(StoryTooLargeError):
        read_story_file(path, limits=limits)


def test_reader_rejects_text_over_the_character_limit() -> None:
    with pytest.raises(StoryTooLargeError, match="characters"):
        read_story(b"word " * 300, limits=ReadLimits(max_text_chars=1000))


def test_reader_reads_a_single_fifty_megabyte_line_in_linear_time() -> None:
    data = b"Chapter and word " * (50_000_000 // 17)
    started = time.perf_counter()
    with pytest.raises(StoryTooLargeError, match="20,000,000"):
        read_story(data)  # default limits: too many characters, said quickly
    assert time.perf_counter() - started < 2.0

    started = time.perf_counter()
    doc = read_story(data, limits=ReadLimits(max_text_chars=60_000_000))
    elapsed = time.perf_counter() - started
    assert len(doc.text) == len(data)
    assert len(doc.chapters) == 1
    assert elapsed < 3.0


def test_reader_rejects_a_pdf_without_a_text_layer() -> None:
    with pytest.raises(
        NoTextLayerError, match="has 3 pages but no text layer; run OCR"
    ):
        read_story(make_pdf([[], [], []]))


def test_reader_rejects_a_damaged_pdf() -> None:
    data = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\nendobj\n%%EOF"
    with pytest.raises(CorruptPdfError, match="PDF"):
        read_story(data)


def test_read_story_file_reports_a_missing_file_clearly(tmp_path: Path) -> None:
    with pytest.raises(StoryInputError, match="cannot read the story file"):
        read_story_file(tmp_path / "missing.txt")


def test_reader_skips_the_epub_nav_page_and_resolves_relative_links() -> None:
    pages = {"text/a.xhtml": "<h1>Fox</h1><p>The fox ran.</p>"}
    data = make_epub(pages, nav=[("The Fox", "text/a.xhtml#top")])
    # Put the nav page into the spine, as many EPUB 3 books do.
    data = data.replace(
        b'<itemref idref="p0"/>', b'<itemref idref="nav"/><itemref idref="p0"/>'
    )
    doc = read_story(data)
    assert doc.text == "Fox\n\nThe fox ran."
    assert [c.title for c in doc.chapters] == ["The Fox"]


def test_reader_reads_docx_paragraphs_inside_tables_and_deep_nesting() -> None:
    cell = "<w:p><w:r><w:t>In a cell.</w:t></w:r></w:p>"
    deep = "<w:sdt>" * 3000 + cell + "</w:sdt>" * 3000
    document = (
        '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
        'wordprocessingml/2006/main"><w:body><w:tbl><w:tr><w:tc>'
        f"{cell}</w:tc></w:tr></w:tbl>{deep}</w:body></w:document>"
    )
    doc = read_story(make_docx([], document_xml=document))
    assert doc.text == "In a cell.\n\nIn a cell."


def test_reader_takes_pdf_chapters_from_its_outline() -> None:
    source = make_pdf([["Front page"], ["The Fox", "It ran."], ["The Hen", "It sang."]])
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(source)))
    writer.add_outline_item(title="The Fox", page_number=1)
    writer.add_outline_item(title="The Hen", page_number=2)
    buffer = io.BytesIO()
    writer.write(buffer)
    doc = read_story(buffer.getvalue())
    assert [c.title for c in doc.chapters] == ["The Fox", "The Hen"]
    assert chapter_texts(doc)[1].startswith("The Hen")
    assert_tiles(doc)


def test_reader_rejects_binary_data_hidden_after_a_text_start() -> None:
    data = b"A perfectly normal start.\n" * 5000 + b"\x00\x01\x02" * 10
    with pytest.raises(UnsupportedFormatError, match="NUL character at offset 130000"):
        read_story(data)


def test_reader_finds_an_epub2_cover_named_by_opf_meta() -> None:
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" '
        'version="2.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:opf="http://www.idpf.org/2007/opf"><dc:title>Old Tale</dc:title>'
        '<meta name="cover" content="img"/></metadata><manifest>'
        '<item id="p0" href="a.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="img" href="images/c.jpg" media-type="image/jpeg"/></manifest>'
        '<spine><itemref idref="p0"/></spine></package>'
    )
    extra: dict[str, bytes | str] = {
        "OEBPS/content.opf": opf,
        "OEBPS/images/c.jpg": b"\xff\xd8\xffcover",
    }
    doc = read_story(make_epub({"a.xhtml": "<p>The fox ran.</p>"}, extra=extra))
    assert (doc.title, doc.author) == ("Old Tale", None)
    assert (doc.cover_image, doc.cover_mime) == (b"\xff\xd8\xffcover", "image/jpeg")


def test_reader_rejects_epub_whose_spine_names_a_missing_file() -> None:
    source = zipfile.ZipFile(io.BytesIO(make_epub({"a.xhtml": "<p>The fox ran.</p>"})))
    members: dict[str, bytes | str] = {n: source.read(n) for n in source.namelist()}
    opf = source.read("OEBPS/content.opf").replace(b'"a.xhtml"', b'"gone.xhtml"')
    members["OEBPS/content.opf"] = opf
    data = make_zip(members, stored_first="mimetype")
    with pytest.raises(CorruptArchiveError, match="gone.xhtml"):
        read_story(data)


def test_reader_keeps_escaped_markdown_characters_literally() -> None:
    doc = read_story(b"# Sums\n\nTwo \\* three is *six*, not \\_seven\\_.\n")
    assert doc.text == "Sums\n\nTwo * three is six, not _seven_."


def test_reader_strips_long_lines_of_unmatched_markdown_markers_quickly() -> None:
    data = b"# Noise\n\n" + b"**a [b]( <c `d " * 60_000
    started = time.perf_counter()
    doc = read_story(data)
    assert time.perf_counter() - started < 3.0
    assert doc.text.startswith("Noise\n\n**a [b](")


def test_reader_honours_the_encoding_an_epub_page_declares() -> None:
    page = (
        '<?xml version="1.0" encoding="iso-8859-1"?><html><body>'
        "<p>Caf\u00e9 cr\u00e8me.</p></body></html>"
    ).encode("iso-8859-1")
    base = zipfile.ZipFile(io.BytesIO(make_epub({"a.xhtml": "<p>x</p>"})))
    members: dict[str, bytes | str] = {n: base.read(n) for n in base.namelist()}
    members["OEBPS/a.xhtml"] = page
    doc = read_story(make_zip(members, stored_first="mimetype"))
    assert doc.text == "Caf\u00e9 cr\u00e8me."


def test_reader_puts_the_gutenberg_licence_in_a_chapter_of_its_own() -> None:
    text = (
        f"CHAPTER I\n\n{PROSE}\n\nCHAPTER II\n\n{PROSE}\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK THE FOX ***\n\n"
        "Updated editions will replace the previous one. CHAPTER 5 of the terms.\n"
    )
    doc = read_story(text.encode())
    assert doc.text == text
    assert [c.title for c in doc.chapters] == [
        "CHAPTER I",
        "CHAPTER II",
        "Project Gutenberg licence",
    ]
    assert chapter_texts(doc)[2].startswith("*** END OF THE PROJECT GUTENBERG")
