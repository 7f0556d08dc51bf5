"""A story rendered in parts: plan once, synthesize parts anywhere, assemble once.

These functions are what the Celery tasks run (see :mod:`talecast.jobs.celery_app`), and
each is safe to run twice: a part already in storage is not made again, and only the
first assembly to finish ends the task. Files in storage, per run::

    runs/<run_id>/plan.json           the StoryPlan (lines, cast, voices)
    runs/<run_id>/parts/<first>.pcm   int16 samples of lines [first, last), back to back
                                      (raw little-endian; see PART_ENCODING)
    runs/<run_id>/parts/<first>.json  {"first", "last", "lengths": [samples per line],
                                       "encoding": "s16le"}
"""

from __future__ import annotations

import io
import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import soundfile as sf
from sqlalchemy import Engine, select, update

from talecast.config import Settings
from talecast.db import Story, StoryStatus
from talecast.db.models import ENDED_STATUSES
from talecast.errors import RenderTimeoutError, TalecastError, render_time_limit_message
from talecast.jobs import notify
from talecast.pipeline.cache import LineCache
from talecast.pipeline.render import (
    StoryPlan,
    assemble_story,
    line_cache_key,
    plan_story,
    synthesize_lines,
)
from talecast.pipeline.synthesis import OUTPUT_RATE_HZ
from talecast.storage import Storage, StorageError

logger = logging.getLogger(__name__)

# A long chapter is cut into blocks of about this many characters of text: small enough
# that the last blocks of a story spread over the workers (a worker left idle at the end
# waits for at most one block), large enough that each block's fixed cost (reading the
# plan, storing its audio, one database update) stays a few percent of its synthesis.
PART_TARGET_CHARS = 3000
# Parts are stored as raw samples, not FLAC: they live only until the assembly, and
# decoding 25 FLAC parts (about an hour of audio) was the longest step of the assembly,
# which runs alone after the last part (bench/scaleout.py: joining the tracks 2.0 s with
# FLAC parts, 1.4 s with raw ones). The price is twice the bytes in transit and in
# storage while the story renders. Parts written as FLAC by an older worker still read.
PART_ENCODING = "s16le"
PLAN_SHARE = 5.0  # progress (percent) once the plan is stored
ASSEMBLY_SHARE = 5.0  # progress left for assembly

RUNNING = StoryStatus.RUNNING.value
SUCCESS = StoryStatus.SUCCESS.value
ERROR = StoryStatus.ERROR.value
TIMEOUT = StoryStatus.TIMEOUT.value
QUEUED = StoryStatus.QUEUED.value


@dataclass(frozen=True)
class Part:
    """Lines ``[first, last)`` of a plan, synthesized together."""

    first: int
    last: int


def split_parts(plan: StoryPlan, target_chars: int = PART_TARGET_CHARS) -> list[Part]:
    """One part per chapter; a long chapter is cut into blocks of about ``target_chars``
    characters of text, whole lines each (a block ends at the first line that brings it
    to ``target_chars``)."""
    parts = []
    for first, last in plan.chapter_line_ranges():
        start, chars = first, 0
        for index in range(first, last):
            chars += len(plan.lines[index].text)
            if chars >= target_chars and index + 1 < last:
                parts.append(Part(start, index + 1))
                start, chars = index + 1, 0
        parts.append(Part(start, last))
    return parts


def longest_first(plan: StoryPlan, parts: list[Part]) -> list[Part]:
    """The parts in the order they are sent to the workers: most text first (story
    order among equals), so the last ones to start are the short chapter ends and no
    worker is left waiting long for another to finish a long block."""

    def chars(part: Part) -> int:
        return sum(len(plan.lines[i].text) for i in range(part.first, part.last))

    return sorted(parts, key=lambda p: (-chars(p), p.first))


def run_id_of(engine: Engine, task_id: str) -> int | None:
    """The run id of a story task, or None if there is no such task."""
    with engine.connect() as conn:
        return conn.execute(
            select(Story.run_id).where(Story.task_id == task_id)
        ).scalar()


def make_plan(
    engine: Engine, storage: Storage, settings: Settings, run_id: int
) -> list[Part] | None:
    """Read and plan the story; store the plan. Returns its parts in the order they
    should be rendered (:func:`longest_first`); None when the task is already over."""
    from talecast.jobs.worker import RENDER_OPTION_COLUMNS, render_options
    from talecast.pipeline.reading import read_story

    with engine.begin() as conn:
        story = conn.execute(
            select(
                Story.status,
                Story.started_at,
                Story.upload_key,
                *RENDER_OPTION_COLUMNS,
            ).where(Story.run_id == run_id)
        ).one()
        if story.status in ENDED_STATUSES:
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
    plan = plan_story(document, render_options(story, settings))
    storage.put_bytes(f"runs/{run_id}/plan.json", plan.to_json().encode("utf-8"))
    set_progress(engine, run_id, PLAN_SHARE, "synthesis")
    parts = longest_first(plan, split_parts(plan))
    logger.info(
        "story run %s: planned %d lines in %d parts",
        run_id,
        len(plan.lines),
        len(parts),
    )
    return parts


_plan_memo: list[tuple[Storage, int, StoryPlan]] = []  # the last plan this process read


def load_plan(storage: Storage, run_id: int) -> StoryPlan:
    """The stored plan of a run (kept in memory for the next part of the same run: a
    stored plan never changes, since planning the same story again gives the same plan).
    """
    for held_storage, held_run, plan in _plan_memo:
        if held_storage is storage and held_run == run_id:
            return plan
    with storage.open(f"runs/{run_id}/plan.json") as fh:
        plan = StoryPlan.from_json(fh.read().decode("utf-8"))
    _plan_memo[:] = [(storage, run_id, plan)]
    return plan


def is_over(engine: Engine, settings: Settings, run_id: int) -> bool:
    """True once the story ended (SUCCESS, ERROR or TIMEOUT): its parts need no more
    work. RenderTimeoutError once it has rendered longer than ``render_timeout_s``."""
    with engine.connect() as conn:
        row = conn.execute(
            select(Story.status, Story.started_at).where(Story.run_id == run_id)
        ).first()
    if row is None or row.status in ENDED_STATUSES:
        return True
    if row.started_at and time.time() > row.started_at + settings.render_timeout_s:
        raise RenderTimeoutError(render_time_limit_message(settings.render_timeout_s))
    return False


def make_part(storage: Storage, settings: Settings, run_id: int, part: Part) -> bool:
    """Synthesize one part into storage; False when it was already there."""
    key = f"runs/{run_id}/parts/{part.first:07d}"
    if _exists(storage, key + ".json"):
        return False
    plan = load_plan(storage, run_id)
    cache = LineCache(settings.cache_dir, OUTPUT_RATE_HZ)
    spoken: dict[str, np.ndarray] = {}
    synthesize_lines(plan, range(part.first, part.last), cache, keep=spoken)
    clips = [_cached(cache, plan, i, spoken) for i in range(part.first, part.last)]
    joined = np.concatenate(clips) if clips else np.zeros(0, np.int16)
    storage.put_bytes(key + ".pcm", joined.astype("<i2").tobytes())
    # The index goes last: its presence means the part is complete.
    storage.put_bytes(
        key + ".json",
        json.dumps(
            {
                "first": part.first,
                "last": part.last,
                "lengths": [int(c.size) for c in clips],
                "encoding": PART_ENCODING,
            }
        ).encode("utf-8"),
    )
    return True


def assemble_parts(
    engine: Engine, storage: Storage, settings: Settings, run_id: int, parts: list[Part]
) -> dict[str, Any] | None:
    """Join the stored parts into the final files; None if the task is already over."""
    from talecast.jobs.worker import export_and_store, storing_tracks, transcript_json

    with engine.connect() as conn:
        story = conn.execute(
            select(Story.status, Story.export_formats, Story.master).where(
                Story.run_id == run_id
            )
        ).one()
    if story.status != RUNNING:
        return None
    set_progress(engine, run_id, 100.0 - ASSEMBLY_SHARE, "assembly")
    began = time.perf_counter()
    plan = load_plan(storage, run_id)
    out_dir = settings.work_dir / f"run-{run_id}"
    # The tracks go to storage while they are joined (the assembly runs alone after
    # the last part, so storing them afterwards would add to every story's wait).
    with storing_tracks(storage, run_id, out_dir) as uploads:
        with _PartReader(storage, run_id, parts) as reader:
            result = assemble_story(
                plan, None, out_dir, samples_for=reader.line, uploads=uploads
            )
        joined = time.perf_counter()
        files_json = export_and_store(
            storage, run_id, out_dir, story.export_formats, story.master, None, uploads
        )
    logger.info(
        "story run %s: assembled %.1f s of audio in %.2f s (tracks %.2f s, "
        "exports and storing %.2f s)",
        run_id,
        result.duration_s,
        time.perf_counter() - began,
        joined - began,
        time.perf_counter() - joined,
    )
    return {
        "narration_key": f"runs/{run_id}/narration.flac",
        "dialogue_key": f"runs/{run_id}/dialogue.flac",
        "duration_s": float(result.duration_s),
        "transcript_json": transcript_json(result.transcript),
        "chapters_json": json.dumps(result.chapters, separators=(",", ":")),
        "files_json": files_json,
    }


def remove_parts(storage: Storage, run_id: int, parts: list[Part]) -> None:
    """Delete a finished run's part files (the tracks hold their audio now).

    Best effort: a part left behind costs space, not correctness.
    """
    try:
        for part in parts:
            # The index first: no half-present part.
            for suffix in (".json", ".pcm", ".flac"):
                storage.delete(f"runs/{run_id}/parts/{part.first:07d}{suffix}")
    except StorageError:
        logger.warning(
            "story run %s: could not delete its parts", run_id, exc_info=True
        )


def finish(engine: Engine, run_id: int, **values: Any) -> bool:
    """End the task as SUCCESS once; False if another run of this step ended it."""
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
    if done.rowcount == 1:
        notify.story_ended(engine, run_id)
    return done.rowcount == 1


def fail(
    engine: Engine, run_id: int, reason: str, message: str, status: str = ERROR
) -> bool:
    """End the task as ERROR (or TIMEOUT) with a machine reason and a human message;
    False if it had ended already."""
    with engine.begin() as conn:
        done = conn.execute(
            update(Story)
            .where(Story.run_id == run_id, Story.status.in_([QUEUED, RUNNING]))
            .values(
                status=status,
                stage="timed out" if status == TIMEOUT else "failed",
                exception_reason=reason,
                message=message,
                finished_at=time.time(),
            )
        )
    if done.rowcount == 1:
        notify.story_ended(engine, run_id)
    return done.rowcount == 1


def fail_with(engine: Engine, run_id: int, exc: BaseException, step: str) -> bool:
    """End the task for an exception raised by one of its steps: TIMEOUT for a time
    limit, ERROR with the error's own reason, or INTERNAL_ERROR for a bug."""
    if isinstance(exc, RenderTimeoutError):
        return fail(engine, run_id, exc.reason, str(exc), status=TIMEOUT)
    if isinstance(exc, TalecastError):
        return fail(engine, run_id, exc.reason, str(exc))
    logger.error("story run %s: %s failed", run_id, step, exc_info=exc)
    return fail(
        engine,
        run_id,
        "INTERNAL_ERROR",
        f"{step} failed because of an internal error ({type(exc).__name__})",
    )


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


def _cached(
    cache: LineCache, plan: StoryPlan, index: int, spoken: dict[str, np.ndarray]
) -> np.ndarray:
    key = line_cache_key(plan, index)
    samples = spoken.get(key)
    if samples is None:
        samples = cache.get(key)
    if samples is None:  # synthesize_lines just wrote it; only a full disk gets here
        raise StorageError(f"line {index} vanished from the line cache")
    return samples


class _PartReader:
    """Line samples from stored parts, in line order.

    While the lines of one part are joined into the tracks, the next part is fetched on
    a helper thread (the S3 client releases the GIL; so does libsndfile for a FLAC
    part of an older worker), so at most two parts are in memory.
    """

    def __init__(self, storage: Storage, run_id: int, parts: list[Part]) -> None:
        self.storage = storage
        self.run_id = run_id
        self.parts = sorted(parts, key=lambda p: p.first)
        self._loaded: tuple[Part, list[np.ndarray]] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="part-read")
        self._next: tuple[int, Future[list[np.ndarray]]] | None = None

    def line(self, index: int) -> np.ndarray:
        if self._loaded is None or not (
            self._loaded[0].first <= index < self._loaded[0].last
        ):
            position = next(
                n for n, p in enumerate(self.parts) if p.first <= index < p.last
            )
            self._loaded = (self.parts[position], self._take(position))
            if position + 1 < len(self.parts):
                following = self.parts[position + 1]
                self._next = (position + 1, self._pool.submit(self._load, following))
        return self._loaded[1][index - self._loaded[0].first]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> _PartReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _take(self, position: int) -> list[np.ndarray]:
        if self._next is not None and self._next[0] == position:
            future, self._next = self._next[1], None
            return future.result()
        return self._load(self.parts[position])

    def _load(self, part: Part) -> list[np.ndarray]:
        key = f"runs/{self.run_id}/parts/{part.first:07d}"
        with self.storage.open(key + ".json") as fh:
            index = json.loads(fh.read())
        lengths = index["lengths"]
        if index.get("encoding") == PART_ENCODING:
            with self.storage.open(key + ".pcm") as fh:
                samples = np.frombuffer(fh.read(), dtype="<i2").astype(np.int16)
        else:  # FLAC, as workers before PART_ENCODING wrote parts
            with self.storage.open(key + ".flac") as fh:
                samples, _ = sf.read(
                    io.BytesIO(fh.read()), dtype="int16", always_2d=False
                )
        if samples.size != sum(lengths):
            raise TalecastError(  # not retried: waiting would not mend it
                f"story part {key} holds {samples.size} samples, its index says "
                f"{sum(lengths)}"
            )
        bounds = np.cumsum([0, *lengths])
        return [samples[bounds[i] : bounds[i + 1]] for i in range(len(lengths))]
