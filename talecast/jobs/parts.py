"""A story rendered in parts: plan once, synthesize parts anywhere, assemble once.

These functions are what the Celery tasks run (see :mod:`talecast.jobs.celery_app`), and
each is safe to run twice: a part already in storage is not made again, and only the
first assembly to finish ends the task. Files in storage, per run::

    runs/<run_id>/plan.json           the StoryPlan (lines, cast, voices)
    runs/<run_id>/parts/<first>.flac  int16 samples of lines [first, last), back to back
    runs/<run_id>/parts/<first>.json  {"first", "last", "lengths": [samples per line]}
"""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import soundfile as sf
from sqlalchemy import Engine, select, update

from talecast.config import Settings
from talecast.db import Story, StoryStatus
from talecast.pipeline.cache import LineCache
from talecast.pipeline.render import (
    RenderOptions,
    StoryPlan,
    assemble_story,
    line_cache_key,
    plan_story,
    synthesize_lines,
)
from talecast.pipeline.synthesis import OUTPUT_RATE_HZ
from talecast.storage import Storage, StorageError

logger = logging.getLogger(__name__)

PART_MAX_LINES = 120  # a long chapter is split into blocks of at most this many lines
PLAN_SHARE = 5.0  # progress (percent) once the plan is stored
ASSEMBLY_SHARE = 5.0  # progress left for assembly

RUNNING = StoryStatus.RUNNING.value
SUCCESS = StoryStatus.SUCCESS.value
ERROR = StoryStatus.ERROR.value
QUEUED = StoryStatus.QUEUED.value


@dataclass(frozen=True)
class Part:
    """Lines ``[first, last)`` of a plan, synthesized together."""

    first: int
    last: int


def split_parts(plan: StoryPlan, max_lines: int = PART_MAX_LINES) -> list[Part]:
    """One part per chapter, long chapters cut into blocks of at most ``max_lines``."""
    parts = []
    for first, last in plan.chapter_line_ranges():
        for start in range(first, last, max_lines):
            parts.append(Part(start, min(start + max_lines, last)))
    return parts


def run_id_of(engine: Engine, task_id: str) -> int | None:
    """The run id of a story task, or None if there is no such task."""
    with engine.connect() as conn:
        return conn.execute(
            select(Story.run_id).where(Story.task_id == task_id)
        ).scalar()


def make_plan(
    engine: Engine, storage: Storage, settings: Settings, run_id: int
) -> list[Part] | None:
    """Read and plan the story; store the plan. None when the task is already over."""
    from talecast.pipeline.reading import read_story

    with engine.begin() as conn:
        story = conn.execute(
            select(
                Story.status,
                Story.started_at,
                Story.upload_key,
                Story.narrator_voice_id,
                Story.replacements_json,
            ).where(Story.run_id == run_id)
        ).one()
        if story.status in (SUCCESS, ERROR):
            return None
        conn.execute(
            update(Story)
            .where(Story.run_id == run_id)
            .values(
                status=RUNNING,
                stage="planning",
                started_at=story.started_at or time.time(),
                attempts=Story.attempts + 1,
            )
        )
    with storage.open(story.upload_key) as fh:
        document = read_story(fh.read())
    options = RenderOptions(
        narrator_voice_id=story.narrator_voice_id,
        profile=settings.voice_profile,
        replacements=json.loads(story.replacements_json or "null"),
        threads=settings.threads_per_worker,
    )
    plan = plan_story(document, options)
    storage.put_bytes(f"runs/{run_id}/plan.json", plan.to_json().encode("utf-8"))
    set_progress(engine, run_id, PLAN_SHARE, "synthesis")
    parts = split_parts(plan)
    logger.info(
        "story run %s: planned %d lines in %d parts",
        run_id,
        len(plan.lines),
        len(parts),
    )
    return parts


def load_plan(storage: Storage, run_id: int) -> StoryPlan:
    """The stored plan of a run."""
    with storage.open(f"runs/{run_id}/plan.json") as fh:
        return StoryPlan.from_json(fh.read().decode("utf-8"))


def make_part(storage: Storage, settings: Settings, run_id: int, part: Part) -> bool:
    """Synthesize one part into storage; False when it was already there."""
    key = f"runs/{run_id}/parts/{part.first:07d}"
    if _exists(storage, key + ".json"):
        return False
    plan = load_plan(storage, run_id)
    cache = LineCache(settings.cache_dir, OUTPUT_RATE_HZ)
    synthesize_lines(plan, range(part.first, part.last), cache)
    clips = [_cached(cache, plan, i) for i in range(part.first, part.last)]
    joined = np.concatenate(clips) if clips else np.zeros(0, np.int16)
    storage.put_bytes(key + ".flac", _encode(joined))
    # The index goes last: its presence means the part is complete.
    storage.put_bytes(
        key + ".json",
        json.dumps(
            {
                "first": part.first,
                "last": part.last,
                "lengths": [int(c.size) for c in clips],
            }
        ).encode("utf-8"),
    )
    return True


def assemble_parts(
    engine: Engine, storage: Storage, settings: Settings, run_id: int, parts: list[Part]
) -> dict[str, Any] | None:
    """Join the stored parts into the final files; None if the task is already over."""
    from talecast.jobs.worker import export_and_store, transcript_json

    with engine.connect() as conn:
        story = conn.execute(
            select(Story.status, Story.export_formats, Story.master).where(
                Story.run_id == run_id
            )
        ).one()
    if story.status != RUNNING:
        return None
    set_progress(engine, run_id, 100.0 - ASSEMBLY_SHARE, "assembly")
    plan = load_plan(storage, run_id)
    reader = _PartReader(storage, run_id, parts)
    out_dir = settings.work_dir / f"run-{run_id}"
    result = assemble_story(plan, None, out_dir, samples_for=reader.line)
    # Stores narration.flac and dialogue.flac with every other deliverable.
    files_json = export_and_store(
        storage, run_id, out_dir, story.export_formats, story.master
    )
    return {
        "narration_key": f"runs/{run_id}/narration.flac",
        "dialogue_key": f"runs/{run_id}/dialogue.flac",
        "duration_s": float(result.duration_s),
        "transcript_json": transcript_json(result.transcript),
        "chapters_json": json.dumps(result.chapters, separators=(",", ":")),
        "files_json": files_json,
    }


def finish(engine: Engine, run_id: int, **values: Any) -> bool:
    """End the task as SUCCESS once; False if another run of this step got there first."""
    with engine.begin() as conn:
        started = conn.execute(select(Story.started_at).where(Story.run_id == run_id))
        began = started.scalar() or time.time()
        done = conn.execute(
            update(Story)
            .where(Story.run_id == run_id, Story.status == RUNNING)
            .values(
                status=SUCCESS,
                progress=100.0,
                stage="done",
                finished_at=time.time(),
                render_s=round(time.time() - began, 3),
                **values,
            )
        )
    return done.rowcount == 1


def fail(engine: Engine, run_id: int, reason: str, message: str) -> bool:
    """End the task as ERROR with a machine reason and a human message."""
    with engine.begin() as conn:
        done = conn.execute(
            update(Story)
            .where(Story.run_id == run_id, Story.status.in_([QUEUED, RUNNING]))
            .values(
                status=ERROR,
                stage="failed",
                exception_reason=reason,
                message=message,
                finished_at=time.time(),
            )
        )
    return done.rowcount == 1


def set_progress(engine: Engine, run_id: int, percent: float, stage: str) -> None:
    """Record progress (never moving it backwards) while the task runs."""
    with engine.begin() as conn:
        conn.execute(
            update(Story)
            .where(
                Story.run_id == run_id,
                Story.status == RUNNING,
                Story.progress <= percent,
            )
            .values(progress=round(percent, 1), stage=stage)
        )


def part_progress(done: int, total: int) -> float:
    """Percent complete when ``done`` of ``total`` parts are synthesized."""
    span = 100.0 - PLAN_SHARE - ASSEMBLY_SHARE
    return PLAN_SHARE + span * min(done, total) / max(total, 1)


def _exists(storage: Storage, key: str) -> bool:
    try:
        storage.size(key)
    except StorageError:
        return False
    return True


def _cached(cache: LineCache, plan: StoryPlan, index: int) -> np.ndarray:
    samples = cache.get(line_cache_key(plan, index))
    if samples is None:  # synthesize_lines just wrote it; only a full disk gets here
        raise StorageError(f"line {index} vanished from the line cache")
    return samples


def _encode(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    if samples.size:
        sf.write(buffer, samples, OUTPUT_RATE_HZ, format="FLAC", subtype="PCM_16")
    else:
        sf.write(buffer, samples, OUTPUT_RATE_HZ, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


class _PartReader:
    """Line samples from stored parts, holding one part in memory at a time."""

    def __init__(self, storage: Storage, run_id: int, parts: list[Part]) -> None:
        self.storage = storage
        self.run_id = run_id
        self.parts = sorted(parts, key=lambda p: p.first)
        self._loaded: tuple[Part, list[np.ndarray]] | None = None

    def line(self, index: int) -> np.ndarray:
        if self._loaded is None or not (
            self._loaded[0].first <= index < self._loaded[0].last
        ):
            part = next(p for p in self.parts if p.first <= index < p.last)
            self._loaded = (part, self._load(part))
        return self._loaded[1][index - self._loaded[0].first]

    def _load(self, part: Part) -> list[np.ndarray]:
        key = f"runs/{self.run_id}/parts/{part.first:07d}"
        with self.storage.open(key + ".json") as fh:
            lengths = json.loads(fh.read())["lengths"]
        with self.storage.open(key + ".flac") as fh:
            samples, _ = sf.read(io.BytesIO(fh.read()), dtype="int16", always_2d=False)
        bounds = np.cumsum([0, *lengths])
        return [samples[bounds[i] : bounds[i + 1]] for i in range(len(lengths))]
