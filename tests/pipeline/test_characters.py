"""Cast finding: names, aliases merged, families kept apart, gender inferred."""

from __future__ import annotations

from talecast.pipeline.characters import build_cast, find_characters
from talecast.pipeline.dialogue import find_quotes
from talecast.pipeline.types import Character


def _cast(text: str) -> dict[str, Character]:
    return {c.name: c for c in find_characters(text, find_quotes(text))}


STORY = """Margaret Hollis walked in. Margaret sat down. Peggy was tired.

Mr. Hollis read his paper. Mr. Hollis smiled at his wife. Mrs. Hollis frowned; she
was cross. Mrs. Hollis sighed. Lucian Thorne came later. Mr. Thorne bowed, and
Thorne left. Mr. Thorne returned; he was silent. Marian Ashdown waved. Miss Ashdown
laughed, and Marian sang.
"""


def test_find_characters_merges_first_name_and_nickname_into_full_name() -> None:
    cast = _cast(STORY)
    margaret = next(c for c in cast.values() if "Peggy" in c.aliases)
    assert "Margaret" in margaret.aliases
    assert "Margaret Hollis" in margaret.aliases


def test_find_characters_keeps_mr_and_mrs_of_one_family_apart() -> None:
    cast = _cast(STORY)
    assert "Mr. Hollis" in cast and "Mrs. Hollis" in cast
    assert cast["Mr. Hollis"].gender == "male"
    assert cast["Mrs. Hollis"].gender == "female"


def test_find_characters_merges_surname_and_honorific_forms() -> None:
    cast = _cast(STORY)
    thorne = next(c for c in cast.values() if "Mr. Thorne" in c.aliases)
    assert "Thorne" in thorne.aliases
    marian = next(c for c in cast.values() if "Marian" in c.aliases)
    assert "Miss Ashdown" in marian.aliases and "Marian Ashdown" in marian.aliases


def test_find_characters_infers_gender_from_pronouns() -> None:
    text = (
        "Zorvan came in. Then Zorvan said she was late. Zorvan laughed; she was happy."
    )
    assert _cast(text)["Zorvan"].gender == "female"


def test_find_characters_ignores_capitalised_ordinary_words() -> None:
    text = "The day was long. But the day ended. The end came. But Mary sat. Mary sang."
    cast = _cast(text)
    assert set(cast) == {"Mary"}


def test_find_characters_ignores_names_only_spoken_inside_quotes() -> None:
    text = '"Have you seen Grimsby?" asked Tom. Tom waited. "Grimsby is gone."'
    assert "Grimsby" not in _cast(text)


def test_find_characters_makes_speaking_descriptions_characters() -> None:
    text = '"Open the gates!" said the Princess. "At once," said the Princess.'
    cast = _cast(text)
    assert "The Princess" in cast
    assert cast["The Princess"].gender == "female"


def test_build_cast_names_a_first_person_narrator() -> None:
    text = (
        "Call me Ishmael. I went to sea. I was poor and my purse was empty.\n\n"
        '"Go," I said.'
    )
    assert build_cast(text, find_quotes(text)).narrator_name == "Ishmael"


def test_find_characters_returns_nothing_for_a_story_without_names() -> None:
    assert _cast("it was dark. the rain fell. nobody came.") == {}


def test_find_characters_leaves_out_a_family_named_in_the_plural() -> None:
    text = (
        "Tom Reed lived at the mill. Mrs. Reed baked. Tom Reed dined with the Hales. "
        "Mr. Hale was old. The Hales were kind. The Hales sang. Everybody liked the "
        "Hales. Mr. Hale laughed."
    )
    cast = _cast(text)
    assert "Hales" not in cast
    assert "Mr. Hale" in cast and "Tom Reed" in cast
