"""Line planning: narration sentences, quotes and pauses in reading order."""

from talecast.pipeline.script import (
    PAUSE_CHAPTER_MS,
    PAUSE_PARAGRAPH_MS,
    plan_lines,
)
from talecast.pipeline.types import (
    NARRATOR,
    Attribution,
    Chapter,
    Document,
    Quote,
    Utterance,
)


def _quote(text: str, inner: str, group: int = 0) -> Quote:
    start = text.index('"' + inner)
    return Quote(start, start + len(inner) + 2, inner, group, 0)


def _doc(text: str, chapters=None) -> Document:
    return Document(text, chapters or [Chapter(None, 0, len(text))])


def test_plan_lines_interleaves_narration_and_quotes_in_order():
    text = 'Ann came in. "Hello," said Ann. "Is Bob here?"\n\n"No," said Cy.'
    quotes = [_quote(text, "Hello,"), _quote(text, "Is Bob here?"), _quote(text, "No,")]
    speakers = ["Ann", "Ann", "Cy"]
    attribution = Attribution(
        [], [Utterance(q, s, 0.9) for q, s in zip(quotes, speakers, strict=True)]
    )
    lines = plan_lines(_doc(text), attribution)
    assert [(ln.kind, ln.speaker, ln.text) for ln in lines] == [
        ("narration", NARRATOR, "Ann came in."),
        ("dialogue", "Ann", "Hello,"),
        ("narration", NARRATOR, "said Ann."),
        ("dialogue", "Ann", "Is Bob here?"),
        ("dialogue", "Cy", "No,"),
        ("narration", NARRATOR, "said Cy."),
    ]
    starts = [ln.start_char for ln in lines]
    assert starts == sorted(starts)
    assert lines[4].pause_before_ms >= PAUSE_PARAGRAPH_MS


def test_plan_lines_keeps_abbreviations_inside_one_sentence():
    text = "Mr. Hale and Dr. Quill walked on. The sea was calm."
    lines = plan_lines(_doc(text), Attribution([], []))
    assert [ln.text for ln in lines] == [
        "Mr. Hale and Dr. Quill walked on.",
        "The sea was calm.",
    ]


def test_plan_lines_reads_chapter_title_once_with_a_pause_between_chapters():
    text = "CHAPTER I\n\nIt rained.\n\nCHAPTER II\n\nIt snowed."
    second = text.index("CHAPTER II")
    chapters = [
        Chapter("CHAPTER I", 0, second),
        Chapter("CHAPTER II", second, len(text)),
    ]
    lines = plan_lines(_doc(text, chapters), Attribution([], []))
    assert [(ln.kind, ln.text) for ln in lines] == [
        ("heading", "CHAPTER I"),
        ("narration", "It rained."),
        ("heading", "CHAPTER II"),
        ("narration", "It snowed."),
    ]
    assert lines[2].pause_before_ms >= PAUSE_CHAPTER_MS
    assert [ln.chapter for ln in lines] == [0, 0, 1, 1]


def test_plan_lines_without_dialogue_is_all_narrator():
    text = "One day. Another day.\n\nThe end."
    lines = plan_lines(_doc(text), Attribution([], []))
    assert {ln.speaker for ln in lines} == {NARRATOR}
    assert len(lines) == 3


def test_plan_lines_reads_a_book_title_above_the_first_heading_once_before_it():
    text = (
        "The Long Night\n\nChapter One. Dusk\n\nIt grew dark.\n\nChapter Two\n\nDawn."
    )
    second = text.index("Chapter Two")
    chapters = [
        Chapter("Chapter One. Dusk", 0, second),
        Chapter("Chapter Two", second, len(text)),
    ]
    lines = plan_lines(_doc(text, chapters), Attribution([], []))
    assert [(ln.kind, ln.text) for ln in lines] == [
        ("narration", "The Long Night"),
        ("heading", "Chapter One. Dusk"),
        ("narration", "It grew dark."),
        ("heading", "Chapter Two"),
        ("narration", "Dawn."),
    ]
    heading = lines[1]
    assert text[heading.start_char : heading.end_char] == "Chapter One. Dusk"
    assert heading.pause_before_ms > 0


def test_full_cast_mode_drops_narration_that_only_names_the_speaker():
    text = (
        '"Come in," said Ann. "It is late."\n\n'
        '"Thank you," Bob replied, shaking the rain from his coat.\n\n'
        'Ann said quietly, "Sit by the fire."\n\n'
        '"I will," thought Bob.'
    )
    quotes = [
        _quote(text, "Come in,", 0),
        _quote(text, "It is late.", 0),
        _quote(text, "Thank you,", 1),
        _quote(text, "Sit by the fire.", 2),
        _quote(text, "I will,", 3),
    ]
    speakers = ["Ann", "Ann", "Bob", "Ann", "Bob"]
    attribution = Attribution(
        [], [Utterance(q, s, 0.9) for q, s in zip(quotes, speakers, strict=True)]
    )
    faithful = plan_lines(_doc(text), attribution)
    dropped: list = []
    full_cast = plan_lines(_doc(text), attribution, dropped)
    assert [ln.text for ln in dropped] == ["said Ann.", "Ann said quietly,"]
    assert [ln.text for ln in full_cast] == [
        ln.text for ln in faithful if ln.text not in ("said Ann.", "Ann said quietly,")
    ]
    # A tag with more to say, and a thought, stay.
    assert "Bob replied, shaking the rain from his coat." in [
        ln.text for ln in full_cast
    ]
    assert "thought Bob." in [ln.text for ln in full_cast]
