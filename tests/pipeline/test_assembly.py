"""Assembly: tracks of equal length, dialogue silent under narration, exact offsets."""

import numpy as np
import pytest
import soundfile as sf

from talecast.pipeline.assembly import assemble, part_tracks, transcript_items
from talecast.pipeline.flacstream import BLOCK_SAMPLES
from talecast.pipeline.script import Line

RATE = 24000


def _lines():
    return [
        Line("narration", "Narrator", "It was dark.", 0, 12, 0, 0),
        Line("dialogue", "Ann", "Who is there?", 13, 28, 0, 300),
        Line("narration", "Narrator", "said Ann.", 29, 38, 0, 120),
        Line("dialogue", "Bob", "Only me.", 40, 50, 1, 600),
    ]


def _tone(n, freq):
    t = np.arange(n) / RATE
    return (np.sin(2 * np.pi * freq * t) * 12000).astype(np.int16)


def test_assemble_writes_equal_length_tracks_with_dialogue_only_in_dialogue(tmp_path):
    clips = [
        _tone(RATE // 2, 220),
        _tone(RATE, 330),
        _tone(RATE // 3, 440),
        _tone(RATE // 4, 550),
    ]
    asm = assemble(_lines(), lambda i: clips[i], tmp_path, RATE, ["One", None])
    narration, _ = sf.read(asm.narration_path, dtype="int16")
    dialogue, _ = sf.read(asm.dialogue_path, dtype="int16")
    assert narration.size == dialogue.size == asm.total_samples
    for seg, clip in zip(asm.segments, clips, strict=True):
        assert np.array_equal(narration[seg.start_sample : seg.end_sample], clip)
        expected = clip if seg.kind == "dialogue" else np.zeros_like(clip)
        assert np.array_equal(dialogue[seg.start_sample : seg.end_sample], expected)
    spoken = np.zeros(narration.size, bool)
    for seg in asm.segments:
        if seg.kind == "dialogue":
            spoken[seg.start_sample : seg.end_sample] = True
    assert not dialogue[~spoken].any()
    assert [c["title"] for c in asm.chapters] == ["One", "Chapter 2"]
    assert asm.chapters[0]["end_sample"] == asm.chapters[1]["start_sample"]


def test_transcript_items_are_ordered_inside_their_audio_and_never_overlap(tmp_path):
    clips = [_tone(12345, 200), _tone(777, 300), _tone(24001, 400), _tone(30, 500)]
    asm = assemble(_lines(), lambda i: clips[i], tmp_path, RATE, [None, None])
    items = transcript_items(asm.segments, RATE)
    assert [i["speaker"] for i in items] == ["Narrator", "Ann", "Narrator", "Bob"]
    for item, seg in zip(items, asm.segments, strict=True):
        assert seg.start_sample / RATE <= item["start"] <= item["end"]
        assert item["end"] <= seg.end_sample / RATE
    for a, b in zip(items, items[1:], strict=False):
        assert a["end"] <= b["start"]


def _parted_lines(count):
    """``count`` lines over two chapters, with pauses from 0 to long."""
    pauses = [0, 120, 300, 600, 900, 40]
    return [
        Line(
            "dialogue" if n % 3 == 1 else "narration",
            "Ann" if n % 3 == 1 else "Narrator",
            f"Line {n}.",
            10 * n,
            10 * n + 7,
            0 if n < count // 2 else 1,
            pauses[n % len(pauses)],
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("seed", [7, 8, 9, 10])
def test_parts_fill_whole_blocks_and_join_to_the_story_assembled_in_one_piece(
    tmp_path, seed
):
    rng = np.random.default_rng(seed)
    lines = _parted_lines(12)
    clips = [_tone(int(rng.integers(300, 40000)), 200 + 30 * n) for n in range(12)]
    parts = [(0, 3), (3, 5), (5, 6), (6, 9), (9, 12)]
    asm = assemble(lines, lambda i: clips[i], tmp_path, RATE, [None], parts=parts)
    narration, _ = sf.read(asm.narration_path, dtype="int16")
    dialogue, _ = sf.read(asm.dialogue_path, dtype="int16")

    pieces = [
        part_tracks(lines, first, last, clips[first:last], RATE)
        for first, last in parts
    ]
    assert np.array_equal(narration, np.concatenate([p.narration for p in pieces]))
    assert np.array_equal(dialogue, np.concatenate([p.dialogue for p in pieces]))
    for (_, last), piece in zip(parts[:-1], pieces, strict=False):
        assert piece.narration.size % BLOCK_SAMPLES == 0
        # The silence after the part's last line moved to the nearest whole block,
        # or to the next one when the nearest would cut more than half of it.
        silence = lines[last].pause_before_ms * RATE // 1000
        assert -BLOCK_SAMPLES // 2 <= piece.adjust < BLOCK_SAMPLES
        assert piece.adjust >= -silence / 2
        if piece.adjust > BLOCK_SAMPLES // 2:
            assert silence < 2 * (BLOCK_SAMPLES - piece.adjust)
    assert pieces[-1].adjust == 0
    # Every line is still itself, where its segment says; the chapters meet.
    for seg, clip in zip(asm.segments, clips, strict=True):
        assert np.array_equal(narration[seg.start_sample : seg.end_sample], clip)
    assert asm.chapters[0]["end_sample"] == asm.chapters[1]["start_sample"]


def test_parts_that_skip_or_repeat_lines_are_refused(tmp_path):
    lines = _parted_lines(4)
    clips = [_tone(1000, 300)] * 4
    for parts in ([(0, 2), (3, 4)], [(0, 2), (1, 4)], [(0, 3)]):
        with pytest.raises(ValueError, match="parts"):
            assemble(lines, lambda i: clips[i], tmp_path, RATE, [None], parts=parts)
