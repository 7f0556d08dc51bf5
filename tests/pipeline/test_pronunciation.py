"""The pronunciation sheet: words the engines must guess, and heteronyms."""

import json

from talecast.pipeline.lexicon import load_dictionary
from talecast.pipeline.pronunciation import pronunciation_sheet, sheet_json

TEXT = (
    "Zorbanek waited by the river while Quenthra wound the rope. "
    '"Zorbanek," she said, "the wind is rising--hurry!" A tear ran down her cheek. '
    "Zorbanek's boat was a glimmerskiff, and he stopped rowing. The zorbanek-lights "
    "were carried happily along."
)


def test_sheet_lists_guessed_names_words_and_heteronyms_but_not_known_words():
    entries = {e.word: e for e in pronunciation_sheet(TEXT)}
    assert entries["Zorbanek"].kind == "name" and entries["Zorbanek"].count == 3
    assert entries["Quenthra"].kind == "name"
    assert entries["glimmerskiff"].kind == "word"
    assert {"wound", "wind", "tear"} <= {
        w for w, e in entries.items() if e.kind == "heteronym"
    }
    # Known words and their regular inflections are left out; a dash is not a hyphen.
    for known in (
        "waited",
        "stopped",
        "rowing",
        "carried",
        "happily",
        "rising",
        "river",
    ):
        assert known not in entries
    assert "rising--hurry" not in entries and "hurry" not in entries
    first = entries["Quenthra"]
    assert TEXT[first.first_char : first.first_char + 8] == "Quenthra"
    assert "Quenthra" in first.example


def test_sheet_json_is_a_dictionary_template_the_dictionary_reader_takes():
    sheet = sheet_json(pronunciation_sheet(TEXT))
    terms = {t["term"] for t in sheet["terms"]}
    assert {"Zorbanek", "Quenthra", "glimmerskiff"} <= terms
    assert "wound" not in terms  # heteronyms are read by part of speech, not replaced
    loaded = load_dictionary(json.dumps(sheet).encode(), "pronunciations.json")
    assert set(loaded.replacements()) >= {"Zorbanek", "Quenthra"}
    assert len(sheet["sheet"]) >= len(sheet["terms"])
