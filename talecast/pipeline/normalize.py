"""Text normalisation for speech: what an engine should read aloud, and in what pieces.

``normalize_for_speech`` turns printed prose into words every engine pronounces the same
way (titles, numbers, money, headings, typographic marks); ``split_for_synthesis`` cuts
the result into pieces short enough for any engine, preferring sentence ends, then
clause punctuation, then spaces.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping

logger = logging.getLogger(__name__)

ABBREVIATIONS = {
    "Mr": "Mister",
    "Mrs": "Missus",
    "Ms": "Miz",
    "Dr": "Doctor",
    "Prof": "Professor",
    "Capt": "Captain",
    "Col": "Colonel",
    "Gen": "General",
    "Lt": "Lieutenant",
    "Sgt": "Sergeant",
    "Rev": "Reverend",
    "Hon": "Honourable",
    "Jr": "Junior",
    "Sr": "Senior",
    "Mt": "Mount",
    "Messrs": "Messieurs",
}
HEADING_WORDS = "Chapter|Book|Part|Volume|Act|Scene|Section|Canto|Letter|Stave"
CURRENCIES = {
    "£": ("pound", "pounds", "penny", "pence"),
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
}

_ABBR_RE = re.compile(r"\b(" + "|".join(ABBREVIATIONS) + r")\.(?=\s|$)")
_ABBR_NO_DOT_RE = re.compile(r"\b(Mr|Mrs|Ms|Dr)(?=\s+[A-Z])")
_STREET_RE = re.compile(
    r"\b([A-Z][a-z]+|\d+(?:st|nd|rd|th)?) St(\.)?(?=(\s+[A-Z]|\s+\d)?)(?=\s|$)"
)
_SAINT_RE = re.compile(r"\bSt\.?(?=\s+[A-Z])")
_ST_RE = re.compile(r"(?<=[A-Za-z0-9] )St\.(?=\s|$)")
_LATIN = [
    (re.compile(r"\be\.g\.(?=\s|,|$)", re.I), "for example"),
    (re.compile(r"\bi\.e\.(?=\s|,|$)", re.I), "that is"),
    (re.compile(r"\betc\.(?=\s+[a-z])"), "et cetera"),
    (re.compile(r"\betc\.", re.I), "et cetera."),
    (re.compile(r"\bvs?\.(?=\s)"), "versus"),
    (re.compile(r"\bNo\.(?=\s*\d)"), "number"),
]
_QUOTES_DOUBLE_RE = re.compile(r"[\"“”„«»]")
_SINGLE_QUOTE_RE = re.compile(r"(?<![A-Za-z])['‘’‚]|['‘’](?![A-Za-z])(?<!s')(?<!s’)")
_EMPHASIS_RE = re.compile(r"[*_]+")
_RANGE_RE = re.compile(r"(?<=\d)\s*[–—]\s*(?=\d)")
_DASH_RE = re.compile(r"\s*(?:—|–|--+|―)\s*")
_ELLIPSIS_RE = re.compile(r"\s*(?:…|\.\s?\.\s?\.)(\s*)(?=(\S?))")
_HEADING_RE = re.compile(  # "Chapter IV", "BOOK II." but not "the letter I wrote"
    r"\b(" + HEADING_WORDS + "|" + HEADING_WORDS.upper() + r")\s+([IVXLCDM]+)\b(\.?)"
    r"(?!\s+[a-z])"
)
_LONE_NUMERAL_RE = re.compile(r"(?m)^\s*([IVXLC]+)\.?\s*$")
_MONEY_RE = re.compile(
    r"([£$€])\s?(\d[\d,]*)(?:\.(\d{1,2}))?(?!\d)(\s?(?:million|billion))?"
)
_PERCENT_RE = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?(?:%|per ?cent\b)")
_ORDINAL_RE = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_TIME_RE = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
_YEAR_RE = re.compile(r"(?<![\d,.])(1[1-9]\d\d|20\d\d)(s?)(?![\d,]|\.\d)")
_NUMBER_RE = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d])")
_LINE_END_RE = re.compile(r"(?<=[^\s.!?,;:…])[ \t]*\n")


def normalize_for_speech(
    text: str, replacements: Mapping[str, str] | None = None
) -> str:
    """Rewrite printed text into the words a speech engine should say.

    ``replacements`` maps a word (whole word, any case) to what to say instead; it is
    applied before everything else. Returns one line of text with single spaces.
    """
    if replacements:
        text = _apply_replacements(text, replacements)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _headings(text)
    text = _LINE_END_RE.sub(".\n", text)
    text = _typography(text)
    text = _abbreviations(text)
    text = _numbers(text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r",(?:\s*,)+", ",", text)
    text = re.sub(r"^[,;:.\s]+", "", text)
    return re.sub(r"[,;:]+(?=[.!?]|$)", "", text)


def split_for_synthesis(text: str, max_chars: int = 250) -> list[str]:
    """Cut normalised text into pieces of at most ``max_chars`` characters.

    Whole sentences are packed together while they fit; a longer sentence is cut at
    ``; : ,`` (in that order of preference), then between words, and a single word
    longer than ``max_chars`` is cut hard.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars!r}")
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    sentences = re.split(r"(?<=[.!?])\s+", text)
    pieces: list[str] = []
    for sentence in sentences:
        pieces.extend(_split_long(sentence, max_chars, 0))
    return _pack(pieces, max_chars)


_CLAUSE_SPLITTERS = (r"(?<=;)\s+", r"(?<=:)\s+", r"(?<=,)\s+", r"\s+")


def _split_long(text: str, max_chars: int, level: int) -> list[str]:
    """Pieces of one sentence, each within max_chars, cut at the coarsest boundary."""
    if len(text) <= max_chars:
        return [text]
    if level >= len(_CLAUSE_SPLITTERS):
        return [text[i : i + max_chars] for i in range(0, len(text), max_chars)]
    parts = re.split(_CLAUSE_SPLITTERS[level], text)
    if len(parts) == 1:
        return _split_long(text, max_chars, level + 1)
    out: list[str] = []
    for part in parts:
        out.extend(_split_long(part, max_chars, level + 1))
    return _pack(out, max_chars)


def _pack(pieces: list[str], max_chars: int) -> list[str]:
    """Join neighbouring pieces with a space while the result fits in max_chars."""
    packed: list[str] = []
    for piece in pieces:
        if packed and len(packed[-1]) + 1 + len(piece) <= max_chars:
            packed[-1] = f"{packed[-1]} {piece}"
        else:
            packed.append(piece)
    return packed


def _apply_replacements(text: str, replacements: Mapping[str, str]) -> str:
    """Whole-word, case-insensitive substitution; longer keys win over prefixes."""
    matcher = _matcher(tuple(sorted(replacements.items())))
    if matcher is None:
        return text
    pattern, lookup = matcher
    return pattern.sub(lambda m: lookup[m.group(1).casefold()], text)


def replacements_in(
    text: str, replacements: Mapping[str, str] | None
) -> dict[str, str]:
    """The entries of ``replacements`` that change ``text``: the only ones a line's
    audio depends on, so editing one entry leaves every other line's audio valid."""
    if not replacements:
        return {}
    matcher = _matcher(tuple(sorted(replacements.items())))
    if matcher is None:
        return {}
    pattern, _ = matcher
    found = {m.group(1).casefold() for m in pattern.finditer(text)}
    return {k: v for k, v in replacements.items() if k.casefold() in found}


@functools.lru_cache(maxsize=8)
def _matcher(
    items: tuple[tuple[str, str], ...],
) -> tuple[re.Pattern[str], dict[str, str]] | None:
    keys = sorted((k for k, _ in items if k.strip()), key=len, reverse=True)
    if not keys:
        return None
    lookup = {k.casefold(): v for k, v in items}
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(k) for k in keys) + r")(?!\w)", re.IGNORECASE
    )
    return pattern, lookup


def _headings(text: str) -> str:
    """'Chapter IV' -> 'Chapter four'; a line holding only a numeral -> its number."""

    def heading(m: re.Match[str]) -> str:
        value = roman_to_int(m.group(2).upper())
        if value is None:
            return m.group(0)
        return f"{m.group(1)} {cardinal(value)}{m.group(3)}"

    def lone(m: re.Match[str]) -> str:
        value = roman_to_int(m.group(1))
        return m.group(0) if value is None else f"{cardinal(value).capitalize()}."

    text = _HEADING_RE.sub(heading, text)
    return _LONE_NUMERAL_RE.sub(lone, text)


def _typography(text: str) -> str:
    """Quotes, emphasis markers, dashes and ellipses to plain words and pauses."""
    text = _QUOTES_DOUBLE_RE.sub(" ", text)
    text = _SINGLE_QUOTE_RE.sub("", text)
    text = text.replace("’", "'")
    text = _EMPHASIS_RE.sub("", text)
    text = _RANGE_RE.sub(" to ", text)
    text = _DASH_RE.sub(", ", text)
    text = _ELLIPSIS_RE.sub(_ellipsis, text)
    return text.replace("&", " and ")


def _ellipsis(m: re.Match[str]) -> str:
    """A trailing ellipsis ends the sentence; one inside a sentence is a pause."""
    following = m.group(2)
    if not following or following.isupper() or not following.isalnum():
        return "." + (m.group(1) or " ")
    return ", "


def _abbreviations(text: str) -> str:
    """Titles and Latin abbreviations to the words they stand for."""
    text = _STREET_RE.sub(_street, text)
    text = _SAINT_RE.sub("Saint", text)
    text = _ST_RE.sub("Street", text)
    text = _ABBR_RE.sub(lambda m: ABBREVIATIONS[m.group(1)], text)
    text = _ABBR_NO_DOT_RE.sub(lambda m: ABBREVIATIONS[m.group(1)], text)
    for pattern, words in _LATIN:
        text = pattern.sub(words, text)
    return text


def _street(m: re.Match[str]) -> str:
    """'Baker St.' -> 'Baker Street'; a period before a capital ends the sentence."""
    if m.group(2) and m.group(3):
        return f"{m.group(1)} Street."
    return f"{m.group(1)} Street"


def _numbers(text: str) -> str:
    """Money, percentages, ordinals, times, years and plain numbers to words."""
    text = _MONEY_RE.sub(_money, text)
    text = _PERCENT_RE.sub(lambda m: f"{_number_words(m.group(1))} percent", text)
    text = _ORDINAL_RE.sub(lambda m: ordinal(int(m.group(1))), text)
    text = _TIME_RE.sub(_time, text)
    text = _YEAR_RE.sub(_year, text)
    return _NUMBER_RE.sub(lambda m: _number_words(m.group(0)), text)


def _number_words(digits: str) -> str:
    """'1,250' -> 'one thousand two hundred and fifty'; '3.5' -> 'three point five'."""
    digits = digits.replace(",", "")
    if "." in digits:
        whole, frac = digits.split(".", 1)
        return decimal(int(whole or "0"), frac)
    return cardinal(int(digits))


def _money(m: re.Match[str]) -> str:
    """'£5' -> 'five pounds'; '$3.50' -> 'three dollars and fifty cents'."""
    one, many, sub_one, sub_many = CURRENCIES[m.group(1)]
    amount = int(m.group(2).replace(",", ""))
    scale = (m.group(4) or "").strip()
    if scale:
        frac = f".{m.group(3)}" if m.group(3) else ""
        return f"{_number_words(m.group(2) + frac)} {scale} {many}"
    words = f"{cardinal(amount)} {one if amount == 1 else many}"
    cents = int((m.group(3) or "0").ljust(2, "0"))
    if cents == 0:
        return words
    sub = sub_one if cents == 1 else sub_many
    if amount == 0:
        return f"{cardinal(cents)} {sub}"
    return f"{words} and {cardinal(cents)} {sub}"


def _time(m: re.Match[str]) -> str:
    """'7:30' -> 'seven thirty'; '9:00' -> "nine o'clock"; '7:05' -> 'seven oh five'."""
    hours, minutes = int(m.group(1)), int(m.group(2))
    if minutes == 0:
        return f"{cardinal(hours)} o'clock"
    if minutes < 10:
        return f"{cardinal(hours)} oh {cardinal(minutes)}"
    return f"{cardinal(hours)} {cardinal(minutes)}"


def _year(m: re.Match[str]) -> str:
    """A four-digit year (1100-2099) read as years are: 'eighteen fifteen'."""
    words = year(int(m.group(1)))
    if m.group(2):
        return words[:-1] + "ies" if words.endswith("y") else words + "s"
    return words


# -- number words ----------------------------------------------------------------------

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = (
    (10**12, "trillion"),
    (10**9, "billion"),
    (10**6, "million"),
    (1000, "thousand"),
)
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def cardinal(n: int) -> str:
    """Words for a whole number: 1250 -> 'one thousand two hundred and fifty'."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" and {cardinal(rest)}" if rest else "")
    for scale, name in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            head = f"{cardinal(high)} {name}"
            if not rest:
                return head
            joiner = " and " if rest < 100 else " "
            return head + joiner + cardinal(rest)
    return " ".join(_ONES[int(d)] for d in str(n))


def ordinal(n: int) -> str:
    """Words for an ordinal: 21 -> 'twenty-first'."""
    words = cardinal(n)
    head, sep, last = words.rpartition("-" if "-" in words.split()[-1] else " ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def decimal(whole: int, fraction_digits: str) -> str:
    """'3', '14' -> 'three point one four'."""
    digits = " ".join(_ONES[int(d)] for d in fraction_digits)
    return f"{cardinal(whole)} point {digits}"


def year(n: int) -> str:
    """Words for a year: 1815 -> 'eighteen fifteen', 1900 -> 'nineteen hundred'."""
    high, low = divmod(n, 100)
    if 2000 <= n < 2010:
        return cardinal(n)
    if low == 0:
        return f"{cardinal(high)} hundred"
    if low < 10:
        return f"{cardinal(high)} oh {cardinal(low)}"
    return f"{cardinal(high)} {cardinal(low)}"


def roman_to_int(numeral: str) -> int | None:
    """Value of a well-formed Roman numeral, or None if it is not one ('IIII', 'VV')."""
    if not numeral or any(c not in _ROMAN for c in numeral):
        return None
    total = 0
    for i, c in enumerate(numeral):
        value = _ROMAN[c]
        nxt = _ROMAN[numeral[i + 1]] if i + 1 < len(numeral) else 0
        total += -value if value < nxt else value
    if total <= 0 or _int_to_roman(total) != numeral:
        return None
    return total


def _int_to_roman(n: int) -> str:
    """Canonical Roman numeral for 1..3999."""
    parts = []
    for value, sym in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        count, n = divmod(n, value)
        parts.append(sym * count)
    return "".join(parts)
