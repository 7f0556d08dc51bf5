"""Assembly: tracks of equal length, dialogue silent under narration, exact offsets."""

import numpy as np
import soundfile as sf

from talecast.pipeline.assembly import assemble, transcript_items
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
