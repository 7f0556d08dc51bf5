"""Speaker attribution: tags, pronouns, turn-taking, narrators, the dev set."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from talecast.pipeline.attribution import attribute, lowest_confidence
from talecast.pipeline.attribution.conversation import Turn
from talecast.pipeline.attribution.resolve import Context, resolve_pronoun
from talecast.pipeline.attribution.sequence import decode
from talecast.pipeline.attribution.tags import tag_after, tag_before
from talecast.pipeline.attribution.vocatives import find_vocatives
from talecast.pipeline.characters import build_cast
from talecast.pipeline.dialogue import find_quotes
from talecast.pipeline.types import NARRATOR

REPO = Path(__file__).resolve().parents[2]
EVAL_DIR = REPO.parent / "shared" / "eval"


def _speakers(text: str) -> list[str]:
    return [u.speaker for u in attribute(text).utterances]


INTRO = (
    "Clara Whitlow lived with her father. Mr. Ashby often called on Clara. "
    "Marian Ashdown was her friend. Mr. Whitlow liked him.\n\n"
)


@pytest.mark.parametrize(
    "line, speaker",
    [
        ('"It is late," said Clara.', "Clara Whitlow"),
        ('"It is late," Clara said.', "Clara Whitlow"),
        ('"It is late," Mr. Ashby replied.', "Mr. Ashby"),
        ('"It is late," cried Marian warmly.', "Marian Ashdown"),
        ('"It is late," broke in Mr. Whitlow.', "Mr. Whitlow"),
        ('Mr. Ashby turned to her and said, "It is late."', "Mr. Ashby"),
    ],
)
def test_attribute_reads_explicit_tags_of_every_shape(line: str, speaker: str) -> None:
    assert _speakers(INTRO + line) == [speaker]


def test_attribute_resolves_pronoun_tags_by_gender_and_recency() -> None:
    text = (
        "Mr. Ashby came in. Marian Ashdown looked up.\n\n"
        '"Good morning," said he.\n\n'
        '"Good morning," she returned.'
    )
    assert _speakers(text) == ["Mr. Ashby", "Marian Ashdown"]


def test_attribute_resolves_relation_tags_through_the_family_name() -> None:
    text = (
        "Mr. Hollis sat by the fire. Mrs. Hollis came in. Mr. Hollis looked up.\n\n"
        '"You are late," cried his wife.\n\n'
        "Ruth Hollis laughed.\n\n"
        '"Hush, child," said her mother.'
    )
    assert _speakers(text) == ["Mrs. Hollis", "Mrs. Hollis"]


def test_attribute_gives_untagged_lines_by_turn_taking() -> None:
    text = (
        "Tom Brown met Mary Jones in the lane.\n\n"
        '"Where are you going?" said Tom.\n\n'
        '"To the market," said Mary.\n\n'
        '"May I come?"\n\n'
        '"If you like."\n\n'
        '"Thank you."'
    )
    assert _speakers(text) == [
        "Tom Brown",
        "Mary Jones",
        "Tom Brown",
        "Mary Jones",
        "Tom Brown",
    ]


def test_attribute_gives_the_reply_to_the_person_addressed() -> None:
    text = (
        "Mr. Hollis and Mrs. Hollis sat with Margaret Hollis after dinner.\n\n"
        '"My dear Mr. Hollis," said his lady, "has the carrier been today?"\n\n'
        '"Not yet."\n\n'
        '"Peggy, you must go and ask."\n\n'
        '"Not I, mamma."'
    )
    speakers = _speakers(text)
    assert speakers[:2] == ["Mrs. Hollis", "Mrs. Hollis"]
    assert speakers[2] == "Mr. Hollis"
    assert speakers[4] == "Margaret Hollis"


def test_attribute_resets_turn_taking_after_a_scene_break() -> None:
    text = (
        "Tom Brown met Mary Jones.\n\n"
        '"Hello," said Tom.\n\n'
        '"Hello," said Mary.\n\n'
        "CHAPTER II\n\n"
        "Years later, Ann Green sat alone with Mary Jones in a garden.\n\n"
        '"Is it you?"'
    )
    last = attribute(text).utterances[-1]
    assert last.speaker != "Tom Brown"
    assert last.method != "turn-taking"


def test_attribute_gives_an_interrupted_quote_one_speaker() -> None:
    text = INTRO + '"Well," said Mr. Ashby, "I must go."'
    result = attribute(text)
    assert [u.speaker for u in result.utterances] == ["Mr. Ashby"] * 2
    assert result.utterances[0].quote.group == result.utterances[1].quote.group


def test_attribute_names_a_first_person_narrator() -> None:
    text = (
        "My name is Pip. I was a small boy and I lived with my sister.\n\n"
        '"Hold your noise!" cried a terrible voice.\n\n'
        '"Oh, don\'t cut my throat, sir," I pleaded.'
    )
    result = attribute(text)
    assert result.narrator_name == "Pip"
    assert result.utterances[-1].speaker == "Pip"


def test_attribute_calls_an_unnamed_first_person_narrator_narrator() -> None:
    text = 'I walked home alone. I was tired.\n\n"Who is there?" I asked.'
    assert _speakers(text) == [NARRATOR]


def test_attribute_handles_a_story_without_dialogue() -> None:
    result = attribute("The wind blew over the moor. Nobody spoke.")
    assert result.utterances == []


def test_attribute_gives_every_quote_a_name_and_confidence() -> None:
    text = '"Who is there?"\n\n"Nobody."'
    result = attribute(text)
    assert len(result.utterances) == 2
    for u in result.utterances:
        assert u.speaker and not u.speaker.startswith("SPEAKER")
        assert 0.0 <= u.confidence <= 1.0 and u.method


def test_lowest_confidence_lists_the_least_certain_lines_first() -> None:
    text = INTRO + '"Hello," said Clara.\n\n"Hi."\n\n"Bye."'
    lines = lowest_confidence(attribute(text), 2)
    assert len(lines) == 2
    assert lines[0].confidence <= lines[1].confidence < 0.95


@pytest.mark.skipif(not (EVAL_DIR / "pdnc").is_dir(), reason="dev set not present")
def test_attribute_scores_on_a_dev_novel(tmp_path: Path) -> None:
    novel = EVAL_DIR / "pdnc" / "PrideAndPrejudice"
    result = attribute((novel / "novel.txt").read_text(encoding="utf-8"))
    pred = tmp_path / "pred.jsonl"
    with open(pred, "w", encoding="utf-8") as f:
        for u in result.utterances:
            f.write(
                json.dumps(
                    {
                        "novel": novel.name,
                        "start_char": u.quote.start_char,
                        "end_char": u.quote.end_char,
                        "speaker": u.speaker,
                    }
                )
                + "\n"
            )
    out = tmp_path / "score.json"
    subprocess.run(
        [
            sys.executable,
            str(EVAL_DIR / "score_attribution.py"),
            "--gold",
            str(novel / "quotes.jsonl"),
            "--pred",
            str(pred),
            "--characters",
            str(novel / "characters.jsonl"),
            "--json",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    score = json.loads(out.read_text())
    assert score["detection_f1"] >= 0.95
    assert score["attribution_accuracy"] >= 0.65


def test_attribute_reads_was_his_answer_tags() -> None:
    text = INTRO + '"It is late," was Mr. Whitlow\'s observation.'
    assert _speakers(text) == ["Mr. Whitlow"]


def test_attribute_gives_the_reply_to_the_parent_called_papa() -> None:
    text = (
        "Clara Whitlow sat with Mr. Whitlow and Mr. Ashby by the fire.\n\n"
        '"The weather is fine," said Mr. Ashby.\n\n'
        '"Do you think so, papa?" said Clara.\n\n'
        '"My dear, I am never sure of the weather."'
    )
    assert _speakers(text)[-1] == "Mr. Whitlow"


def test_attribute_resolves_a_title_used_as_a_description() -> None:
    text = (
        "Julian Penrose met the Duchess of Wexmoor in the library. Julian Penrose "
        "bowed.\n\n"
        '"You are late," said the duchess.\n\n'
        '"I was detained," he answered.'
    )
    assert _speakers(text) == ["Duchess of Wexmoor", "Julian Penrose"]


def test_attribute_does_not_let_turn_taking_cross_a_narration_paragraph() -> None:
    text = (
        "Tom Brown and Mary Jones walked home. Ann Green joined them.\n\n"
        '"It is cold," said Tom.\n\n'
        '"Very," said Mary.\n\n'
        "They walked on. Ann Green looked at the sky for a while.\n\n"
        '"Snow is coming."'
    )
    last = attribute(text).utterances[-1]
    assert last.speaker == "Ann Green"


def test_attribute_does_not_take_a_one_word_name_answer_for_an_address() -> None:
    text = (
        "Mr. Pell and Mrs. Pell sat at breakfast. Mr. Hale was a neighbour.\n\n"
        '"Someone has bought the mill," said Mrs. Pell.\n\n'
        '"Who has bought it?" asked Mr. Pell.\n\n'
        '"Hale."\n\n'
        '"Is he rich?"'
    )
    assert _speakers(text) == ["Mrs. Pell", "Mr. Pell", "Mrs. Pell", "Mr. Pell"]


def test_attribute_uses_a_given_character_list_and_its_names() -> None:
    from talecast.pipeline.types import Character

    text = (
        "Peggy walked in. Mr. Thorne bowed.\n\n"
        '"Good day," said Peggy.\n\n'
        '"Good day," said Thorne.'
    )
    given = [
        Character("Margaret Hollis", ["Peggy", "Margaret"], "female"),
        Character("Lucian Thorne", ["Mr. Thorne", "Thorne"], "male"),
    ]
    result = attribute(text, characters=given)
    assert [u.speaker for u in result.utterances] == [
        "Margaret Hollis",
        "Lucian Thorne",
    ]


def _addressed(story: str, line: str) -> list[str]:
    cast = build_cast(story, find_quotes(story))
    people, _, _ = find_vocatives([line], cast)
    return [cast.people[p].name for p in people]


STORY = (
    "Tom Reed came home. Anna Grey was waiting. Mr. Hale, the miller, passed by. "
    "Tom waved to Mr. Hale. Anna Grey smiled at Tom Reed.\n\n"
)


def test_vocatives_skip_a_name_that_is_the_subject_after_an_aside() -> None:
    assert _addressed(STORY, "Mr. Hale, I think, was quite right.") == []
    assert _addressed(STORY, "Mr. Hale, is that you?") == ["Mr. Hale"]


def test_vocatives_see_a_name_behind_a_word_of_endearment() -> None:
    assert _addressed(STORY, "Dear Tom!") == ["Tom Reed"]


def test_attribute_reads_a_tag_in_the_narration_paragraph_leading_in() -> None:
    text = (
        "Tom Reed and Anna Grey sat by the stove.\n\n"
        '"Will the snow stop?" said Tom.\n\n'
        '"Not before night," said Anna.\n\n'
        "The kettle sang. For a long while nobody moved. At last Anna said, "
        "without looking up,\n\n"
        '"Then we must wait."'
    )
    assert _speakers(text)[-1] == "Anna Grey"


def test_attribute_skips_someone_only_called_by_name_who_is_not_there() -> None:
    filler = "The road ran on between the fields and the hedges. " * 70
    text = (
        "Captain Hale sailed away. Captain Hale wrote no letters. Captain Hale "
        "was gone. Captain Hale was far away.\n\n"
        + filler
        + "\n\nTom Reed and Anna Grey sat by the stove. Tom Reed poked the fire.\n\n"
        '"I wish the winter were over," said Tom.\n\n'
        '"So do I," said Anna.\n\n'
        '"Here is to you, Captain Hale, wherever you are!"\n\n'
        '"And to his safe return."'
    )
    speakers = _speakers(text)
    assert "Captain Hale" not in speakers
    assert speakers[-1] == "Anna Grey"


def test_attribute_prefers_the_latest_name_of_the_pronouns_gender() -> None:
    text = (
        "Mrs. Dale kept the inn.\n\n"
        "Mrs. Dale sat sewing by the fire, and Anna Grey came in and stood by "
        "the window.\n\n"
        '"It is raining again," said she.'
    )
    assert _speakers(text) == ["Anna Grey"]


def test_resolve_pronoun_passes_over_the_next_paragraphs_named_speaker() -> None:
    text = (
        "Kate Moss knew the village well.\n\n"
        "Kate Moss and Anna Grey walked to the church.\n\n"
        '"What a fine old tower," said she.\n\n'
        '"It is older than the village," replied Anna.'
    )
    cast = build_cast(text, find_quotes(text))
    anna = cast.lookup("Anna Grey")
    tag = text.index("she.")
    alone = resolve_pronoun(cast, "female", tag, Context(text.index('"What')))
    before_anna = Context(text.index('"What'), following=anna)
    assert alone[0] == anna
    kate = cast.lookup("Kate Moss")
    assert resolve_pronoun(cast, "female", tag, before_anna)[0] == kate


def test_resolve_pronoun_gives_he_continued_to_the_last_man_who_spoke() -> None:
    text = (
        "Mr. Hale owned the mill. Mr. Hale was old. Tom Reed, Anna Grey and Kate "
        "Moss stood at the gate with Mr. Hale.\n\n"
        '"The bridge is down," said Tom.\n\n'
        '"Then we wait," said Anna.\n\n'
        '"Or we go round by the mill," said Kate. Mr. Hale nodded.\n\n'
        '"Or we swim," he continued.'
    )
    cast = build_cast(text, find_quotes(text))
    tom, anna, kate = (cast.lookup(n) for n in ("Tom Reed", "Anna Grey", "Kate Moss"))
    ctx = Context(
        text.index('"Or we s'),
        previous=kate,
        before_previous=anna,
        participants=[kate, anna, tom],
        continues=True,
    )
    assert resolve_pronoun(cast, "male", text.index("he continued"), ctx)[0] == tom


def test_attribute_leaves_a_named_thought_out_of_the_turn_taking() -> None:
    text = (
        "Tom Reed met Anna Grey at the gate.\n\n"
        '"Will you walk with me to the fair?" said Tom.\n\n'
        '"Not with him, never," thought Anna.\n\n'
        '"Perhaps another day."\n\n'
        '"Then tomorrow?"'
    )
    assert _speakers(text) == ["Tom Reed", "Anna Grey", "Anna Grey", "Tom Reed"]


def test_decode_breaks_a_tie_for_someone_a_tag_names_in_the_conversation() -> None:
    story = "Kate Moss, Anna Grey and Tom Reed sat in the orchard. Kate Moss sang."
    cast = build_cast(story, find_quotes(story))
    kate, anna, tom = (cast.lookup(n) for n in ("Kate Moss", "Anna Grey", "Tom Reed"))
    turns = [
        Turn(0, 0, 10, [0], actor=kate),
        Turn(1, 10, 20, [1], speaker=tom, method="explicit"),
        Turn(2, 20, 30, [2], after_narration=True),
        Turn(3, 30, 40, [3], speaker=anna, method="explicit", after_narration=True),
    ]
    decode(turns, cast, [kate, anna, tom])
    assert turns[0].speaker == kate
    assert turns[2].speaker in (tom, anna)


def test_attribute_gives_the_reply_to_whom_the_narration_turns_a_line() -> None:
    text = (
        "Tom Reed, Anna Grey and Ned Hale sat by the stove.\n\n"
        '"The snow is deep," said Ned.\n\n'
        '"Deeper than last year," said Tom.\n\n'
        "Ned stood up and turned to Anna. "
        '"Will you walk home tonight?"\n\n'
        '"Not in this weather."'
    )
    assert _speakers(text)[-1] == "Anna Grey"


def test_attribute_gives_a_pronoun_tag_of_the_other_sex_its_own_speaker() -> None:
    text = (
        "Tom Reed and Anna Grey came to the stile.\n\n"
        '"The gate is shut," said Tom. Anna looked at the high wall. '
        '"Then we must climb it," she said.'
    )
    assert _speakers(text) == ["Tom Reed", "Anna Grey"]


def test_attribute_finds_a_man_for_said_he_when_none_was_named_lately() -> None:
    filler = "The rain fell on the roofs of the town all that long grey day. " * 60
    text = (
        "Tom Reed came home to the farm. Tom Reed sat down.\n\n"
        + filler
        + "\n\nAnna Grey came in from the yard. Anna Grey shook her cloak.\n\n"
        '"What weather," said Anna.\n\n'
        '"It will clear by night," said he.'
    )
    assert _speakers(text)[-1] == "Tom Reed"


def test_attribute_takes_a_titled_description_in_narration_for_the_speaker() -> None:
    text = (
        "The Duchess of Kent, Anna Grey and Mr. Reed sat by the fire. Mr. Reed read."
        "\n\n"
        '"It is cold," said Mr. Reed.\n\n'
        '"Very cold," said Anna.\n\n'
        'The duchess rose and looked out of the window. "Snow again!"'
    )
    assert _speakers(text)[-1] == "Duchess of Kent"


def test_attribute_looks_for_he_only_inside_the_chapter() -> None:
    text = (
        "Mr. Reed sat in the study. Mr. Reed wrote letters. Mr. Reed rang the bell."
        "\n\n"
        '"Bring the lamp," said Mr. Reed.\n\n'
        "CHAPTER II\n\n"
        "Tom Hale came into the garden, where Anna Grey was reading.\n\n"
        '"Good morning," said he.'
    )
    assert _speakers(text) == ["Mr. Reed", "Tom Hale"]


def test_attribute_passes_over_a_name_after_a_preposition_for_he() -> None:
    text = (
        "Ned Hale had known Tom Reed since school. Ned Hale was the elder.\n\n"
        "Ned Hale came home late that night. Sitting down at the desk, he wrote a "
        "long letter to Tom Reed.\n\n"
        '"Post this at once," he said.'
    )
    assert _speakers(text) == ["Ned Hale"]


def test_attribute_reads_a_description_then_its_verb_after_a_quote() -> None:
    text = (
        "Tom Reed and Anna Grey met the Miller at the bridge.\n\n"
        '"Good day," said Tom.\n\n'
        '"A fine day," said Anna.\n\n'
        '"Rain by night," the Miller added with a nod to them both.'
    )
    assert _speakers(text) == ["Tom Reed", "Anna Grey", "The Miller"]


def test_attribute_does_not_take_the_one_turned_to_for_the_speaker() -> None:
    text = (
        "Ned Hale and Tom Reed stood at the gate.\n\n"
        'Ned turned to Tom and said, "We must go before the rain."'
    )
    assert _speakers(text) == ["Ned Hale"]


def test_attribute_gives_a_line_calling_papa_to_his_child() -> None:
    text = (
        "Anna Hale was seventeen. Anna Hale kept house, and Anna Hale read well; "
        "Anna Hale was happy. Mr. Hale sat by the fire with Anna Hale, and Tom Reed "
        "had come to dine.\n\n"
        '"It is a cold night," said Tom Reed.\n\n'
        '"Will you have more tea?" said Mr. Hale.\n\n'
        '"Thank you, papa, I will."'
    )
    assert _speakers(text)[-1] == "Anna Hale"


def test_attribute_gives_the_line_answered_with_sir_to_a_man() -> None:
    text = (
        "Tom Reed, Anna Grey and Kate Moss waited in the hall.\n\n"
        '"Is the coach come?" said Tom.\n\n'
        '"The coach is late," said Anna.\n\n'
        '"It always is," said Kate.\n\n'
        '"Shall I ask at the inn?"\n\n'
        '"Yes, sir, if you would be so kind."'
    )
    assert _speakers(text)[3] == "Tom Reed"


def test_attribute_counts_the_duchess_in_the_narration_as_a_mention() -> None:
    text = (
        "The Duchess of Kent and Anna Grey sat in the garden. Anna Grey had been "
        "reading, and Anna Grey closed her book.\n\n"
        "The duchess looked up at the sky and frowned.\n\n"
        '"It will rain before night," said she.'
    )
    assert _speakers(text) == ["Duchess of Kent"]


def test_attribute_keeps_the_title_of_a_name_after_a_capitalised_word() -> None:
    text = (
        "Mr. Hale and Mrs. Hale sat at breakfast with Tom Reed.\n\n"
        'As Mrs. Hale observed, "The eggs are cold."'
    )
    assert _speakers(text) == ["Mrs. Hale"]


def test_attribute_gives_the_answer_to_whom_the_narration_asked() -> None:
    text = (
        "Tom Reed, Anna Grey and Kate Moss sat at supper.\n\n"
        '"The roads are bad," said Kate.\n\n'
        '"Worse than last winter," said Tom.\n\n'
        "Kate asked Anna quietly whether the coach had come.\n\n"
        '"Not yet; it is always late."'
    )
    assert _speakers(text)[-1] == "Anna Grey"


def test_attribute_gives_a_line_of_an_unnamed_porter_to_the_porter() -> None:
    text = (
        "Tom Reed and Anna Grey stopped at the gate of the mill.\n\n"
        '"Is the miller in?" said Tom.\n\n'
        '"I hope so," said Anna.\n\n'
        '"Gone to market," answered the porter.'
    )
    assert _speakers(text) == ["Tom Reed", "Anna Grey", "The porter"]


def test_an_unnamed_speaker_takes_the_sex_a_pronoun_gives_the_noun() -> None:
    from talecast.pipeline.attribution import attribute

    text = (
        "Tom Reed and Anna Grey waited at the gate of the mill. A porter came out,"
        " wiping the flour from her arms.\n\n"
        '"Is the miller in?" said Tom.\n\n'
        '"Gone to market," answered the porter.\n\n'
        "A carter crossed the yard. Nobody spoke to him.\n\n"
        '"Mind the wheel," called the carter.\n\n'
        '"Thank you," said Anna.'
    )
    genders = {c.name: c.gender for c in attribute(text).characters}
    assert genders["The porter"] == "female"
    assert genders["The carter"] == "unknown"  # "him" is in another sentence


def test_a_stranger_who_says_who_he_is_is_that_person_in_all_his_lines() -> None:
    text = (
        "Kate Bell and Anna Grey sat by the fire when a stranger came in, shaking the"
        " snow from his coat.\n\n"
        '"Forgive me," said the stranger. "The road is closed. '
        'My name is Ned Marsh."\n\n'
        '"Sit down, Mr. Marsh," said Kate.\n\n'
        "Mr. Marsh took the chair nearest the door."
    )
    assert _speakers(text) == ["Mr. Marsh", "Mr. Marsh", "Kate Bell"]


def test_a_stranger_who_speaks_of_someone_else_stays_a_stranger() -> None:
    text = (
        "Kate Bell and Anna Grey sat by the fire when a stranger came in.\n\n"
        '"I am Tom\'s brother," said the stranger.\n\n'
        '"Then sit down," said Kate.'
    )
    assert _speakers(text)[0] == "The stranger"


def test_attribute_gives_a_line_about_my_mother_to_her_child() -> None:
    text = (
        "Kate Bell lived with Mrs. Bell at the mill. Kate Bell was kind; Kate Bell "
        "sewed, and Kate Bell sang. Mrs. Bell was often ill. Anna Grey and Tom Reed "
        "came to tea with Kate Bell.\n\n"
        '"Where is everyone?" said Anna.\n\n'
        '"Out in the rain," said Tom.\n\n'
        '"My mother is lying down; she is not well today."'
    )
    assert _speakers(text)[-1] == "Kate Bell"


def test_decode_lets_a_line_said_to_oneself_follow_the_same_speaker() -> None:
    story = "Kate Moss and Anna Grey sat in the orchard. Kate Moss sang."
    cast = build_cast(story, find_quotes(story))
    kate, anna = cast.lookup("Kate Moss"), cast.lookup("Anna Grey")
    turns = [
        Turn(0, 0, 10, [0], speaker=kate, method="explicit"),
        Turn(1, 10, 20, [1], speaker=anna, method="explicit"),
        # "...," she said to herself.
        Turn(2, 20, 30, [2], pick=anna, pick_confidence=0.6, aside=True),
    ]
    decode(turns, cast, [kate, anna])
    assert turns[2].speaker == anna


def test_tag_after_marks_a_line_said_to_oneself() -> None:
    text = '"Too late," she said to herself.'
    tag = tag_after(text, text.index(",") + 2, len(text))
    assert tag is not None and tag.aside


def test_attribute_gives_she_to_the_woman_named_after_a_sexless_speaker() -> None:
    text = (
        "The Countess of Kent came into the hall where the Porter stood.\n\n"
        '"Your coach is late," said the Porter. The countess frowned at the clock. '
        '"Then I shall wait," she said.'
    )
    assert _speakers(text) == ["The Porter", "Countess of Kent"]


def test_attribute_keeps_she_on_whom_her_paragraph_opened_with() -> None:
    text = (
        "Kate Moss sat by the window with a letter. Tom Reed came in.\n\n"
        '"What news?" said Tom.\n\n'
        "She folded the letter slowly, for she saw that Anna Grey had written it in"
        ' haste. "Nothing that matters," she said.'
    )
    assert _speakers(text) == ["Tom Reed", "Kate Moss"]


def test_attribute_does_not_give_a_line_to_someone_it_speaks_of() -> None:
    text = (
        "Kate Moss and Anna Grey waited in the garden. Tom Reed came up the path.\n\n"
        '"Who is that at the gate?" said Anna.\n\n'
        '"Only Tom, I think," said Kate.\n\n'
        '"Good morning," said Tom.\n\n'
        '"Good morning! Kate baked these for you."'
    )
    assert _speakers(text)[-1] == "Anna Grey"


def test_attribute_does_not_count_a_thought_as_a_reply() -> None:
    text = (
        "Mrs. Hale and Ann Reed sat in the parlour.\n\n"
        '"You are late," said Mrs. Hale.\n\n'
        '"The coach was slow," said Ann.\n\n'
        "She held her cold hands to the fire. "
        '"I shall never travel in winter again," she thought.'
    )
    assert _speakers(text) == ["Mrs. Hale", "Ann Reed", "Ann Reed"]


def test_decode_lets_the_line_after_a_thought_answer_the_line_before_it() -> None:
    story = "Kate Moss and Anna Grey sat in the orchard. Kate Moss sang."
    cast = build_cast(story, find_quotes(story))
    kate, anna = cast.lookup("Kate Moss"), cast.lookup("Anna Grey")
    turns = [
        Turn(0, 0, 10, [0], speaker=kate, method="explicit"),
        Turn(1, 10, 20, [1], speaker=anna, method="explicit"),
        # "...," Kate thought: no turn of the exchange.
        Turn(2, 20, 30, [2], pick=kate, pick_confidence=0.9, thought=True),
        # Kate, aloud, answers Anna.
        Turn(3, 30, 40, [3]),
    ]
    decode(turns, cast, [kate, anna])
    assert [t.speaker for t in turns[2:]] == [kate, kate]


def test_attribute_reads_he_after_a_narration_paragraph_from_the_narration() -> None:
    text = (
        "Tom Reed, Ned Hale and Anna Grey sat by the fire.\n\n"
        '"Shall we go out?" said Ned.\n\n'
        '"Not in this rain," said Tom.\n\n'
        "Tom got up and walked to the window. He stood there for a long while, "
        "watching the water run down the glass.\n\n"
        '"It may clear by noon," said he.'
    )
    assert _speakers(text) == ["Ned Hale", "Tom Reed", "Tom Reed"]


@pytest.mark.parametrize(
    "verb", ["echoed", "chuckled", "sneered", "drawled", "interposed", "warbled"]
)
def test_attribute_reads_tags_with_less_common_speech_verbs(verb: str) -> None:
    text = INTRO + f'"It is late," said Clara.\n\n"Far too late," {verb} Marian.'
    assert _speakers(text) == ["Clara Whitlow", "Marian Ashdown"]


def test_attribute_reads_he_as_a_relative_the_narration_names_by_pronoun() -> None:
    text = (
        "Kate Hale lived at the mill with Mr. Hale. Tom Reed often walked over from "
        "the village to see them.\n\n"
        '"The roads are bad tonight," said Anna Grey.\n\n'
        '"They always are in March," said Kate.\n\n'
        "Soon after, her father came in from the yard and shook the snow from his "
        "coat.\n\n"
        '"The lower field is under water," said he.'
    )
    assert _speakers(text)[-1] == "Mr. Hale"


def test_attribute_does_not_take_a_relative_in_the_possessive_for_he() -> None:
    text = (
        "Kate Hale lived at the mill with Mr. Hale. Tom Reed often walked over from "
        "the village to see them.\n\n"
        '"The roads are bad tonight," said Anna Grey.\n\n'
        '"They always are in March," said Kate.\n\n'
        "Soon after, her father's dog came in from the yard and shook the snow from "
        "its coat.\n\n"
        '"The lower field is under water," said he.'
    )
    assert _speakers(text)[-1] == "Tom Reed"


def test_resolve_pronoun_lets_narration_outweigh_whom_the_line_before_called() -> None:
    text = (
        "Tom Reed and Ned Hale sat in the parlour with Anna Grey.\n\n"
        '"Is it, Tom?" said Anna.\n\n'
        "Ned Hale went to the window.\n\n"
        '"It is late," said he.'
    )
    cast = build_cast(text, find_quotes(text))
    tom, ned, anna = (cast.lookup(n) for n in ("Tom Reed", "Ned Hale", "Anna Grey"))
    ctx = Context(
        text.rindex('"It'),
        previous=anna,
        participants=[anna, tom, ned],
        addressed=(tom,),
    )
    tag = text.index("he.")
    assert resolve_pronoun(cast, "male", tag, ctx)[0] == tom
    after = replace(ctx, after_narration=True)
    assert resolve_pronoun(cast, "male", tag, after)[0] == ned


def test_decode_lets_narration_outweigh_whom_the_line_before_called() -> None:
    story = "Tom Reed and Ned Hale sat in the parlour with Anna Grey. Ned Hale sang."
    cast = build_cast(story, find_quotes(story))
    tom, ned, anna = (cast.lookup(n) for n in ("Tom Reed", "Ned Hale", "Anna Grey"))
    turns = [
        # "Is it, Tom?" said Anna.
        Turn(0, 0, 10, [0], speaker=anna, method="explicit", vocatives=[tom]),
        # Ned went to the window. / "It is late."
        Turn(1, 20, 30, [1], after_narration=True, scene_actor=ned),
    ]
    decode(turns, cast, [ned, anna, tom])
    assert turns[1].speaker == ned


def test_attribute_gives_the_reply_to_the_relative_a_tag_speaks_to() -> None:
    text = (
        "Mr. Varley, Mrs. Varley and their daughter Nora Varley sat down to supper. "
        "Nora Varley passed the bread.\n\n"
        '"I hope the pie is hot," said Mr. Varley to his wife.\n\n'
        '"Who told you there was a pie?"'
    )
    assert _speakers(text)[-1] == "Mrs. Varley"


def test_attribute_gives_the_reply_to_the_person_a_tag_speaks_to() -> None:
    text = (
        "Nora Varley, Otto Brisk and Selma Quade walked to the mill. "
        "Selma Quade carried the basket.\n\n"
        '"The wheel has stopped," said Otto to Nora.\n\n'
        '"Then the miller is asleep."'
    )
    assert _speakers(text)[-1] == "Nora Varley"


def test_attribute_counts_an_answer_given_in_narration_as_a_turn() -> None:
    text = (
        "Otto Brisk met Nora Varley at the gate.\n\n"
        '"Have you seen the new bridge?" said Nora.\n\n'
        '"No," said Otto.\n\n'
        '"It is very fine."\n\n'
        "Otto shook his head.\n\n"
        '"You do not believe me? Come and look, then."'
    )
    assert _speakers(text)[-1] == "Nora Varley"


def test_attribute_reads_her_ladyship_as_the_titled_woman() -> None:
    text = (
        "Lady Thorne received Nora Varley and Selma Quade in the long gallery.\n\n"
        '"Do you paint, Miss Varley?" said Lady Thorne.\n\n'
        '"A little," said Nora.\n\n'
        '"She paints very well," said Selma.\n\n'
        '"Then you must paint the lake," said her ladyship.'
    )
    assert _speakers(text)[-1] == "Lady Thorne"


def test_tag_before_skips_a_name_that_only_owns_a_noun() -> None:
    lead = "After a while he folded Nell Carrow's letter and rose, saying, "
    tag = tag_before(lead, 0, len(lead))
    assert tag is not None and (tag.kind, tag.words) == ("pronoun", "he")
    lead = "Nobody spoke until Nell Carrow's sighing and saying, "
    tag = tag_before(lead, 0, len(lead))
    assert tag is not None and tag.words == "Nell Carrow"


def test_attribute_gives_a_line_to_the_reader_not_the_letter_writer() -> None:
    text = (
        "Hugh Tenby sat by the window. Nell Carrow had written to him.\n\n"
        "After a while Hugh folded Nell Carrow's letter and rose, saying, "
        '"I must go to her at once."'
    )
    assert _speakers(text)[-1] == "Hugh Tenby"
