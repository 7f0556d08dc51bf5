"""Name the speaker of every quote in a story.

Steps: find the quotes (:mod:`talecast.pipeline.dialogue`) and the cast
(:mod:`talecast.pipeline.characters`); read each dialogue paragraph's speech tags
(:mod:`.tags`), counting a narration paragraph that leads into it (``He added,
smiling,``), and fix the turns a name settles; leave tagged thoughts out of the
turn-taking; resolve the other clues
(:mod:`.resolve`): ``he``/``she`` by gender and recency, ``her mother``/``his wife``
through family names, the subject of the narration, the people a line addresses
(:mod:`.vocatives`); then choose the speakers of each conversation
(:mod:`.conversation`) together (:mod:`.sequence`). Every quote gets one
:class:`Utterance` with a confidence in 0..1 and the method that decided it.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import replace

from talecast.pipeline.attribution import conversation as conv
from talecast.pipeline.attribution import tags as tg
from talecast.pipeline.attribution.cast import Cast
from talecast.pipeline.attribution.lexicon import PRONOUN_GENDER
from talecast.pipeline.attribution.resolve import (
    Context,
    relatives_named,
    resolve_description,
    resolve_name,
    resolve_pronoun,
    resolve_relation,
)
from talecast.pipeline.attribution.sequence import decode
from talecast.pipeline.attribution.vocatives import (
    asked_person,
    find_vocatives,
    kin_addressees,
    named_in_lines,
    narration_addressees,
    own_relatives,
    said_to,
)
from talecast.pipeline.types import (
    NARRATOR,
    Attribution,
    Character,
    Gender,
    Quote,
    Utterance,
)

__all__ = ["attribute", "lowest_confidence"]

logger = logging.getLogger(__name__)

# Clues and speakers are recomputed this many times.
DECODE_ROUNDS = 2
# How far before a conversation its candidates may have been named, in characters.
RECENT_REACH_CHARS = 3000
# How far back the narration before a conversation is read for its subject.
SCENE_REACH_CHARS = 1000
# How far back the narration before a conversation's first line is read for whom
# that line is turned to ("she turned to Ann").
TOWARDS_REACH_CHARS = 400
# A narration paragraph ending so leads into the quote of the next paragraph...
LEAD_IN_ENDS = (",", ":", "--", "\u2014")
# ...searched for this far back, in characters.
LEAD_IN_REACH_CHARS = 20_000
# How far before a stranger's first line a pronoun may tell their sex, in characters.
DESCRIPTION_GENDER_REACH_CHARS = 3000
_PRONOUN = re.compile(r"\b(his|him|himself|he|her|hers|herself|she)\b", re.IGNORECASE)
_NAME_WORD = re.compile(r"(?<![.!?]\s)\b[A-Z][a-z]+")
# A speaker saying who they are: "My name is Hale", "I am Mrs. Dale", "call me Ned".
_INTRODUCTION = re.compile(
    r"\b(?:[Mm]y name is|I am|I'm|I\u2019m|[Cc]all me)\s+"
    r"(?P<name>(?:(?:Mr|Mrs|Miss|Ms|Dr|Captain|Lady|Lord|Sir)\.?\s+)?[A-Z][a-z]+"
    r"(?:\s+[A-Z][a-z]+)?)\b(?!['\u2019]s)"
)
# Heads of descriptions that name no one in particular ("said the voice").
UNSPECIFIC_HEADS = frozenset(
    "voice voices other others latter former one two three elder younger eldest"
    " youngest first second last same rest child".split()
)
# A description becomes a known alias after this many lines by the same person.
LEARN_MIN_USES = 2


def attribute(
    text: str,
    quotes: list[Quote] | None = None,
    characters: list[Character] | None = None,
) -> Attribution:
    """Name the speaker of every quote in ``text``; quotes are found when not given."""
    # Imported here: those modules read this package's word lists.
    from talecast.pipeline.characters import build_cast
    from talecast.pipeline.dialogue import find_quotes

    quotes = (
        find_quotes(text)
        if quotes is None
        else sorted(quotes, key=lambda q: q.start_char)
    )
    cast = build_cast(text, quotes, characters)
    if not quotes:
        return Attribution(cast.characters, [], cast.narrator_name)

    turns = _turns(text, quotes)
    own: dict[int, tuple[int, float, str]] = {}
    conversations = conv.split_conversations(text, turns)
    for conversation in conversations:
        _anchor(text, quotes, cast, conversation, own)
    conversations = [c for c in map(_spoken, conversations) if c]
    for turn in turns:
        if turn.method == "explicit" and turn.speaker is not None:
            cast.people[turn.speaker].spoke += 1
    learned: dict[str, int] = {}
    for _ in range(DECODE_ROUNDS):
        for conversation in conversations:
            _clues(text, quotes, cast, conversation, learned)
            decode(conversation, cast, _recent(cast, conversation))
        learned = _learn_descriptions(conversations)
    strangers: set[int] = set()
    for conversation in conversations:
        _other_voices(cast, conversation, own)
        strangers |= _strangers(text, cast, conversation, learned)
    _introductions(quotes, turns, own, cast, strangers)

    utterances = _utterances(quotes, turns, own, cast)
    logger.info(
        "attribution: %d quotes, %d characters", len(utterances), len(cast.characters)
    )
    return Attribution(cast.characters, utterances, cast.narrator_name)


def lowest_confidence(result: Attribution, count: int = 20) -> list[Utterance]:
    """The ``count`` least certain lines, for a user to check first."""
    return sorted(result.utterances, key=lambda u: u.confidence)[:count]


def _turns(text: str, quotes: list[Quote]) -> list[conv.Turn]:
    """Group the quotes by paragraph."""
    turns: list[conv.Turn] = []
    for i, q in enumerate(quotes):
        if turns and turns[-1].paragraph == q.paragraph:
            turns[-1].quotes.append(i)
            continue
        lo = max(0, q.start_char - 20_000)
        start = text.rfind("\n\n", lo, q.start_char)
        start = lo if start < 0 else start + 2
        start = _with_lead_in(text, start, turns[-1].end if turns else 0)
        if turns:
            start = max(start, turns[-1].end)
        turns.append(conv.Turn(q.paragraph, start, q.end_char, [i]))
    for k, turn in enumerate(turns):
        last = quotes[turn.quotes[-1]].end_char
        stop = text.find("\n\n", last, last + 20_000)
        stop = min(len(text), last + 20_000) if stop < 0 else stop
        if k + 1 < len(turns):
            stop = min(stop, quotes[turns[k + 1].quotes[0]].start_char)
        turn.end = max(stop, last)
    return turns


def _with_lead_in(text: str, start: int, floor: int) -> int:
    """Where a turn starts when the narration paragraph before it leads into its
    quote (``He added, with a smile,`` or ``She began:``): that paragraph's start.

    Only a paragraph without quotes, after ``floor``, is taken in.
    """
    lead = text[max(floor, start - LEAD_IN_REACH_CHARS) : start].rstrip()
    if not lead.endswith(LEAD_IN_ENDS):
        return start
    begin = text.rfind("\n\n", max(floor, start - LEAD_IN_REACH_CHARS), start - 2)
    if begin < 0 or any(mark in text[begin:start] for mark in '"\u201c\u201d'):
        return start
    return begin + 2


# TODO(#5): only thoughts with a tag leave the turn-taking; a quoted letter, a sung
# verse or an untagged thought still counts as a turn of the conversation.
def _spoken(conversation: list[conv.Turn]) -> list[conv.Turn]:
    """The turns said aloud: a named thought (``"…," thought Ann``) is nobody's turn
    in the conversation around it."""
    return [
        turn
        for turn in conversation
        if turn.speaker is None
        or not turn.tags
        or any(tag.verb not in tg.THOUGHT_VERBS for _, tag in turn.tags)
    ]


def _anchor(
    text: str,
    quotes: list[Quote],
    cast: Cast,
    conversation: list[conv.Turn],
    own: dict[int, tuple[int, float, str]],
) -> None:
    """Find each turn's tags and addressees; fix the turns a name tag settles.

    Besides the names a line calls out, the narration since the line before may
    turn it towards someone (``She turned to Ann.``): that person is addressed too.
    """
    for k, turn in enumerate(conversation):
        texts = [quotes[qi].text for qi in turn.quotes]
        turn.vocatives, turn.kin, turn.addressee_gender = find_vocatives(texts, cast)
        turn.own_kin = own_relatives(texts)
        turn.spoken_of = named_in_lines(texts, cast, turn.vocatives)
        turn.tags = _turn_tags(text, quotes, turn)
        # "She turned to Ann." before a line: the line is said to Ann.
        since = conversation[k - 1].end if k else turn.start - TOWARDS_REACH_CHARS
        lead = text[max(turn.scene_start, since) : quotes[turn.quotes[0]].start_char]
        for pid in narration_addressees(lead, cast):
            if pid not in turn.vocatives:
                turn.vocatives.append(pid)
        for piece in _tag_narration(text, quotes, turn):
            people, kin = said_to(piece, cast)
            turn.vocatives += [pid for pid in people if pid not in turn.vocatives]
            turn.kin += [word for word in kin if word not in turn.kin]
        for qi, tag in turn.tags:
            if tag.kind == "name" or tag.kind == "narrator":
                _take(turn, qi, _resolve(cast, tag, None), own)


def _tag_narration(text: str, quotes: list[Quote], turn: conv.Turn) -> list[str]:
    """The narration where a turn's speech tags stand: the end of the stretch before
    its first quote and the start of each stretch after a quote, each read on its own
    so that no pattern runs across a quote."""
    first = quotes[turn.quotes[0]].start_char
    pieces = [text[max(turn.start, first - tg.BEFORE_REACH_CHARS) : first]]
    for n, qi in enumerate(turn.quotes):
        last = n + 1 == len(turn.quotes)
        stop = turn.end if last else quotes[turn.quotes[n + 1]].start_char
        end = quotes[qi].end_char
        pieces.append(text[end : min(stop, end + tg.TAG_WINDOW_CHARS)])
    return pieces


def _clues(
    text: str,
    quotes: list[Quote],
    cast: Cast,
    conversation: list[conv.Turn],
    learned: dict[str, int],
) -> None:
    """Resolve pronoun, relation and description tags and the narration's subject.

    They lean on the speakers already chosen around each turn, so this runs again
    once the conversation has been decoded.
    """
    for turn in conversation:
        if turn.speaker is not None:
            for pid in kin_addressees(cast, turn.speaker, turn.kin):
                if pid not in turn.vocatives:
                    turn.vocatives.append(pid)
    for k, turn in enumerate(conversation):
        if turn.method in ("explicit", "narrator"):
            continue
        ctx = _context(conversation, k, turn.start)
        turn.pick, turn.pick_method = None, ""
        first = quotes[turn.quotes[0]].start_char
        since = conversation[k - 1].end if k else turn.start - SCENE_REACH_CHARS
        since = max(turn.scene_start, since)
        for _, tag in turn.tags:
            if tag.kind in ("name", "narrator"):
                continue
            local = replace(
                ctx,
                continues=tag.continues,
                replies=tag.replies,
                inward=tag.inward,
                addressees=tuple(turn.vocatives),
                relatives=relatives_named(
                    cast, text, since, min(first, tag.position), ctx
                ),
            )
            found = _resolve(cast, _chained(text, cast, tag, turn.start), local)
            if found is None and tag.words in learned:
                found = (learned[tag.words], 0.6, tag.kind)
            turn.gender_hint = tag.gender
            turn.continues = tag.continues
            turn.aside = tag.aside
            turn.thought = tag.verb in tg.THOUGHT_VERBS
            turn.replies = tag.replies
            if found is not None:
                turn.pick, turn.pick_confidence, turn.pick_method = found
            break
        clue = tg.actor(text, turn.start, first)
        found = _resolve(cast, clue, ctx) if clue is not None else None
        turn.actor = found[0] if found is not None else None
        if turn.actor is None and (turn.after_narration or k == 0):
            turn.asked = asked_person(text[since : turn.start], cast)
            clue = tg.actor(text, since, turn.start)
            found = _resolve(cast, clue, ctx) if clue is not None else None
            turn.scene_actor = found[0] if found is not None else None
            turn.responder = None
            # "Tom shook his head." between two lines was Tom's turn, not his lead-in.
            if (
                clue is not None
                and turn.after_narration
                and tg.responds(text, clue.position, turn.start)
            ):
                turn.responder, turn.scene_actor = turn.scene_actor, None


def _chained(text: str, cast: Cast, tag: tg.Tag, start: int) -> tg.Tag:
    """A pronoun tag moved back to its paragraph's start when the paragraph opens
    with the same pronoun and names nobody of that sex as a subject before the tag
    (``She read the letter again; that Ann had written it … she said``): the
    pronoun goes on meaning whom the paragraph's first word meant."""
    if tag.kind != "pronoun" or tag.position <= start:
        return tag
    lead = text[start : tag.position]
    begin = start + len(lead) - len(lead.lstrip())
    opening = _PRONOUN.match(text, begin)
    if opening is None or opening.group(1).lower() != tag.words:
        return tag
    for mention, pid in cast.mentions_before(tag.position, tag.position - begin):
        if cast.people[pid].gender == tag.gender and cast.subject_at(mention):
            return tag
    return replace(tag, position=begin)


def _learn_descriptions(conversations: list[list[conv.Turn]]) -> dict[str, int]:
    """Descriptions (``the painter``) and the person most often chosen for them.

    A description counts once it was used at least ``LEARN_MIN_USES`` times and the
    same person spoke at least half of those lines.
    """
    votes: dict[str, Counter[int]] = {}
    for conversation in conversations:
        for turn in conversation:
            tag = _first_clue_tag(turn)
            if tag is None or tag.kind != "description" or turn.speaker is None:
                continue
            votes.setdefault(tag.words, Counter())[turn.speaker] += 1
    learned: dict[str, int] = {}
    for words, counter in votes.items():
        pid, n = counter.most_common(1)[0]
        if n >= LEARN_MIN_USES and 2 * n >= sum(counter.values()):
            learned[words] = pid
    return learned


def _other_voices(
    cast: Cast,
    conversation: list[conv.Turn],
    own: dict[int, tuple[int, float, str]],
) -> None:
    """Give a quote its own speaker when its pronoun tag cannot mean the speaker of
    its paragraph (``"…," said Tom. … "…," she said``), or, when that speaker's sex
    is unknown, the narration since names someone of the pronoun's sex.
    """
    for k, turn in enumerate(conversation):
        if turn.speaker is None:
            continue
        gender = cast.people[turn.speaker].gender
        for qi, tag in turn.tags:
            if qi in own or tag.kind != "pronoun":
                continue
            if gender == tag.gender:
                continue
            if gender == "unknown" and not _someone_else_between(cast, turn, tag):
                continue
            ctx = replace(
                _context(conversation, k, turn.start), addressees=tuple(turn.vocatives)
            )
            pid, confidence = resolve_pronoun(cast, tag.gender, tag.position, ctx)
            if pid is not None:
                own[qi] = (pid, confidence, "pronoun")


def _someone_else_between(cast: Cast, turn: conv.Turn, tag: tg.Tag) -> bool:
    """True when, since the name tag before ``tag`` in the same paragraph, the
    narration names another person of the pronoun's sex (``"…," said the Porter.
    The countess frowned. "…," she said``)."""
    named = [
        t.position
        for _, t in turn.tags
        if t.kind == "name" and t.position < tag.position
    ]
    if not named:
        return False
    for _, pid in cast.mentions_before(tag.position, tag.position - max(named)):
        if pid != turn.speaker and cast.people[pid].gender == tag.gender:
            return True
    return False


def _strangers(
    text: str, cast: Cast, conversation: list[conv.Turn], learned: dict[str, int]
) -> set[int]:
    """Give a line tagged with a description nobody in the cast answers to (``said
    the policeman``) to a new person of that name; returns those people.

    Descriptions that say only where a voice came from or which of several spoke
    (``the voice``, ``the other``) are left to the turn-taking.
    """
    found: set[int] = set()
    for turn in conversation:
        tag = _first_clue_tag(turn)
        if (
            tag is None
            or tag.kind != "description"
            or turn.pick is not None
            or turn.method in ("explicit", "narrator")
            or tag.words in learned
            or not _plain_description(tag.words)
        ):
            continue
        words = tag.words[0].upper() + tag.words[1:]
        pid = cast.lookup(words)
        if pid is None:
            pid = cast.add_unknown(words)
            person = cast.people[pid]
            if person.gender == "unknown":
                person.gender = _description_gender(text, tag.words.split()[-1], turn)
        turn.speaker = pid
        turn.method, turn.confidence = "description", 0.5
        found.add(pid)
    return found


def _introductions(
    quotes: list[Quote],
    turns: list[conv.Turn],
    own: dict[int, tuple[int, float, str]],
    cast: Cast,
    strangers: set[int],
) -> None:
    """Someone known only by a description who says who they are ("My name is Hale")
    is that person in all their lines: the stranger's lines go to Mr. Hale."""
    named: dict[int, int] = {}
    for turn in turns:
        if turn.speaker not in strangers or turn.speaker in named:
            continue
        for qi in turn.quotes:
            m = _INTRODUCTION.search(quotes[qi].text)
            if m is None:
                continue
            pid = _introduced(cast, m.group("name"), cast.people[turn.speaker].gender)
            if pid is not None and pid not in strangers:
                named[turn.speaker] = pid
                break
    if not named:
        return
    for turn in turns:
        if turn.speaker in named:
            turn.speaker = named[turn.speaker]
    for qi, (pid, confidence, method) in list(own.items()):
        if pid in named:
            own[qi] = (named[pid], confidence, method)


def _introduced(cast: Cast, name: str, gender: str) -> int | None:
    """The person a self-introduction names: someone of the cast by that name, or by
    its last word with a title of the speaker's sex ("Edmund Hale" is "Mr. Hale"), or
    else a new person of that name."""
    pid = cast.lookup(name)
    if pid is not None:
        return pid
    titles = {"male": ("Mr.",), "female": ("Mrs.", "Miss")}.get(gender, ())
    last = name.split()[-1]
    for title in titles:
        pid = cast.lookup(f"{title} {last}")
        if pid is not None:
            return pid
    return resolve_name(cast, name)


def _description_gender(text: str, head: str, turn: conv.Turn) -> Gender:
    """The sex of someone known only by a noun, from the pronoun that follows the noun
    in its own sentence ("a tall stranger stood there, rain running from his hat"),
    with no name in between; looked for up to the end of the turn."""
    window = text[max(0, turn.start - DESCRIPTION_GENDER_REACH_CHARS) : turn.end]
    votes: Counter[str] = Counter()
    for m in re.finditer(
        rf"\b{re.escape(head)}\b([^.!?;\"\u201c\u201d]{{0,100}})", window
    ):
        rest = m.group(1)
        pronoun = _PRONOUN.search(rest)
        if pronoun and not _NAME_WORD.search(rest[: pronoun.start()]):
            votes[PRONOUN_GENDER[pronoun.group(1).lower()]] += 1
    male, female = votes["male"], votes["female"]
    if male > female:
        return "male"
    if female > male:
        return "female"
    return "unknown"


def _plain_description(words: str) -> bool:
    """True for a short description of one person by a noun of their own: ``the
    policeman``, ``a young soldier``; not ``the voice``, ``the other``, ``the``."""
    parts = words.split()
    return (
        2 <= len(parts) <= 3
        and parts[-1] not in UNSPECIFIC_HEADS
        and parts[-1].isalpha()
        and not parts[-1].endswith(("ly", "ing"))
    )


def _first_clue_tag(turn: conv.Turn) -> tg.Tag | None:
    """The turn's first tag that names nobody (a pronoun, relation or description)."""
    return next((t for _, t in turn.tags if t.kind not in ("name", "narrator")), None)


def _turn_tags(
    text: str, quotes: list[Quote], turn: conv.Turn
) -> list[tuple[int, tg.Tag]]:
    """The speech tag of each quote of a turn that has one."""
    out: list[tuple[int, tg.Tag]] = []
    for n, qi in enumerate(turn.quotes):
        q = quotes[qi]
        last = n + 1 == len(turn.quotes)
        stop = turn.end if last else quotes[turn.quotes[n + 1]].start_char
        begin = quotes[turn.quotes[n - 1]].end_char if n else turn.start
        tag = tg.tag_after(text, q.end_char, stop) or tg.tag_before(
            text, begin, q.start_char
        )
        if tag is not None:
            out.append((qi, tag))
    return out


def _take(
    turn: conv.Turn,
    qi: int,
    found: tuple[int, float, str] | None,
    own: dict[int, tuple[int, float, str]],
) -> None:
    """Record a name tag's person for the quote, and for its turn if still open."""
    if found is None:
        return
    own[qi] = found
    if turn.speaker is None:
        turn.speaker, turn.confidence, turn.method = found


def _context(conversation: list[conv.Turn], k: int, start: int) -> Context:
    """What the turns around turn ``k`` already say about who is talking."""

    def speaker(i: int) -> int | None:
        return conversation[i].speaker if 0 <= i < len(conversation) else None

    participants: list[int] = []
    later = range(k + 1, min(len(conversation), k + 6))
    order = [*range(k - 1, max(-1, k - 12), -1), *later]
    for i in order:
        pid = speaker(i)
        if pid is not None and pid not in participants:
            participants.append(pid)
    addressed = tuple(conversation[k - 1].vocatives) if k else ()
    after = conversation[k + 1] if k + 1 < len(conversation) else None
    named_next = after is not None and after.method in ("explicit", "narrator")
    following = after.speaker if after is not None and named_next else None
    return Context(
        start,
        speaker(k - 1),
        speaker(k - 2),
        participants,
        addressed=addressed,
        following=following,
        scene_start=conversation[k].scene_start,
        after_narration=conversation[k].after_narration,
    )


def _resolve(
    cast: Cast, tag: tg.Tag, ctx: Context | None
) -> tuple[int, float, str] | None:
    """A tag's person, with a confidence and the method's name."""
    if tag.kind in ("name", "actor") and tag.words.lower() not in ("he", "she", "i"):
        pid = resolve_name(cast, tag.words, create=tag.kind == "name")
        return None if pid is None else (pid, 0.95, "explicit")
    if tag.kind == "narrator" or tag.words == "I":
        return cast.narrator_pid(NARRATOR), 0.9, "narrator"
    if ctx is None:
        return None
    if tag.kind == "pronoun" or tag.words in ("he", "she"):
        gender = "male" if tag.words.lower() == "he" else "female"
        pid, confidence = resolve_pronoun(cast, gender, tag.position, ctx)
        return None if pid is None else (pid, confidence, "pronoun")
    if tag.kind == "relation":
        pid = resolve_relation(cast, tag.words, tag.position, ctx)
        return None if pid is None else (pid, 0.75, "relation")
    if tag.kind == "description":
        pid = resolve_description(cast, tag.words, tag.gender, tag.position, ctx)
        return None if pid is None else (pid, 0.5, "description")
    return None


def _recent(cast: Cast, conversation: list[conv.Turn]) -> list[int]:
    """People named in or just before a conversation's narration, most named first;
    nobody named before the scene break that opens its scene."""
    end = conversation[-1].end
    start = max(conversation[0].start - RECENT_REACH_CHARS, conversation[0].scene_start)
    reach = end - start
    counts: Counter[int] = Counter(pid for _, pid in cast.mentions_before(end, reach))
    return [pid for pid, _ in counts.most_common()]


def _utterances(
    quotes: list[Quote],
    turns: list[conv.Turn],
    own: dict[int, tuple[int, float, str]],
    cast: Cast,
) -> list[Utterance]:
    """One utterance per quote: its own tag's speaker, else its paragraph's."""
    default = max(cast.kept, key=lambda p: cast.people[p].mentions, default=None)
    out: list[Utterance] = []
    for turn in turns:
        for qi in turn.quotes:
            if qi in own:
                pid, confidence, method = own[qi]
            elif turn.speaker is not None:
                pid, confidence, method = turn.speaker, turn.confidence, turn.method
            else:
                pid, confidence, method = default, 0.1, "fallback"
            name = NARRATOR if pid is None else cast.name_of(pid)
            out.append(Utterance(quotes[qi], name, round(confidence, 3), method))
    return out
