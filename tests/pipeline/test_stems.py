"""Stems: one FLAC per speaker, sample-aligned with the narration."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf
from rundir_factory import DEFAULT_CHAPTERS, Line, make_run

from talecast.pipeline.export import export_run
from talecast.pipeline.stems import write_stems
from talecast.pipeline.timedtext import TimedItem


def read(path) -> np.ndarray:
    return sf.read(str(path), dtype="int16")[0].astype(np.int32)


def test_stems_have_narration_length_and_add_up_to_the_narration(tmp_path):
    run = make_run(tmp_path / "run")
    outputs = export_run(run, ["stems"])
    narration = read(run / "narration.flac")
    stems = {
        name: read(path) for name, path in outputs.items() if name.startswith("stems/")
    }

    assert set(stems) == {"stems/Narrator.flac", "stems/Alice.flac", "stems/Bob.flac"}
    assert all(stem.size == narration.size for stem in stems.values())
    assert np.array_equal(sum(stems.values()), narration)
    assert all(
        sf.info(str(p)).samplerate == 24000
        for p in outputs.values()
        if p.suffix == ".flac"
    )


def test_character_stems_add_up_to_the_dialogue_track(tmp_path):
    run = make_run(tmp_path / "run")
    outputs = export_run(run, ["stems"])
    dialogue = read(run / "dialogue.flac")
    characters = read(outputs["stems/Alice.flac"]) + read(outputs["stems/Bob.flac"])

    assert np.array_equal(characters, dialogue)
    assert read(outputs["stems/Alice.flac"]).any()


def test_a_stem_holds_only_its_speakers_segments(tmp_path):
    run = make_run(tmp_path / "run")
    outputs = export_run(run, ["stems"])
    segments = json.loads((run / "segments.json").read_text())
    bob = read(outputs["stems/Bob.flac"])
    narration = read(run / "narration.flac")

    inside = np.zeros(bob.size, dtype=bool)
    for segment in segments:
        if segment["speaker"] == "Bob":
            inside[segment["start_sample"] : segment["end_sample"]] = True
    assert np.array_equal(bob[inside], narration[inside])
    assert not bob[~inside].any()


def test_stems_stay_aligned_across_read_blocks(tmp_path):
    # Small blocks make segments straddle block edges, as in any long book.
    run = make_run(tmp_path / "run")
    outputs = write_stems(
        run / "narration.flac", _items(run), tmp_path / "stems", block_samples=1000
    )

    total = sum(read(path) for path in outputs.values())
    assert np.array_equal(total, read(run / "narration.flac"))


def test_stem_file_names_are_safe_and_unique(tmp_path):
    chapters = [
        ("One", [Line("Narrator", "Hello.", 1.0), Line('Dr. "Who"/Eve', "Hi.", 1.0)])
    ] + DEFAULT_CHAPTERS[1:]
    run = make_run(tmp_path / "run", chapters=chapters)
    items = _items(run) + [TimedItem(0, 10, "x", "narrator")]  # differs only in case
    outputs = write_stems(run / "narration.flac", items, tmp_path / "stems")

    names = {speaker: path.name for speaker, path in outputs.items()}
    assert names['Dr. "Who"/Eve'] == "Dr. _Who_Eve.flac"
    assert names["Narrator"] == "Narrator.flac"
    assert names["narrator"] == "narrator (2).flac"
    assert all(path.parent == tmp_path / "stems" for path in outputs.values())


def _items(run) -> list[TimedItem]:
    segments = json.loads((run / "segments.json").read_text())
    return [
        TimedItem(s["start_sample"], s["end_sample"], s["text"], s["speaker"])
        for s in segments
    ]
