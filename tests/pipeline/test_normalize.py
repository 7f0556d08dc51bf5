"""Text normalisation for speech and splitting into engine-sized pieces."""

from __future__ import annotations

import pytest

from talecast.pipeline.normalize import (
    cardinal,
    normalize_for_speech,
    ordinal,
    roman_to_int,
    split_for_synthesis,
    year,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Holmes", "Mister Holmes"),
        ("Mrs. Hudson and Dr. Watson", "Missus Hudson and Doctor Watson"),
        ("Mr Thorne", "Mister Thorne"),
        ("St. Paul's", "Saint Paul's"),
        ("on Baker St. today", "on Baker Street today"),
        ("on Main St. Then he left.", "on Main Street. Then he left."),
        (
            "at 5th St. and the church of St. Mary",
            "at fifth Street and the church of Saint Mary",
        ),
        ("the old st. gate", "the old st. gate"),
        ("Prof. Moriarty", "Professor Moriarty"),
        ("apples, pears, etc. and more", "apples, pears, et cetera and more"),
    ],
)
def test_normalize_expands_titles_and_abbreviations(text: str, expected: str) -> None:
    assert normalize_for_speech(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42 ships", "forty-two ships"),
        ("1,250 people", "one thousand two hundred and fifty people"),
        ("the 1st and 2nd", "the first and second"),
        (
            "his 3rd, 21st and 112th",
            "his third, twenty-first and one hundred and twelfth",
        ),
        ("in 1815", "in eighteen fifteen"),
        ("in 1900", "in nineteen hundred"),
        ("in 1905", "in nineteen oh five"),
        ("in 2023", "in twenty twenty-three"),
        ("the 1960s", "the nineteen sixties"),
        ("£5", "five pounds"),
        ("£1", "one pound"),
        ("$3.50", "three dollars and fifty cents"),
        ("$0.99", "ninety-nine cents"),
        ("£2 million", "two million pounds"),
        ("45%", "forty-five percent"),
        ("3.5%", "three point five percent"),
        ("pi is 3.14", "pi is three point one four"),
        ("at 7:30", "at seven thirty"),
        ("pages 12–15", "pages twelve to fifteen"),
    ],
)
def test_normalize_reads_numbers_money_and_percentages(
    text: str, expected: str
) -> None:
    assert normalize_for_speech(text) == expected


def test_normalize_reads_roman_numerals_in_headings_only() -> None:
    assert normalize_for_speech("Chapter IV") == "Chapter four"
    assert normalize_for_speech("CHAPTER XII. The Storm") == "CHAPTER twelve. The Storm"
    assert normalize_for_speech("Part II: the return") == "Part two: the return"
    assert normalize_for_speech("I said I would.") == "I said I would."
    assert normalize_for_speech("the letter I wrote") == "the letter I wrote"
    assert normalize_for_speech("This Part I like.") == "This Part I like."
    assert normalize_for_speech("IV\n\nThe night fell.") == "Four. The night fell."


def test_normalize_turns_heading_lines_into_sentences() -> None:
    text = "Chapter IV\nThe Lighthouse\n\nIt was dark."
    assert normalize_for_speech(text) == "Chapter four. The Lighthouse. It was dark."


def test_normalize_turns_dashes_into_pauses() -> None:
    assert normalize_for_speech("wait—no") == "wait, no"
    assert normalize_for_speech("wait -- no") == "wait, no"
    assert normalize_for_speech("wait – no") == "wait, no"


def test_normalize_handles_ellipses() -> None:
    assert normalize_for_speech("I waited... and waited") == "I waited, and waited"
    assert normalize_for_speech("I waited… Then he came.") == "I waited. Then he came."
    assert normalize_for_speech("The end...") == "The end."


def test_normalize_strips_quotes_and_emphasis_but_keeps_apostrophes() -> None:
    text = "“I’m _really_ *here*,” she said. ‘Don’t go.’"
    assert normalize_for_speech(text) == "I'm really here, she said. Don't go."


def test_normalize_collapses_whitespace() -> None:
    assert normalize_for_speech("  a\t\tb \n\n c  ") == "a b. c"


def test_normalize_applies_replacements_first_and_as_whole_words() -> None:
    replacements = {"Hermione": "her-MY-oh-nee", "Dr.": "Doctor Who"}
    text = "hermione met Dr. Hermiones"
    assert (
        normalize_for_speech(text, replacements)
        == "her-MY-oh-nee met Doctor Who Hermiones"
    )


def test_normalize_of_markup_only_is_empty() -> None:
    assert normalize_for_speech(" ** __ “” ") == ""


def test_number_words_helpers() -> None:
    assert cardinal(0) == "zero"
    assert cardinal(1_000_001) == "one million and one"
    assert ordinal(12) == "twelfth"
    assert ordinal(40) == "fortieth"
    assert year(1066) == "ten sixty-six"
    assert roman_to_int("XIV") == 14
    assert roman_to_int("IIII") is None


def test_split_keeps_short_text_whole() -> None:
    assert split_for_synthesis("One. Two.") == ["One. Two."]
    assert split_for_synthesis("   ") == []


def test_split_packs_sentences_up_to_the_limit() -> None:
    text = "First sentence here. Second sentence here. Third sentence here."
    assert split_for_synthesis(text, 45) == [
        "First sentence here. Second sentence here.",
        "Third sentence here.",
    ]


def test_split_cuts_long_sentences_at_clauses_first() -> None:
    text = "alpha beta gamma, delta epsilon; zeta eta theta, iota kappa."
    pieces = split_for_synthesis(text, 32)
    assert pieces == ["alpha beta gamma, delta epsilon;", "zeta eta theta, iota kappa."]


def test_split_never_exceeds_the_limit() -> None:
    text = ("word " * 300) + "x" * 70 + ", " + "and so on, " * 40
    for limit in (20, 64, 250):
        pieces = split_for_synthesis(text, limit)
        assert all(len(p) <= limit for p in pieces)
        assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_split_rejects_a_zero_limit() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        split_for_synthesis("text", 0)


def test_replacements_in_keeps_only_the_entries_a_text_uses():
    from talecast.pipeline.normalize import replacements_in

    said = {"Thorne": "Thorn", "Hollis": "Hol iss", "Peggy": "Peg ee"}
    assert replacements_in("Mr. thorne bowed.", said) == {"Thorne": "Thorn"}
    assert replacements_in("Peggy and Mr. Hollis.", said) == {
        "Hollis": "Hol iss",
        "Peggy": "Peg ee",
    }
    assert replacements_in("Thorneshire is far.", said) == {}  # whole words only
    assert replacements_in("Anything.", None) == {}
