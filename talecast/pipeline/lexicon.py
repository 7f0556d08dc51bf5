"""Pronunciation dictionaries: read a JSON term list or a W3C PLS file and validate it.

A dictionary maps a written term ("Hermione") to what the speech engine should be given
instead ("her-MY-oh-nee"). The renderer passes
:meth:`PronunciationDictionary.replacements` to ``normalize_for_speech``; the transcript
keeps the original word.

Accepted inputs:

- JSON: ``[{"term": "Hermione", "replacement": "her my oh nee"}]`` or ``{"name": "...",
  "description": "...", "terms": [...]}``.
- W3C Pronunciation Lexicon Specification 1.0 (``.pls``): ``<lexeme>`` elements with one
  or more ``<grapheme>`` and an ``<alias>``. The first alias of a lexeme is used.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from talecast.errors import DictionaryError

logger = logging.getLogger(__name__)

MAX_DICTIONARY_BYTES = 2_000_000
MAX_TERMS = 20_000
MAX_TERM_CHARS = 200
MAX_REPLACEMENT_CHARS = 500
PLS_NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"

_JSON_EXAMPLE = '[{"term": "Hermione", "replacement": "her my oh nee"}]'
_PLS_EXAMPLE = (
    "<lexeme><grapheme>Hermione</grapheme><alias>her my oh nee</alias></lexeme>"
)
_WORD_CHAR = re.compile(r"\w")


@dataclass(frozen=True)
class Term:
    """One entry: the written term and what to say instead."""

    term: str
    replacement: str


@dataclass
class PronunciationDictionary:
    """A named list of terms, in the order the file gave them."""

    name: str
    description: str | None = None
    terms: list[Term] = field(default_factory=list)

    def replacements(self) -> dict[str, str]:
        """Return the term -> replacement mapping the renderer applies."""
        return {t.term: t.replacement for t in self.terms}

    def to_dict(self) -> dict[str, Any]:
        """Return the dictionary in the JSON shape :func:`load_dictionary` reads."""
        return {
            "name": self.name,
            "description": self.description,
            "terms": [
                {"term": t.term, "replacement": t.replacement} for t in self.terms
            ],
        }


def load_dictionary(
    data: bytes, filename: str | None = None
) -> PronunciationDictionary:
    """Parse and validate a JSON term list or a W3C PLS file.

    The kind is taken from the file name's extension (``.json``, ``.pls``, ``.xml``) or,
    without one, from the first character of the content. Raises DictionaryError saying
    what is wrong and what is expected.
    """
    if len(data) > MAX_DICTIONARY_BYTES:
        raise DictionaryError(
            f"pronunciation dictionary{_label(filename)} is {len(data)} bytes, over "
            f"the limit of {MAX_DICTIONARY_BYTES}; split it into several dictionaries"
        )
    text = _decode(data, filename)
    default_name = PurePath(filename).stem if filename else "dictionary"

    if _looks_like_xml(text, filename):
        dictionary = _parse_pls(text, default_name)
    else:
        dictionary = _parse_json(text, default_name)

    _validate(dictionary)
    logger.info(
        "pronunciation dictionary %r: %d terms read",
        dictionary.name,
        len(dictionary.terms),
    )
    return dictionary


def _decode(data: bytes, filename: str | None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DictionaryError(
            f"pronunciation dictionary{_label(filename)} is not UTF-8 text (byte "
            f"{exc.start} is invalid); save it as UTF-8 and upload it again"
        ) from exc


def _label(filename: str | None) -> str:
    return f" {filename!r}" if filename else ""


def _looks_like_xml(text: str, filename: str | None) -> bool:
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if suffix in (".pls", ".xml"):
        return True
    if suffix == ".json":
        return False
    return text.lstrip().startswith("<")


# ---- JSON ---------------------------------------------------------------------------


def _parse_json(text: str, default_name: str) -> PronunciationDictionary:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DictionaryError(
            f"pronunciation dictionary is not valid JSON ({exc.msg} at line "
            f"{exc.lineno}, column {exc.colno}); expected a term list such as "
            f"{_JSON_EXAMPLE} or a W3C PLS file"
        ) from exc

    name: Any = default_name
    description: Any = None
    if isinstance(payload, dict):
        if "terms" not in payload:
            raise DictionaryError(
                f"pronunciation dictionary JSON object has no 'terms' list (keys: "
                f"{sorted(payload)!r}); expected "
                f'{{"name": "...", "terms": {_JSON_EXAMPLE}}}'
            )
        name = payload.get("name") or default_name
        description = payload.get("description")
        payload = payload["terms"]
    if not isinstance(payload, list):
        raise DictionaryError(
            f"pronunciation dictionary terms must be a JSON list, got "
            f"{type(payload).__name__}; expected {_JSON_EXAMPLE}"
        )
    if not isinstance(name, str) or (
        description is not None and not isinstance(description, str)
    ):
        raise DictionaryError(
            "pronunciation dictionary 'name' and 'description' must be strings"
        )
    terms = [_json_term(i, item) for i, item in enumerate(payload)]
    return PronunciationDictionary(
        name=name.strip(), description=description, terms=terms
    )


def _json_term(index: int, item: Any) -> Term:
    if not isinstance(item, dict) or not {"term", "replacement"} <= item.keys():
        raise DictionaryError(
            f"pronunciation dictionary entry {index} is {item!r}; each entry needs "
            f'"term" and "replacement", for example {_JSON_EXAMPLE}'
        )
    term, replacement = item["term"], item["replacement"]
    if not isinstance(term, str) or not isinstance(replacement, str):
        raise DictionaryError(
            f"pronunciation dictionary entry {index}: 'term' and 'replacement' must be "
            f"strings, got {term!r} and {replacement!r}"
        )
    return Term(term.strip(), replacement.strip())


# ---- W3C PLS ------------------------------------------------------------------------


def _parse_pls(text: str, default_name: str) -> PronunciationDictionary:
    # Entity declarations are how XML expansion attacks work; PLS never needs them.
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise DictionaryError(
            "pronunciation lexicon declares a DOCTYPE or entities, which Talecast does "
            "not accept; remove the <!DOCTYPE ...> block"
        )
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise DictionaryError(
            f"pronunciation lexicon is not well-formed XML ({exc}); expected a W3C PLS "
            f"file with entries such as {_PLS_EXAMPLE}"
        ) from exc
    if _local(root.tag) != "lexicon":
        raise DictionaryError(
            f"pronunciation lexicon's root element is <{_local(root.tag)}>, expected "
            f'<lexicon xmlns="{PLS_NAMESPACE}" version="1.0">'
        )

    terms: list[Term] = []
    for index, lexeme in enumerate(e for e in root if _local(e.tag) == "lexeme"):
        terms.extend(_pls_terms(index, lexeme))
    return PronunciationDictionary(name=default_name, description=None, terms=terms)


def _pls_terms(index: int, lexeme: ET.Element) -> list[Term]:
    graphemes = [_text(e) for e in lexeme if _local(e.tag) == "grapheme"]
    aliases = [_text(e) for e in lexeme if _local(e.tag) == "alias"]
    has_phoneme = any(_local(e.tag) == "phoneme" for e in lexeme)
    if not graphemes:
        raise DictionaryError(
            f"pronunciation lexicon <lexeme> {index} has no <grapheme>; each lexeme "
            f"needs the written word, for example {_PLS_EXAMPLE}"
        )
    if not aliases:
        if has_phoneme:
            # TODO(#6): hand <phoneme> entries (IPA) to engines that take phonemes.
            raise DictionaryError(
                f"pronunciation lexicon entry {graphemes[0]!r} gives only a <phoneme>; "
                "Talecast supports only alias-based entries for now, so write how the "
                f"word should be read as an <alias>, for example {_PLS_EXAMPLE}"
            )
        raise DictionaryError(
            f"pronunciation lexicon entry {graphemes[0]!r} has no <alias>; expected "
            f"{_PLS_EXAMPLE}"
        )
    return [Term(g, aliases[0]) for g in graphemes]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


# ---- validation ---------------------------------------------------------------------


def _validate(dictionary: PronunciationDictionary) -> None:
    if not dictionary.name:
        raise DictionaryError(
            "pronunciation dictionary has an empty 'name'; give it one"
        )
    if not dictionary.terms:
        raise DictionaryError(
            f"pronunciation dictionary {dictionary.name!r} has no terms; expected at "
            f"least one, for example {_JSON_EXAMPLE}"
        )
    if len(dictionary.terms) > MAX_TERMS:
        raise DictionaryError(
            f"pronunciation dictionary {dictionary.name!r} has {len(dictionary.terms)} "
            f"terms, over the limit of {MAX_TERMS}; split it into several dictionaries"
        )

    seen: dict[str, str] = {}
    for term in dictionary.terms:
        _validate_term(term)
        earlier = seen.get(term.term)
        if earlier is not None and earlier != term.replacement:
            raise DictionaryError(
                f"pronunciation dictionary term {term.term!r} appears twice with "
                f"different replacements ({earlier!r} and {term.replacement!r}); keep "
                "one"
            )
        seen[term.term] = term.replacement


def _validate_term(term: Term) -> None:
    if not term.term or not _WORD_CHAR.search(term.term):
        raise DictionaryError(
            f"pronunciation dictionary term {term.term!r} has no letters or digits; a "
            "term must be a word or phrase as the story prints it"
        )
    if not term.replacement:
        raise DictionaryError(
            f"pronunciation dictionary term {term.term!r} has an empty replacement; "
            "write how the word should be read"
        )
    if len(term.term) > MAX_TERM_CHARS or len(term.replacement) > MAX_REPLACEMENT_CHARS:
        raise DictionaryError(
            f"pronunciation dictionary term {term.term[:40]!r} is too long (limits: "
            f"{MAX_TERM_CHARS} characters per term, {MAX_REPLACEMENT_CHARS} per "
            "replacement)"
        )
    if "\n" in term.term or "\n" in term.replacement:
        raise DictionaryError(
            f"pronunciation dictionary term {term.term!r} contains a line break; terms "
            "and replacements must be single lines"
        )
