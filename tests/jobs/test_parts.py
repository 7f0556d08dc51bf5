"""The scale-out steps (plan, parts, assembly) run in-process on SQLite and local
storage: what each Celery task does, without the broker."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import Engine, insert, select

from talecast.config import Settings, get_settings
from talecast.db import Account, Story, make_engine, migrate
from talecast.jobs import parts as steps
from talecast.pipeline.cache import LineCache
from talecast.pipeline.reading import read_story
from talecast.pipeline.render import (
    RenderOptions,
    line_cache_key,
    plan_story,
    render_story,
)
from talecast.storage import LocalStorage

STORY = "\n\n".join(
    f"CHAPTER {n}\n\nThe bell rang {n} times over the harbour.\n\n"
    f'"Is the ferry late again?" asked Mara.\n\n'
    f'"It left at {n} o\'clock," said Tobias.'
    for n in (1, 2, 3)
)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Settings, Engine, LocalStorage, int]:
    """A migrated database holding one running story, and local storage."""
    settings = get_settings(
        data_dir=tmp_path, voice_profile="fast", threads_per_worker=1
    )
    engine = make_engine(settings.db_url)
    migrate(engine)
    storage = LocalStorage(settings.files_dir)
    storage.put_bytes("uploads/story.txt", STORY.encode())
    with engine.begin() as conn:
        conn.execute(insert(Account).values(id=1, name="a", created_at=0.0))
        conn.execute(
            insert(Story).values(
                task_id="t1",
                account_id=1,
                status="queued",
                progress=0.0,
                stage="queued",
                source_language=1,
                upload_key="uploads/story.txt",
                upload_bytes=len(STORY),
                created_at=time.time(),
                attempts=0,
            )
        )
        run_id = conn.execute(select(Story.run_id)).scalar_one()
    return settings, engine, storage, run_id


def _plan(text: str) -> steps.StoryPlan:
    return plan_story(read_story(text.encode()), RenderOptions(profile="fast"))


def test_parts_cover_every_line_once_within_chapters_at_about_the_target_size():
    long_chapter = " ".join(
        f'"Line {n} of the long talk," said Mara.' for n in range(60)
    )
    plan = _plan(f"CHAPTER 1\n\nA short start.\n\nCHAPTER 2\n\n{long_chapter}")
    target = 300
    parts = steps.split_parts(plan, target_chars=target)
    covered = [i for p in parts for i in range(p.first, p.last)]
    assert covered == list(range(len(plan.lines)))
    chapters = plan.chapter_line_ranges()
    assert len(parts) > len(chapters)  # the long chapter was cut
    for part in parts:
        assert any(a <= part.first and part.last <= b for a, b in chapters), part
        chars = [len(plan.lines[i].text) for i in range(part.first, part.last)]
        # A block closes at the first line that reaches the target.
        assert sum(chars[:-1]) < target
        at_chapter_end = any(part.last == b for _, b in chapters)
        assert sum(chars) >= target or at_chapter_end, part


def test_parts_in_any_order_assemble_to_the_single_machine_render(
    world, tmp_path, flac_test
):
    settings, engine, storage, run_id = world
    parts = steps.make_plan(engine, storage, settings, run_id)
    assert parts is not None and len(parts) == 3  # one per chapter
    for part in reversed(parts):
        assert steps.make_part(storage, settings, run_id, part) is True
    # Done already: a second delivery of a part does nothing.
    assert steps.make_part(storage, settings, run_id, parts[0]) is False
    assert not steps.is_over(engine, settings, run_id)

    values = steps.assemble_parts(engine, storage, settings, run_id, parts)
    assert values is not None and steps.finish(engine, run_id, **values)
    assert steps.is_over(engine, settings, run_id)
    assert not steps.finish(engine, run_id, **values)  # only the first assembly ends it
    assert steps.assemble_parts(engine, storage, settings, run_id, parts) is None

    reference = render_story(
        read_story(STORY.encode()),
        tmp_path / "reference",
        RenderOptions(profile="fast"),
        cache_dir=tmp_path / "cache",
    )
    with storage.open(values["narration_key"]) as fh:
        narration, _ = sf.read(fh, dtype="int16")
    expected, _ = sf.read(reference.narration_path, dtype="int16")
    assert np.array_equal(narration, expected)
    with storage.open(values["dialogue_key"]) as fh:
        dialogue, _ = sf.read(fh, dtype="int16")
    expected, _ = sf.read(reference.dialogue_path, dtype="int16")
    assert np.array_equal(dialogue, expected) and 0 < np.abs(dialogue).sum()
    assert json.loads(values["transcript_json"]) == [
        {**t, "start": round(t["start"], 2), "end": round(t["end"], 2)}
        for t in reference.transcript
    ]
    for key in (values["narration_key"], values["dialogue_key"]):
        flac_test(settings.files_dir / key)  # every frame's CRCs check out

    part_dir = settings.files_dir / "runs" / str(run_id) / "parts"
    names = sorted(p.name.split(".", 1)[1] for p in part_dir.iterdir())
    assert names == ["dialogue.flac"] * 3 + ["json"] * 3 + ["narration.flac"] * 3
    steps.remove_parts(storage, run_id, parts)
    assert list(part_dir.iterdir()) == []


def test_a_stored_plan_is_read_once_per_run(world):
    settings, engine, storage, run_id = world
    steps.make_plan(engine, storage, settings, run_id)
    first = steps.load_plan(storage, run_id)
    storage.delete(f"runs/{run_id}/plan.json")
    assert steps.load_plan(storage, run_id) is first
    other = LocalStorage(settings.files_dir)  # another store: read again, so not found
    with pytest.raises(steps.StorageError, match="no stored object"):
        steps.load_plan(other, run_id)


def test_a_part_of_a_story_past_its_render_limit_is_refused_as_timeout(world):
    settings, engine, storage, run_id = world
    steps.make_plan(engine, storage, settings, run_id)
    late = settings.model_copy(update={"render_timeout_s": 0.001})
    with pytest.raises(steps.RenderTimeoutError) as caught:
        steps.is_over(engine, late, run_id)
    assert steps.fail_with(engine, run_id, caught.value, "a story part")
    with engine.connect() as conn:
        row = conn.execute(select(Story.status, Story.exception_reason)).one()
    assert tuple(row) == ("timeout", "RENDER_TIME_LIMIT")
    assert steps.is_over(engine, late, run_id)  # ended: no more work, no error


def test_parts_are_sent_longest_first_and_still_cover_the_story(world):
    settings, engine, storage, run_id = world
    long_story = (
        STORY
        + "\n\nCHAPTER 4\n\n"
        + " ".join(f'"The tide turned {n} times," said Mara.' for n in range(30))
    )
    storage.put_bytes("uploads/story.txt", long_story.encode())
    parts = steps.make_plan(engine, storage, settings, run_id)
    plan = steps.load_plan(storage, run_id)

    def chars(part):
        return sum(len(plan.lines[i].text) for i in range(part.first, part.last))

    assert parts[0].first == plan.chapter_line_ranges()[-1][0]  # the long chapter
    assert [chars(p) for p in parts] == sorted((chars(p) for p in parts), reverse=True)
    covered = sorted(i for p in parts for i in range(p.first, p.last))
    assert covered == list(range(len(plan.lines)))


def _flac_bytes(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, 24000, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


@pytest.mark.parametrize("older", ["raw", "flac"])
def test_parts_stored_by_an_older_worker_still_assemble_to_the_same_tracks(
    world, older
):
    settings, engine, storage, run_id = world
    parts = steps.make_plan(engine, storage, settings, run_id)
    for part in parts:
        steps.make_part(storage, settings, run_id, part)
    plan = steps.load_plan(storage, run_id)
    values = steps.assemble_parts(engine, storage, settings, run_id, parts)
    with storage.open(values["narration_key"]) as fh:
        new_narration = fh.read()

    # What workers before the encoded parts left: the lines' samples back to back,
    # raw with "encoding": "s16le", or FLAC with no "encoding" at all.
    for part in parts:
        key = f"runs/{run_id}/parts/{part.first:07d}"
        with storage.open(key + ".json") as fh:
            index = json.loads(fh.read())
        cache = LineCache(settings.cache_dir, 24000)
        lines = range(part.first, part.last)
        samples = np.concatenate([cache.get(line_cache_key(plan, i)) for i in lines])
        for suffix in (".narration.flac", ".dialogue.flac"):
            storage.delete(key + suffix)
        old_index = {k: index[k] for k in ("first", "last", "lengths")}
        if older == "raw":
            storage.put_bytes(key + ".pcm", samples.astype("<i2").tobytes())
            old_index["encoding"] = "s16le"
        else:
            storage.put_bytes(key + ".flac", _flac_bytes(samples))
        storage.put_bytes(key + ".json", json.dumps(old_index).encode())

    again = steps.assemble_parts(engine, storage, settings, run_id, parts)
    assert again is not None
    assert again["transcript_json"] == values["transcript_json"]
    with storage.open(again["narration_key"]) as fh:
        old_narration, _ = sf.read(fh, dtype="int16")
    new, _ = sf.read(io.BytesIO(new_narration), dtype="int16")
    assert np.array_equal(old_narration, new)
    steps.remove_parts(storage, run_id, parts)
    assert list((settings.files_dir / f"runs/{run_id}/parts").iterdir()) == []


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("index", "holds .* samples, its lines and pauses take"),
        ("audio", "its parts do not join"),
        ("malformed", "has a malformed index"),
    ],
)
def test_a_part_that_disagrees_with_its_index_ends_the_story_with_a_reason(
    world, damage, said
):
    settings, engine, storage, run_id = world
    parts = steps.make_plan(engine, storage, settings, run_id)
    for part in parts:
        steps.make_part(storage, settings, run_id, part)
    key = f"runs/{run_id}/parts/{parts[-1].first:07d}"
    if damage == "index":  # a line 100 samples longer than its part holds
        with storage.open(key + ".json") as fh:
            index = json.loads(fh.read())
        index["lengths"][0] += 100
        storage.put_bytes(key + ".json", json.dumps(index).encode())
    elif damage == "malformed":  # an index without its frame offsets
        with storage.open(key + ".json") as fh:
            index = json.loads(fh.read())
        del index["dialogue_frames"]
        storage.put_bytes(key + ".json", json.dumps(index).encode())
    else:  # the audio cut short
        with storage.open(key + ".dialogue.flac") as fh:
            storage.put_bytes(key + ".dialogue.flac", fh.read()[:-200])
    with pytest.raises(steps.TalecastError, match=said):
        steps.assemble_parts(engine, storage, settings, run_id, parts)
