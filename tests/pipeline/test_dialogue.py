"""Quote detection: marks of every kind, apostrophes, paragraphs, groups, big input."""

from __future__ import annotations

import time

from talecast.pipeline.dialogue import find_quotes


def _texts(text: str) -> list[str]:
    return [q.text for q in find_quotes(text)]


def test_find_quotes_reads_straight_and_curly_double_quotes() -> None:
    text = '"Hello," said Ann. \u201cGood night,\u201d said Tom.'
    assert _texts(text) == ["Hello,", "Good night,"]


def test_find_quotes_offsets_include_the_marks() -> None:
    text = 'He said, "Go." Then left.'
    (q,) = find_quotes(text)
    assert text[q.start_char : q.end_char] == '"Go."'


def test_find_quotes_reads_british_single_quotes_without_apostrophes() -> None:
    text = (
        "\u2018I don\u2019t know,\u2019 said Lucy, \u2018but it\u2019s "
        "o\u2019clock.\u2019\n\n"
        "\u2018\u2019Tis the boys\u2019 books,\u2019 said the Ferryman."
    )
    assert _texts(text) == [
        "I don\u2019t know,",
        "but it\u2019s o\u2019clock.",
        "\u2019Tis the boys\u2019 books,",
    ]


def test_find_quotes_reads_straight_single_quotes_and_elisions() -> None:
    text = (
        "'I can't go,' said Jo. 'It's 'tis the season.'\n\n"
        "'Well,' said Meg, 'the girls' hats are here.'\n\n"
        "'Come along.'"
    )
    assert _texts(text) == [
        "I can't go,",
        "It's 'tis the season.",
        "Well,",
        "the girls' hats are here.",
        "Come along.",
    ]


def test_find_quotes_ignores_apostrophes_in_double_quote_stories() -> None:
    text = "It's the boys' day. \"Don't,\" she said. 'Tis late."
    assert _texts(text) == ["Don't,"]


def test_find_quotes_splits_a_speech_over_paragraphs_into_one_quote_each() -> None:
    text = '"The first part of my story.\n\n"The second part," he said.'
    quotes = find_quotes(text)
    assert [q.text for q in quotes] == [
        "The first part of my story.",
        "The second part,",
    ]
    assert [q.paragraph for q in quotes] == [0, 1]


def test_find_quotes_groups_an_interrupted_quote() -> None:
    text = '"A," said she, "B."\n\n"C."'
    quotes = find_quotes(text)
    assert [q.text for q in quotes] == ["A,", "B.", "C."]
    assert quotes[0].group == quotes[1].group != quotes[2].group


def test_find_quotes_keeps_nested_quotes_inside_the_outer_quote() -> None:
    text = "\u201cHe said \u201crun\u201d and I ran,\u201d said Ben. \u201cYes.\u201d"
    assert _texts(text) == ["He said \u201crun\u201d and I ran,", "Yes."]
    single = "'She said \"no\" to me,' said Ben. 'Go on.'"
    assert _texts(single) == ['She said "no" to me,', "Go on."]


def test_find_quotes_returns_nothing_for_narration_only() -> None:
    assert find_quotes("There was no talk at all. Nobody spoke.\n\nThe end.") == []


def test_find_quotes_skips_a_quoted_word_inside_a_sentence() -> None:
    assert find_quotes('He called it a "folly" and went home.') == []


def test_find_quotes_respects_start_and_end() -> None:
    text = '"One." "Two." "Three."'
    quotes = find_quotes(text, start=7, end=13)
    assert [q.text for q in quotes] == ["Two."]


def test_find_quotes_handles_a_5_mb_single_line_in_bounded_time() -> None:
    text = ('He said "hello there" and she said it\'s fine. ' * 110_000)[:5_000_000]
    started = time.perf_counter()
    quotes = find_quotes(text)
    assert time.perf_counter() - started < 10
    assert len(quotes) > 100_000


def test_find_quotes_handles_an_unclosed_quote_in_a_huge_line() -> None:
    text = '"' + "word " * 1_000_000
    started = time.perf_counter()
    quotes = find_quotes(text)
    assert time.perf_counter() - started < 10
    assert len(quotes) == 1


def test_find_quotes_skips_labels_but_keeps_shouting() -> None:
    text = 'The bottle said "DRINK ME" on it.\n\n"STOP THAT!" cried Bill.'
    assert _texts(text) == ["STOP THAT!"]


def test_find_quotes_cuts_a_quote_around_a_narrated_aside() -> None:
    text = '"Well, (smiling,) I hope it may be so."'
    quotes = find_quotes(text)
    assert [q.text for q in quotes] == ["Well,", "I hope it may be so."]
    assert quotes[0].group == quotes[1].group
    assert "smiling" not in text[quotes[0].start_char : quotes[0].end_char]
    assert "smiling" not in text[quotes[1].start_char : quotes[1].end_char]
