"""A story rendered in parts: plan once, synthesize parts anywhere, assemble once.

These functions are what the Celery tasks run (see :mod:`talecast.jobs.celery_app`), and
each is safe to run twice: a part already in storage is not made again, and only the
first assembly to finish ends the task. Files in storage, per run::

    runs/<run_id>/plan.json                     the StoryPlan (lines, cast, voices)
    runs/<run_id>/parts/<first>.narration.flac  lines [first, last) of both tracks,
    runs/<run_id>/parts/<first>.dialogue.flac   encoded where they were synthesized
    runs/<run_id>/parts/<first>.json            {"first", "last", "lengths": [samples
                                                 per line], "adjust", "samples",
                                                 "narration_frames", "dialogue_frames",
                                                 "encoding": "flac-tracks"}

A part's tracks are whole FLAC blocks (see
:func:`talecast.pipeline.assembly.part_adjust`), so the assembly, which runs alone after
the last part, only renumbers their frames into the story's tracks
(:mod:`talecast.pipeline.flacstream`) instead of encoding an hour of audio on one
machine.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import soundfile as sf
from sqlalchemy import Engine, select, update

from talecast.config import Settings
from talecast.db import Story, StoryStatus
from talecast.db.models import ENDED_STATUSES
from talecast.errors import RenderTimeoutError, TalecastError, render_time_limit_message
from talecast.jobs import notify
from talecast.pipeline.assembly import Assembly, Layout, part_tracks
from talecast.pipeline.cache import LineCache
from talecast.pipeline.flacstream import (
    EncodedTrack,
    FlacStreamError,
    StreamJoiner,
    encode,
)
from talecast.pipeline.render import (
    PART_TARGET_CHARS,
    StoryPlan,
    finish_story,
    line_cache_key,
    plan_story,
    synthesize_lines,
)
from talecast.pipeline.synthesis import OUTPUT_RATE_HZ
from talecast.storage import Storage, StorageError

if TYPE_CHECKING:
    from talecast.storage.base import FileUpload

logger = logging.getLogger(__name__)

PART_ENCODING = "flac-tracks"
# Parts of workers before PART_ENCODING: raw samples ("s16le") or, earlier, FLAC audio
# of the lines alone (an index without "encoding"). Both still assemble: the assembly
# lays out and encodes such a part itself.
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
    """The plan's parts (:meth:`StoryPlan.part_ranges`), in story order."""
    return [Part(first, last) for first, last in plan.part_ranges(target_chars)]


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
    """Synthesize and encode one part into storage; False when it was already there."""
    key = _part_key(run_id, part.first)
    if _exists(storage, key + ".json"):
        return False
    plan = load_plan(storage, run_id)
    cache = LineCache(settings.cache_dir, OUTPUT_RATE_HZ)
    spoken: dict[str, np.ndarray] = {}
    synthesize_lines(plan, range(part.first, part.last), cache, keep=spoken)
    clips = [_cached(cache, plan, i, spoken) for i in range(part.first, part.last)]
    tracks = _encoded_part(plan, part.first, part.last, clips)
    storage.put_bytes(key + ".narration.flac", tracks.narration.data)
    storage.put_bytes(key + ".dialogue.flac", tracks.dialogue.data)
    # The index goes last: its presence means the part is complete.
    storage.put_bytes(
        key + ".json",
        json.dumps(
            {
                "first": part.first,
                "last": part.last,
                "lengths": tracks.lengths,
                "adjust": tracks.adjust,
                "samples": tracks.narration.samples,
                "narration_frames": tracks.narration.offsets,
                "dialogue_frames": tracks.dialogue.offsets,
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
    out_dir.mkdir(parents=True, exist_ok=True)
    # The tracks go to storage while they are joined (the assembly runs alone after
    # the last part, so storing them afterwards would add to every story's wait).
    with storing_tracks(storage, run_id, out_dir) as uploads:
        assembly = _join_parts(storage, run_id, plan, parts, out_dir, uploads)
        result = finish_story(plan, assembly, out_dir)
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


def _join_parts(
    storage: Storage,
    run_id: int,
    plan: StoryPlan,
    parts: list[Part],
    out_dir: Path,
    uploads: Mapping[str, FileUpload],
) -> Assembly:
    """Both tracks of the story from its stored parts, with every line's place."""
    layout = Layout(plan.lines, OUTPUT_RATE_HZ)
    paths = {name: out_dir / f"{name}.flac" for name in ("narration", "dialogue")}
    try:
        with (
            StreamJoiner(
                paths["narration"], OUTPUT_RATE_HZ, uploads.get("narration.flac")
            ) as narration,
            StreamJoiner(
                paths["dialogue"], OUTPUT_RATE_HZ, uploads.get("dialogue.flac")
            ) as dialogue,
            _PartReader(storage, run_id, plan, parts) as reader,
        ):
            for part in reader:
                filled = layout.place_part(
                    part.first, part.last, part.lengths, part.adjust
                )
                if filled != part.narration.samples:
                    raise TalecastError(  # not retried: waiting would not mend it
                        f"story part {_part_key(run_id, part.first)} holds "
                        f"{part.narration.samples} samples, its lines and pauses "
                        f"take {filled}"
                    )
                narration.add(part.narration)
                dialogue.add(part.dialogue)
            if not plan.lines:  # nothing to join: the silence of an empty story
                layout.skip(layout.tail())
                silence = encode(np.zeros(layout.position, np.int16), OUTPUT_RATE_HZ)
                narration.add(silence)
                dialogue.add(silence)
    except FlacStreamError as exc:
        message = f"story run {run_id}: its parts do not join: {exc}"
        raise TalecastError(message) from exc
    return Assembly(
        paths["narration"],
        paths["dialogue"],
        layout.segments,
        layout.chapters(plan.chapter_titles),
        layout.position,
        OUTPUT_RATE_HZ,
    )


def remove_parts(storage: Storage, run_id: int, parts: list[Part]) -> None:
    """Delete a finished run's part files (the tracks hold their audio now).

    Best effort: a part left behind costs space, not correctness.
    """
    try:
        for part in parts:
            # The index first: no half-present part.
            for suffix in PART_SUFFIXES:
                storage.delete(_part_key(run_id, part.first) + suffix)
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


def _part_key(run_id: int, first: int) -> str:
    return f"runs/{run_id}/parts/{first:07d}"


# The index first, so no part is ever half present; then the files of every encoding.
PART_SUFFIXES = (".json", ".narration.flac", ".dialogue.flac", ".pcm", ".flac")


@dataclass(frozen=True)
class _EncodedPart:
    """A part's two tracks, ready to join, and the length of each of its lines."""

    first: int
    last: int
    lengths: list[int]
    adjust: int
    narration: EncodedTrack
    dialogue: EncodedTrack


def _encoded_part(
    plan: StoryPlan, first: int, last: int, clips: list[np.ndarray]
) -> _EncodedPart:
    tracks = part_tracks(plan.lines, first, last, clips, OUTPUT_RATE_HZ)
    return _EncodedPart(
        first,
        last,
        [int(c.size) for c in clips],
        tracks.adjust,
        encode(tracks.narration, OUTPUT_RATE_HZ),
        encode(tracks.dialogue, OUTPUT_RATE_HZ),
    )


class _PartReader:
    """The stored parts of a run, in story order.

    While one part is joined into the tracks, the next ``READ_AHEAD`` are fetched on
    helper threads (the S3 client releases the GIL; so does libsndfile, which encodes
    the part of an older worker): one request at a time left the joining waiting for
    storage for half of its time.
    """

    READ_AHEAD = 4

    def __init__(
        self, storage: Storage, run_id: int, plan: StoryPlan, parts: list[Part]
    ) -> None:
        self.storage = storage
        self.run_id = run_id
        self.plan = plan
        self.parts = sorted(parts, key=lambda p: p.first)
        self._pool = ThreadPoolExecutor(
            max_workers=self.READ_AHEAD, thread_name_prefix="part-read"
        )

    def __iter__(self) -> Iterator[_EncodedPart]:
        coming = (self._pool.submit(self._load, part) for part in self.parts)
        fetching = deque(itertools.islice(coming, self.READ_AHEAD))
        while fetching:
            loaded = fetching.popleft().result()
            fetching.extend(itertools.islice(coming, 1))
            yield loaded

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> _PartReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read(self, key: str) -> bytes:
        with self.storage.open(key) as fh:
            return fh.read()

    def _load(self, part: Part) -> _EncodedPart:
        key = _part_key(self.run_id, part.first)
        try:
            return self._decode(key, part, json.loads(self._read(key + ".json")))
        except FlacStreamError:
            raise  # said as "its parts do not join"
        except (KeyError, TypeError, ValueError) as exc:
            raise TalecastError(  # not retried: waiting would not mend it
                f"story part {key} has a malformed index ({exc!r})"
            ) from exc

    def _decode(self, key: str, part: Part, index: dict[str, Any]) -> _EncodedPart:
        if (index["first"], index["last"]) != (part.first, part.last):
            raise TalecastError(
                f"story part {key} holds lines {index['first']}-{index['last']}, "
                f"the plan says {part.first}-{part.last}"
            )
        if index.get("encoding") != PART_ENCODING:  # from an older worker
            return _encoded_part(self.plan, part.first, part.last, self._clips(index))
        samples = int(index["samples"])
        return _EncodedPart(
            part.first,
            part.last,
            [int(n) for n in index["lengths"]],
            int(index["adjust"]),
            *(
                EncodedTrack(
                    self._read(f"{key}.{track}.flac"),
                    [int(n) for n in index[f"{track}_frames"]],
                    samples,
                )
                for track in ("narration", "dialogue")
            ),
        )

    def _clips(self, index: dict[str, Any]) -> list[np.ndarray]:
        """The line samples of a part an older worker stored (raw or FLAC)."""
        key = _part_key(self.run_id, index["first"])
        lengths = index["lengths"]
        if index.get("encoding") == "s16le":
            raw = self._read(key + ".pcm")
            samples = np.frombuffer(raw, dtype="<i2").astype(np.int16)
        else:
            flac = io.BytesIO(self._read(key + ".flac"))
            samples, _ = sf.read(flac, dtype="int16", always_2d=False)
        if samples.size != sum(lengths):
            raise TalecastError(  # not retried: waiting would not mend it
                f"story part {key} holds {samples.size} samples, its index says "
                f"{sum(lengths)}"
            )
        bounds = np.cumsum([0, *lengths])
        return [samples[bounds[i] : bounds[i + 1]] for i in range(len(lengths))]
