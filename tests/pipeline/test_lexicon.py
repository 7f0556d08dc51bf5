"""Pronunciation dictionaries: JSON term lists and W3C PLS files, and their errors."""

from __future__ import annotations

import json

import pytest

from talecast.errors import DictionaryError, TalecastError
from talecast.pipeline.lexicon import MAX_TERMS, load_dictionary

PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-US">
  <lexeme>
    <grapheme>Hermione</grapheme>
    <alias>her my oh nee</alias>
  </lexeme>
  <lexeme>
    <grapheme>W3C</grapheme>
    <grapheme>w3c</grapheme>
    <alias>World Wide Web Consortium</alias>
    <alias>W three C</alias>
  </lexeme>
  <lexeme>
    <grapheme>Siobhan</grapheme>
    <phoneme>ʃɪˈvɔːn</phoneme>
    <alias>shiv awn</alias>
  </lexeme>
</lexicon>
"""


def test_json_term_list_parses_to_replacements():
    data = json.dumps(
        [
            {"term": "Hermione", "replacement": "her my oh nee"},
            {"term": " Dr. Zhivago ", "replacement": "doctor zhi vah go"},
        ]
    )
    dictionary = load_dictionary(data.encode(), "names.json")

    assert dictionary.name == "names"
    assert dictionary.replacements() == {
        "Hermione": "her my oh nee",
        "Dr. Zhivago": "doctor zhi vah go",
    }


def test_json_object_keeps_name_and_description():
    data = {
        "name": "Fantasy names",
        "description": "Book one",
        "terms": [{"term": "Tolkien", "replacement": "tol keen"}],
    }
    dictionary = load_dictionary(json.dumps(data).encode("utf-8-sig"))

    assert (dictionary.name, dictionary.description) == ("Fantasy names", "Book one")
    assert dictionary.to_dict()["terms"] == data["terms"]


def test_pls_file_parses_aliases_for_every_grapheme():
    dictionary = load_dictionary(PLS.encode(), "lexicon.pls")

    assert dictionary.replacements() == {
        "Hermione": "her my oh nee",
        "W3C": "World Wide Web Consortium",  # the first alias is the preferred one
        "w3c": "World Wide Web Consortium",
        "Siobhan": "shiv awn",  # an alias beside a phoneme is used
    }
    assert dictionary.name == "lexicon"


def test_pls_without_namespace_or_extension_is_recognised():
    data = b"<lexicon><lexeme><grapheme>GIF</grapheme><alias>jif</alias></lexeme>"
    data += b"</lexicon>"
    assert load_dictionary(data).replacements() == {"GIF": "jif"}


def test_pls_phoneme_only_entry_says_only_aliases_are_supported():
    data = PLS.replace("<alias>shiv awn</alias>", "").encode()
    with pytest.raises(DictionaryError, match="'Siobhan'.*only alias-based entries"):
        load_dictionary(data, "lexicon.pls")


def test_pls_with_doctype_is_refused_before_parsing():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
        "<lexicon><lexeme><grapheme>&lol;</grapheme><alias>x</alias></lexeme>"
        "</lexicon>"
    )
    with pytest.raises(DictionaryError, match="DOCTYPE"):
        load_dictionary(bomb.encode(), "bomb.pls")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"term": "a"', "not valid JSON"),
        (b'{"entries": []}', "no 'terms' list"),
        (
            b'[{"word": "Hermione", "say": "x"}]',
            'entry 0 .*needs "term" and "replacement"',
        ),
        (b'[{"term": "Hermione", "replacement": 5}]', "must be strings"),
        (b"[]", "has no terms"),
        (b'[{"term": "...", "replacement": "dots"}]', "no letters or digits"),
        (b'[{"term": "Ann", "replacement": " "}]', "empty replacement"),
        (
            b'[{"term": "Ann", "replacement": "an"},'
            b' {"term": "Ann", "replacement": "ahn"}]',
            "appears twice",
        ),
        (b"<lexicon><lexeme><alias>x</alias></lexeme></lexicon>", "no <grapheme>"),
        (b"<lexicon><lexeme><grapheme>x", "not well-formed XML"),
        (b"<dictionary/>", "root element is <dictionary>"),
        (b"\xff\xfe[]", "not UTF-8"),
    ],
)
def test_bad_dictionaries_raise_clear_errors(data, message):
    with pytest.raises(DictionaryError, match=message) as caught:
        load_dictionary(data)
    assert isinstance(caught.value, TalecastError)
    assert isinstance(caught.value, ValueError)


def test_dictionary_over_the_term_limit_is_refused():
    terms = [{"term": f"w{i}", "replacement": "x"} for i in range(MAX_TERMS + 1)]
    with pytest.raises(DictionaryError, match="split it into several dictionaries"):
        load_dictionary(json.dumps(terms).encode())


def test_identical_duplicate_terms_are_accepted():
    data = (
        b'[{"term": "Ann", "replacement": "an"}, {"term": "Ann", "replacement": "an"}]'
    )
    assert load_dictionary(data).replacements() == {"Ann": "an"}


def test_dictionary_entry_changes_the_speech_and_keeps_the_word_in_the_transcript(
    tmp_path,
):
    import numpy as np
    import soundfile as sf

    from talecast.pipeline.reading import read_story
    from talecast.pipeline.render import RenderOptions, render_story

    document = read_story(b"Hermione opened the gate at dawn.")
    dictionary = load_dictionary(PLS.encode(), "names.pls")
    runs = {}
    for name, replacements in (("plain", None), ("dict", dictionary.replacements())):
        options = RenderOptions(profile="fast", replacements=replacements)
        runs[name] = render_story(
            document, tmp_path / name, options, cache_dir=tmp_path / "cache"
        )
    plain = sf.read(str(runs["plain"].narration_path), dtype="int16")[0]
    spoken = sf.read(str(runs["dict"].narration_path), dtype="int16")[0]

    assert plain.size != spoken.size or not np.array_equal(plain, spoken)
    assert "Hermione" in runs["dict"].transcript[0]["text"]
    assert "her my oh nee" not in json.dumps(runs["dict"].transcript)
