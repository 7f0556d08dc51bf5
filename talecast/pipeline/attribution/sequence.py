"""Choose the speakers of a whole conversation at once.

Each turn's clues (a named tag, a pronoun's gender, the person a pronoun or relation was
resolved to, the subject of the narration around it, who it addresses or speaks of by
name, whose father it calls ``papa``) score every candidate; the order of turns adds
what conversations usually do: speakers change from one paragraph to the next, two
people alternate, and the person just addressed answers; a paragraph of narration
between two turns breaks those habits off, and a thought is nobody's turn.
A search over pairs of consecutive speakers (Viterbi, forwards and backwards) gives each
turn the speaker of the best-scoring sequence; how far the best sequence with someone
else at that turn falls behind sets the turn's confidence. Between otherwise equal
candidates, someone a tag names in the conversation is preferred.
"""

from __future__ import annotations

import logging
import math

from talecast.pipeline.attribution.cast import Cast
from talecast.pipeline.attribution.conversation import Turn
from talecast.pipeline.attribution.vocatives import kin_addressees

# Scores (log-odds-like points) of the clues and habits described above.
NAMED = 8.0  # an explicit tag names this person
PICKED = 1.5  # a pronoun tag was resolved to this person
PICKED_SURE = 4.0  # ...with a clear lead over anyone else
SURE_PICK = 0.7  # the pronoun resolution's confidence that counts as a clear lead
RELATED = 3.0  # a relation or description tag was resolved to this person
ACTOR = 3.5  # the person is the subject of the narration around the quote
SCENE_ACTOR = 1.5  # ...or of the narration paragraph just before it
WRONG_GENDER = -4.0  # the tag's pronoun does not fit the person's gender
UNKNOWN_GENDER = -1.0  # the person's gender is unknown but the tag has one
SELF_ADDRESSED = -4.0  # the line calls this person by name: not its speaker
SPOKEN_OF = -4.0  # the line speaks of this person by name: rarely its speaker
ADDRESSED = 2.5  # the line before called this person by name
REPLIED_TO = 0.5  # the line after calls this person by name
POLITE_MISMATCH = -2.0  # the line before or after said "sir" and this is a woman
KIN_CALLER = 2.0  # "papa" or "my mother": this person's parent is in the cast
SAME_AGAIN = -3.0  # the same person speaks two paragraphs running
CONTINUES = 4.0  # ...unless the tag says so ("she added", "she said to herself")
ALTERNATES = 1.5  # the speaker of two turns back speaks again
NARRATION_BETWEEN = 0.0  # share of those habits that survives a narration paragraph
TIE_BREAK = 0.01  # between equals, someone a tag names in the conversation
MAX_CANDIDATES = 8
MARGIN_SCALE = 3.0  # points of lead over the runner-up that make a line fairly sure
# How far back before a conversation someone of a tag's sex is looked for when no
# candidate has it, in characters.
GENDER_REACH_CHARS = 50_000

_TAGGED = ("explicit", "narrator")
# Kinship words that call a parent, and the titles of a married man or woman.
PARENT_WORDS = frozenset({"papa", "mamma", "mama", "father", "mother"})
MARRIED_TITLES = frozenset({"mr", "mrs"})

logger = logging.getLogger(__name__)


# TODO(#5): untagged lines remain the main errors: the first line of a scene and a
# third person joining a two-person exchange are right only about 58 % of the time,
# lines after a narration paragraph about 72 %; over a long untagged run someone who
# never speaks can stand in for a tagged speaker of the same sex.
def decode(conversation: list[Turn], cast: Cast, before: list[int]) -> None:
    """Set ``speaker``, ``method`` and ``confidence`` of every untagged turn, in place.

    ``before`` lists people named in or shortly before the conversation, most named
    first; they join the candidates after everyone a clue points to.
    """
    candidates = _candidates(conversation, cast, before)
    if not candidates:
        return
    named = {t.speaker for t in conversation if t.method in _TAGGED}
    emit = [
        {
            c: _emission(conversation, k, c, cast) + (TIE_BREAK if c in named else 0)
            for c in candidates
        }
        for k in range(len(conversation))
    ]
    path, margins = _viterbi(conversation, candidates, emit)
    logger.debug(
        "sequence: %d turns decoded among %d candidates",
        len(conversation),
        len(candidates),
    )
    for turn, pid, margin in zip(conversation, path, margins, strict=True):
        if turn.method in _TAGGED:
            continue
        if pid == turn.pick:
            turn.method = turn.pick_method
        elif pid == turn.actor:
            turn.method = "narration"
        elif len(conversation) > 1:
            turn.method = "turn-taking"
        else:
            turn.method = "recent"
        turn.speaker = pid
        sureness = 1.0 - math.exp(-margin / MARGIN_SCALE)
        turn.confidence = round(0.3 + 0.6 * sureness, 3)


def _candidates(conversation: list[Turn], cast: Cast, before: list[int]) -> list[int]:
    """Everyone with a clue in the conversation, then people named just before it."""
    seen: list[int] = []
    for turn in conversation:
        for pid in (turn.speaker, turn.pick, turn.actor, turn.scene_actor, turn.asked):
            if pid is not None and pid not in seen:
                seen.append(pid)
    # Someone only called by name joins when the narration shows them present: a
    # line may hail the absent ("Here is to you, Captain Hale!").
    present = set(seen) | set(before)
    for turn in conversation:
        for pid in turn.vocatives:
            if pid in present and pid not in seen:
                seen.append(pid)
    for pid in before:
        if len(seen) >= MAX_CANDIDATES:
            break
        person = cast.people[pid]
        known = person.spoke or person.mentions > 4
        if pid not in seen and not person.place and known:
            seen.append(pid)
    for gender in _missing_genders(conversation, cast, seen):
        pid = _last_of_gender(cast, gender, conversation[0].start)
        if pid is not None:
            seen.append(pid)
    return seen


def _missing_genders(
    conversation: list[Turn], cast: Cast, candidates: list[int]
) -> list[str]:
    """Sexes a tag gives (``said he``) that no candidate has."""
    have = {cast.people[c].gender for c in candidates}
    hinted = {t.gender_hint for t in conversation} & {"male", "female"}
    return sorted(hinted - have)


def _last_of_gender(cast: Cast, gender: str, pos: int) -> int | None:
    """The person of ``gender`` named last before ``pos``, within reach."""
    for _, pid in cast.mentions_before(pos, GENDER_REACH_CHARS):
        person = cast.people[pid]
        if person.gender == gender and not person.place:
            return pid
    return None


def _emission(conv: list[Turn], k: int, c: int, cast: Cast) -> float:
    """How well candidate ``c`` fits turn ``k``'s own clues."""
    turn = conv[k]
    person = cast.people[c]
    score = 0.0
    if turn.method in _TAGGED:
        return score + (NAMED if turn.speaker == c else -NAMED)
    if turn.gender_hint in ("male", "female"):
        if person.gender == "unknown":
            score += UNKNOWN_GENDER
        elif person.gender != turn.gender_hint:
            score += WRONG_GENDER
    if turn.pick == c:
        if turn.pick_method in ("relation", "description"):
            score += RELATED
        else:
            score += PICKED if turn.pick_confidence < SURE_PICK else PICKED_SURE
    if turn.actor == c:
        score += ACTOR
    elif turn.scene_actor == c:
        score += SCENE_ACTOR
    if turn.responder == c:
        score += SAME_AGAIN  # the narration just gave their answer
    if c in turn.vocatives:
        score += SELF_ADDRESSED
    elif c in turn.spoken_of:
        score += SPOKEN_OF
    if c == turn.asked:
        score += ADDRESSED
    kin = turn.kin + [w for w in turn.own_kin if w not in turn.kin]
    if kin and _calls_relative(cast, c, kin):
        score += KIN_CALLER
    if k > 0 and conv[k - 1].addressee_gender in ("male", "female"):
        if person.gender not in ("unknown", conv[k - 1].addressee_gender):
            score += POLITE_MISMATCH
    if k + 1 < len(conv) and c in conv[k + 1].vocatives:
        score += REPLIED_TO
    if k + 1 < len(conv) and conv[k + 1].addressee_gender in ("male", "female"):
        # "Yes, sir." answers a man: the line before was not a woman's.
        if person.gender not in ("unknown", conv[k + 1].addressee_gender):
            score += POLITE_MISMATCH
    return score


def _calls_relative(cast: Cast, c: int, kin: list[str]) -> bool:
    """True when ``c`` has the relative a line calls by a kinship word: a father for
    ``papa`` (unless ``c`` is married: Mrs. X's Mr. X is her husband), a wife for
    ``my dear wife`` (only when ``c`` is married)."""
    married = cast.people[c].title in MARRIED_TITLES
    words = [w for w in kin if (w in PARENT_WORDS) != married]
    return bool(words) and bool(kin_addressees(cast, c, words))


def _transition(
    conv: list[Turn], k: int, a: int | None, b: int | None, c: int
) -> float:
    """Points for ``c`` speaking turn ``k`` after ``a`` then ``b``.

    A thought is nobody's turn in the exchange: it earns no points, and the turn
    after it follows the speaker before it (``a``).
    """
    score = 0.0
    if conv[k].thought:
        return score
    if k > 0 and conv[k - 1].thought:
        a, b = None, a
    elif k > 0 and conv[k - 1].responder not in (None, b):
        a = conv[k - 1].responder  # their answer in narration came just before b's
    weight = NARRATION_BETWEEN if conv[k].after_narration else 1.0
    if c == b:
        if conv[k].continues or conv[k].aside:
            score += CONTINUES
        elif conv[k].responder not in (None, b):
            score += ALTERNATES  # someone answered in the narration: b goes on
        else:
            score += SAME_AGAIN if conv[k].replies else weight * SAME_AGAIN
    elif c == a:
        score += weight * ALTERNATES
    if k > 0 and c != b and not conv[k - 1].thought and c in conv[k - 1].vocatives:
        score += weight * ADDRESSED
    return score


_State = tuple[int | None, int]


def _viterbi(
    conv: list[Turn], cands: list[int], emit: list[dict[int, float]]
) -> tuple[list[int], list[float]]:
    """Best speaker sequence over states (previous speaker, speaker), and for each
    turn how much worse the best sequence giving that turn another speaker scores."""
    forward = _forward(conv, cands, emit)
    backward = _backward(conv, cands, emit)

    path: list[int] = []
    margins: list[float] = []
    for k in range(len(conv)):
        best_by_speaker: dict[int, float] = {}
        for state, score in forward[k].items():
            total = score + backward[k].get(state, 0.0)
            if total > best_by_speaker.get(state[1], float("-inf")):
                best_by_speaker[state[1]] = total
        ranked = sorted(best_by_speaker.items(), key=lambda kv: -kv[1])
        path.append(ranked[0][0])
        margins.append(ranked[0][1] - ranked[1][1] if len(ranked) > 1 else 10.0)
    return path, margins


def _forward(
    conv: list[Turn], cands: list[int], emit: list[dict[int, float]]
) -> list[dict[_State, float]]:
    """Best score of any sequence up to turn ``k`` ending in each state."""
    layers: list[dict[_State, float]] = [{(None, c): emit[0][c] for c in cands}]
    for k in range(1, len(conv)):
        layer: dict[_State, float] = {}
        for (a, b), score in layers[-1].items():
            for c in cands:
                total = score + emit[k][c] + _transition(conv, k, a, b, c)
                if total > layer.get((b, c), float("-inf")):
                    layer[(b, c)] = total
        layers.append(layer)
    return layers


def _backward(
    conv: list[Turn], cands: list[int], emit: list[dict[int, float]]
) -> list[dict[_State, float]]:
    """Best score of the turns after ``k`` given each state at turn ``k``."""
    layers: list[dict[_State, float]] = [{} for _ in conv]
    for k in range(len(conv) - 2, -1, -1):
        later = layers[k + 1]
        layer: dict[_State, float] = {}
        for a in [None, *cands]:
            for b in cands:
                layer[(a, b)] = max(
                    emit[k + 1][c]
                    + _transition(conv, k + 1, a, b, c)
                    + later.get((b, c), 0.0)
                    for c in cands
                )
        layers[k] = layer
    return layers
