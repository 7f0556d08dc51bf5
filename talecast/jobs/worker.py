"""A render worker: claims queued stories and renders them, one at a time.

Each worker is its own process (see :mod:`talecast.jobs.pool`). While a story renders, a
heartbeat thread extends the claim's lease and records progress; if the claim is lost
the render is abandoned at the next progress report. Renders share one line cache under
the data folder, so a re-claimed story resumes instead of starting from zero.

Time limits: a render still going ``render_timeout_s`` after the story first started
ends as TIMEOUT at its next progress report. One that reports no progress for
``stall_timeout_s`` (an engine call that never returns) is ended as TIMEOUT by the
heartbeat thread, which then ends the worker process: the stuck call cannot be
interrupted, and the pool starts a fresh worker in its place.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from talecast.config import SERVICE_LOG_FORMAT, Settings
from talecast.db import Story, make_engine
from talecast.errors import (
    RenderTimeoutError,
    TalecastError,
    render_time_limit_message,
    stall_message,
)
from talecast.jobs import notify, queue
from talecast.storage import Storage, get_storage

if TYPE_CHECKING:
    from talecast.pipeline.render import RenderOptions
    from talecast.storage.base import FileUpload

logger = logging.getLogger(__name__)

HEARTBEAT_PERIOD_S = 0.5  # also how often progress reaches the database
RENDER_SHARE = 0.9  # of the progress bar; exporting and storing take the rest
ALWAYS_EXPORTED = ("vtt", "srt", "words")  # cheap timed text every run gets
TRACK_NAMES = ("narration.flac", "dialogue.flac")
DELIVERABLE_NAMES = (
    "narration.flac",
    "dialogue.flac",
    "transcript.json",
    "script.json",
    "dropped_tags.json",
    "pronunciations.json",
    "chapters.json",
    "cast.json",
    "review.json",
    "report.json",
    "narration.mp3",
    "narration.m4b",
    "narration.opus",
    "narration.epub",
    "transcript.vtt",
    "transcript.srt",
    "words.json",
    "qa.json",
)
DELIVERABLE_FOLDERS = (("stems", ".flac"), ("acx", ".mp3"))


class ClaimLostError(Exception):
    """Raised inside a render whose claim another worker has taken over."""


class _Beat:
    """Progress shared between the render (writer) and the heartbeat thread."""

    def __init__(self) -> None:
        self.progress = 0.0
        self.stage = "starting"
        self.lost = False
        self.stop = threading.Event()
        self.touched = time.monotonic()  # when the render last reported progress


def run_worker(settings: Settings, parent_pid: int) -> None:
    """Process entry point: poll for tasks until SIGTERM or the parent dies."""
    _die_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: _exit_now())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when to stop
    _configure_child_logging(settings.log_level)
    engine = make_engine(settings.db_url)
    storage = get_storage(settings)
    worker_id = queue.worker_identity()
    logger.info("worker %s: started", worker_id)

    while os.getppid() == parent_pid:
        with engine.connect() as conn:
            claim = queue.claim_next(conn, worker_id, settings.lease_s)
        if claim is None:
            time.sleep(settings.poll_interval_s)
            continue
        process(engine, storage, settings, claim)
    logger.info("worker %s: parent exited; stopping", worker_id)


def process(
    engine: Engine,
    storage: Storage,
    settings: Settings,
    claim: queue.Claim,
    on_stall: Callable[[], None] | None = None,
) -> None:
    """Render one claimed story and end its task as SUCCESS, ERROR or TIMEOUT.

    ``on_stall`` runs on the heartbeat thread after a stalled render was ended as
    TIMEOUT; by default it ends this process (see the module's docstring).
    """
    log_extra = {"run_id": claim.run_id, "task_id": claim.task_id}
    if claim.attempts > queue.MAX_ATTEMPTS:
        message = (
            f"rendering stopped unexpectedly {claim.attempts - 1} times; "
            "the story was not rendered"
        )
        _end_failed(engine, settings, claim, "INTERNAL_ERROR", message)
        return

    logger.info(
        "story run %s: started (attempt %d)",
        claim.run_id,
        claim.attempts,
        extra=log_extra,
    )
    beat = _Beat()
    thread = threading.Thread(
        target=_heartbeat_loop,
        args=(engine, claim, settings, beat, on_stall or _exit_stalled),
        daemon=True,
    )
    thread.start()
    started = time.monotonic()
    try:
        result = _guarded_render(engine, storage, settings, claim, beat)
    finally:
        beat.stop.set()
        thread.join()
    if result is None:
        return

    render_s = time.monotonic() - started
    with engine.connect() as conn:
        done = queue.finish(conn, claim, render_s=round(render_s, 3), **result)
    if done:
        notify.story_ended(engine, claim.run_id, settings.secret_key)
    if not done:
        logger.warning(
            "story run %s: finished but the claim was lost",
            claim.run_id,
            extra=log_extra,
        )
        return
    logger.info(
        "story run %s: finished in %.1f s (%.1f s of audio)",
        claim.run_id,
        render_s,
        result["duration_s"],
        extra=log_extra,
    )
    shutil.rmtree(settings.work_dir / claim.task_id, ignore_errors=True)


def _guarded_render(
    engine: Engine,
    storage: Storage,
    settings: Settings,
    claim: queue.Claim,
    beat: _Beat,
) -> dict[str, Any] | None:
    """The render's result, or None once the task was ended as failed or taken over."""
    try:
        return _render(engine, storage, settings, claim, beat)
    except ClaimLostError:
        logger.warning(
            "story run %s: claim lost; another worker continues",
            claim.run_id,
            extra={"run_id": claim.run_id, "task_id": claim.task_id},
        )
    except RenderTimeoutError as exc:
        _end_timed_out(engine, settings, claim, exc.reason, str(exc))
    except TalecastError as exc:
        _end_failed(engine, settings, claim, exc.reason, str(exc))
    except Exception as exc:  # a bug, not the user's input: keep the worker alive
        logger.error(
            "story run %s: render failed",
            claim.run_id,
            exc_info=True,
            extra={"run_id": claim.run_id, "task_id": claim.task_id},
        )
        message = (
            f"rendering failed because of an internal error ({type(exc).__name__})"
        )
        _end_failed(engine, settings, claim, "INTERNAL_ERROR", message)
    return None


def _render(
    engine: Engine,
    storage: Storage,
    settings: Settings,
    claim: queue.Claim,
    beat: _Beat,
) -> dict[str, Any]:
    from talecast.pipeline.reading import read_story
    from talecast.pipeline.render import render_story

    with engine.connect() as conn:
        story = conn.execute(
            select(
                Story.upload_key,
                Story.export_formats,
                Story.master,
                *RENDER_OPTION_COLUMNS,
            ).where(Story.run_id == claim.run_id)
        ).one()
    with storage.open(story.upload_key) as fh:
        data = fh.read()

    deadline = claim.started_at + settings.render_timeout_s

    def progress(fraction: float, stage: str) -> None:
        if beat.lost:
            raise ClaimLostError(claim.task_id)
        if time.time() > deadline:
            raise RenderTimeoutError(
                render_time_limit_message(settings.render_timeout_s)
            )
        beat.progress = 100.0 * float(fraction)
        beat.stage = stage
        beat.touched = time.monotonic()

    progress(0.0, "reading")
    document = read_story(data)
    options = render_options(story, settings)
    out_dir = settings.work_dir / claim.task_id
    out_dir.mkdir(parents=True, exist_ok=True)
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with storing_tracks(storage, claim.run_id, out_dir) as uploads:
        rendered = render_story(
            document,
            out_dir,
            options,
            cache_dir=settings.cache_dir,
            progress=lambda f, stage: progress(RENDER_SHARE * f, stage),
            uploads=uploads,
        )
        if beat.lost:
            raise ClaimLostError(claim.task_id)

        files_json = export_and_store(
            storage,
            claim.run_id,
            out_dir,
            story.export_formats,
            story.master,
            lambda f, stage: progress(RENDER_SHARE + (1 - RENDER_SHARE) * f, stage),
            uploads,
        )
    return {
        "narration_key": f"runs/{claim.run_id}/narration.flac",
        "dialogue_key": f"runs/{claim.run_id}/dialogue.flac",
        "duration_s": float(rendered.duration_s),
        "transcript_json": transcript_json(rendered.transcript),
        "chapters_json": json.dumps(rendered.chapters, separators=(",", ":")),
        "files_json": files_json,
    }


# The story columns render_options reads.
RENDER_OPTION_COLUMNS = (
    Story.narrator_voice_id,
    Story.replacements_json,
    Story.corrections_json,
    Story.keep_voices_json,
    Story.drop_tags,
)


def render_options(story: Any, settings: Settings) -> RenderOptions:
    """The render options of a story row selected with ``RENDER_OPTION_COLUMNS``."""
    from talecast.pipeline.render import RenderOptions

    return RenderOptions(
        narrator_voice_id=story.narrator_voice_id,
        profile=settings.voice_profile,
        replacements=json.loads(story.replacements_json or "null"),
        threads=settings.threads_per_worker,
        corrections=json.loads(story.corrections_json or "null"),
        keep_voices=json.loads(story.keep_voices_json or "null"),
        drop_tags=bool(story.drop_tags),
    )


def export_and_store(
    storage: Storage,
    run_id: int,
    out_dir: Path,
    export_formats: str | None,
    master: str | None,
    progress: Callable[[float, str], None] | None = None,
    uploads: Mapping[str, FileUpload] | None = None,
) -> str:
    """Export a rendered run and store every deliverable under ``runs/<run_id>/``.

    Files with an upload in ``uploads`` (the tracks, from :func:`storing_tracks`) are
    not stored again; their uploads are waited for.

    Writes the timed text (WebVTT, SRT, word timings) always and the requested formats
    and mastering (``export_formats`` "mp3,vtt", ``master`` "acx"), then stores the
    files :func:`deliverable_names` picks. Returns the ``files_json`` column value:
    JSON ``[{"name": "transcript.vtt", "size": 1234}]``.
    """
    from talecast.pipeline.export import export_run

    requested = [f for f in (export_formats or "").split(",") if f]
    formats = list(dict.fromkeys([*ALWAYS_EXPORTED, *requested]))
    began = time.perf_counter()
    # The loudness report needs a pass over the audio: only when audio is exported.
    export_run(
        out_dir,
        formats,
        master=master or None,
        progress=progress,
        report=bool(set(requested) - set(ALWAYS_EXPORTED)) or bool(master),
    )

    exported = time.perf_counter()
    names = deliverable_names(out_dir)
    uploads = uploads or {}
    # Several uploads at once: object stores answer each request with a delay.
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="store") as pool:
        list(
            pool.map(
                lambda n: storage.put_file(f"runs/{run_id}/{n}", out_dir / n),
                [n for n in names if n not in uploads],
            )
        )
    others = time.perf_counter()
    for upload in uploads.values():  # the tracks, stored while they were written
        upload.wait()
    stored = [{"name": n, "size": (out_dir / n).stat().st_size} for n in names]
    logger.info(
        "story run %s: %d files stored (exports %.2f s, storing %.2f s, then "
        "%.2f s until the tracks were stored)",
        run_id,
        len(stored),
        exported - began,
        others - exported,
        time.perf_counter() - others,
        extra={"run_id": run_id},
    )
    return json.dumps(stored, ensure_ascii=False, separators=(",", ":"))


@contextmanager
def storing_tracks(
    storage: Storage, run_id: int, out_dir: Path
) -> Iterator[dict[str, FileUpload]]:
    """Uploads that store a run's two tracks while assembly writes them, for
    ``render_story``/``assemble_story`` and then :func:`export_and_store`; all are
    abandoned if the block raises."""
    uploads = {
        name: storage.upload_growing(f"runs/{run_id}/{name}", out_dir / name)
        for name in TRACK_NAMES
    }
    try:
        yield uploads
    except BaseException:
        for upload in uploads.values():
            upload.abort()
        raise


def deliverable_names(out_dir: Path) -> list[str]:
    """The files of a run folder that are offered for download, as relative names.

    The top-level results (audio, transcripts, chapters, cast, review, report) and
    ``stems/*.flac`` and ``acx/*.mp3``; working files such as ``segments.json`` stay.
    """
    names = [name for name in DELIVERABLE_NAMES if (out_dir / name).is_file()]
    for folder, suffix in DELIVERABLE_FOLDERS:
        names.extend(
            f"{folder}/{path.name}"
            for path in sorted((out_dir / folder).glob(f"*{suffix}"))
            if path.is_file()
        )
    return names


def transcript_json(items: list[dict[str, Any]]) -> str:
    """The transcript as stored and served: compact JSON, times to 2 decimals."""
    clean = [
        {
            "start": round(float(item["start"]), 2),
            "end": round(float(item["end"]), 2),
            "text": str(item["text"]),
            "speaker": str(item["speaker"]),
        }
        for item in items
    ]
    return json.dumps(clean, ensure_ascii=False, separators=(",", ":"))


def _end_failed(
    engine: Engine, settings: Settings, claim: queue.Claim, reason: str, message: str
) -> None:
    with engine.connect() as conn:
        ended = queue.fail(conn, claim, reason, message)
    if ended:
        notify.story_ended(engine, claim.run_id, settings.secret_key)
        shutil.rmtree(settings.work_dir / claim.task_id, ignore_errors=True)
        logger.info(
            "story run %s: failed with %s: %s",
            claim.run_id,
            reason,
            message,
            extra={"run_id": claim.run_id, "task_id": claim.task_id},
        )


def _end_timed_out(
    engine: Engine, settings: Settings, claim: queue.Claim, reason: str, message: str
) -> bool:
    with engine.connect() as conn:
        ended = queue.time_out(conn, claim, reason, message)
    if ended:
        notify.story_ended(engine, claim.run_id, settings.secret_key)
        shutil.rmtree(settings.work_dir / claim.task_id, ignore_errors=True)
        logger.warning(
            "story run %s: timed out: %s",
            claim.run_id,
            message,
            extra={"run_id": claim.run_id, "task_id": claim.task_id},
        )
    return ended


def _heartbeat_loop(
    engine: Engine,
    claim: queue.Claim,
    settings: Settings,
    beat: _Beat,
    on_stall: Callable[[], None],
) -> None:
    while not beat.stop.wait(HEARTBEAT_PERIOD_S):
        if time.monotonic() - beat.touched > settings.stall_timeout_s:
            message = stall_message(settings.stall_timeout_s, beat.stage)
            try:
                _end_timed_out(engine, settings, claim, "RENDER_STALLED", message)
            except Exception:  # the database is away too: the lease runs out instead
                logger.error("story run %s: stalled", claim.run_id, exc_info=True)
            beat.lost = True  # should the call ever return, the render stops there
            on_stall()
            return
        try:
            with engine.connect() as conn:
                held = queue.heartbeat(
                    conn, claim, settings.lease_s, beat.progress, beat.stage
                )
        except Exception:  # a locked or busy database: try again next beat
            logger.warning(
                "story run %s: heartbeat failed", claim.run_id, exc_info=True
            )
            continue
        if not held:
            beat.lost = True
            return


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (best effort elsewhere)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        logger.debug("worker: prctl unavailable; relying on the parent-pid check")


def _exit_stalled() -> None:
    # The stuck call holds this process; the pool replaces it with a fresh worker.
    logging.shutdown()
    os._exit(3)


def _exit_now() -> None:
    # A render holds no state that a later claim cannot rebuild from the line cache.
    os._exit(0)


def _configure_child_logging(level: str) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=level.upper(),
            format=SERVICE_LOG_FORMAT,
        )
