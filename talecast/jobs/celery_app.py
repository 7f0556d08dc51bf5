"""Scale-out: stories rendered by Celery workers on a Redis broker.

``talecast serve`` with ``TALECAST_QUEUE=celery`` sends each new story's run id to
``talecast.plan``; ``talecast worker`` runs workers on any machine that reaches the
broker, the database and the storage. A story fans out one ``talecast.part`` per chapter
(or block of a long chapter) across all workers, then one ``talecast.assemble`` joins
them.

Tasks are acknowledged late and rejected when their worker process dies, so a killed
worker's task is delivered again; every step is idempotent (see
:mod:`talecast.jobs.parts`) and only the first assembly ends the story, so it finishes
exactly once.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from typing import Any

from celery import Celery, chord, signals
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from talecast.config import Settings, get_settings
from talecast.db import make_engine
from talecast.errors import RenderTimeoutError, TalecastError, stall_message
from talecast.jobs import parts as steps
from talecast.storage import StorageError, get_storage

logger = logging.getLogger(__name__)

PROGRESS_KEY = "talecast:parts-done:{run_id}"
# Logged by each pool process once its engines are loaded (Celery's "ready." comes
# earlier, while they still load): from then on a story part starts at once.
ENGINES_LOADED = "worker: %s speech engines loaded"


def make_celery(settings: Settings) -> Celery:
    """A Celery app configured for Talecast's at-least-once, idempotent tasks."""
    app = Celery("talecast", broker=settings.broker_url, backend=settings.broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=86400,
        broker_connection_retry_on_startup=True,
        # No step may run longer than the stall limit: the soft limit raises inside the
        # task (which ends its story as TIMEOUT); the hard one replaces a stuck process.
        task_soft_time_limit=settings.stall_timeout_s,
        task_time_limit=settings.stall_timeout_s + 30,
        worker_hijack_root_logger=False,
        broker_transport_options={
            # A message a dead worker held comes back after this long; it must exceed
            # the longest part's render time, or a slow part is delivered twice.
            "visibility_timeout": settings.celery_visibility_timeout_s,
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        },
    )
    return app


@lru_cache(maxsize=1)
def _context() -> tuple[Settings, Any, Any]:
    settings = get_settings()
    return settings, make_engine(settings.db_url), get_storage(settings)


def _settings_for_import() -> Settings:
    try:
        return get_settings()
    except TalecastError:  # imported for inspection without a configuration
        return Settings(broker_url="memory://")  # type: ignore[call-arg]


app = make_celery(_settings_for_import())


@signals.worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """Forked pool processes must not share the parent's database connections; they
    load their speech engines now, so the first story part does not wait for them."""
    _context.cache_clear()
    settings = _context()[0]
    try:
        warm_engines(settings.voice_profile)
    except TalecastError:  # an engine missing here fails its parts with a clear error
        logger.warning("worker: could not load every speech engine", exc_info=True)
        return
    logger.info(ENGINES_LOADED, settings.voice_profile)


def warm_engines(profile: str) -> None:
    """Load each engine the profile uses by speaking one word with one of its voices."""
    from talecast.pipeline.synthesis import get_synthesizer
    from talecast.pipeline.voices import list_voices

    synth = get_synthesizer()
    seen: set[str] = set()
    for voice in list_voices():
        if profile in voice.profiles and voice.engine not in seen:
            seen.add(voice.engine)
            synth.synthesize("Ready.", voice)


@app.task(name="talecast.plan", bind=True, max_retries=3)
def plan_task(self: Any, task_id: str) -> None:
    """Plan a story and fan its parts out to the workers."""
    settings, engine, storage = _context()
    run_id = steps.run_id_of(engine, task_id)
    if run_id is None:
        logger.warning("story task %s: unknown; nothing to render", task_id)
        return
    # Planning and the fan-out both end the story if they fail (a soft time limit
    # can fall in either): a story whose parts were never sent would wait forever.
    try:
        parts = steps.make_plan(engine, storage, settings, run_id)
        if parts is not None:
            _fan_out(settings, run_id, parts)
    except Exception as exc:  # noqa: BLE001 (each kind is reported by fail_with)
        steps.fail_with(engine, run_id, _as_timeout(exc, settings), "planning")


def _fan_out(settings: Settings, run_id: int, parts: list[steps.Part]) -> None:
    """One task per part, then the assembly once all are done."""
    payload = [[p.first, p.last] for p in parts]
    _redis(settings).delete(PROGRESS_KEY.format(run_id=run_id))
    header = [part_task.s(run_id, first, last, len(parts)) for first, last in payload]
    # The error callback ends the story if a part dies without ending it itself (a
    # worker killed by the hard time limit); otherwise the chord would wait forever.
    # The assembly is the serial tail of every story: parts encode their own stretch of
    # the FLAC tracks so that it only renumbers frames (1.7-2.0 s for Alice ch. 1-6,
    # from 3.0-3.6 s) while it stores them; what remains is mostly the object store
    # reading the parts back and taking the tracks (bench/scaleout.py).
    finale = assemble_task.s(run_id, payload).on_error(story_failed.s(run_id))
    chord(header)(finale)


@app.task(name="talecast.part", bind=True, max_retries=3)
def part_task(self: Any, run_id: int, first: int, last: int, total: int) -> int:
    """Synthesize lines [first, last) of a story into storage."""
    settings, engine, storage = _context()
    try:
        if steps.is_over(engine, settings, run_id):  # ended elsewhere, or a late copy
            logger.info("story run %s: over; part %d-%d skipped", run_id, first, last)
            return first
        steps.make_part(storage, settings, run_id, steps.Part(first, last))
    except Exception as exc:
        steps.fail_with(engine, run_id, _as_timeout(exc, settings), "a story part")
        raise
    done = _redis(settings).incr(PROGRESS_KEY.format(run_id=run_id))
    steps.set_progress(
        engine, run_id, steps.part_progress(int(done), total), "synthesis"
    )
    return first


@app.task(name="talecast.assemble", bind=True, max_retries=20)
def assemble_task(
    self: Any, _results: list[int], run_id: int, payload: list[list[int]]
) -> None:
    """Join the parts into the narration, dialogue track and transcript."""
    settings, engine, storage = _context()
    parts = [steps.Part(first, last) for first, last in payload]
    try:
        if steps.is_over(engine, settings, run_id):
            return
        values = steps.assemble_parts(engine, storage, settings, run_id, parts)
    except StorageError as exc:
        # A part delivered twice can fire the chord early; wait for the stragglers.
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=2) from exc
        steps.fail_with(engine, run_id, exc, "assembly")
        return
    except Exception as exc:  # noqa: BLE001 (each kind is reported by fail_with)
        steps.fail_with(engine, run_id, _as_timeout(exc, settings), "assembly")
        return
    if values is not None and steps.finish(engine, run_id, **values):
        logger.info(
            "story run %s: finished (%.1f s of audio)", run_id, values["duration_s"]
        )
        steps.remove_parts(storage, run_id, parts)


@app.task(name="talecast.story_failed")
def story_failed(request: Any, exc: BaseException, traceback: Any, run_id: int) -> None:
    """Error callback of a story's chord: end the story if no step has ended it."""
    settings, engine, _ = _context()
    if isinstance(exc, TimeLimitExceeded) or "TimeLimitExceeded" in repr(exc):
        message = stall_message(settings.stall_timeout_s, "a story part")
        exc = RenderTimeoutError(message, "RENDER_STALLED")
    ended = steps.fail_with(engine, run_id, exc, "a story part")
    logger.info(
        "story run %s: a part failed (%r); %s",
        run_id,
        exc,
        "the story ends here" if ended else "the story had ended already",
    )


def _as_timeout(exc: BaseException, settings: Settings) -> BaseException:
    """The soft time limit (no step may run longer than ``stall_timeout_s``) as a
    RenderTimeoutError; any other exception unchanged."""
    if isinstance(exc, SoftTimeLimitExceeded):
        message = stall_message(settings.stall_timeout_s, "a story step")
        return RenderTimeoutError(message, "RENDER_STALLED")
    return exc


class CeleryQueue:
    """The queue interface of :mod:`talecast.jobs.queue`, sending to the broker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def submit(self, task_id: str) -> None:
        """Send a stored story to the workers."""
        plan_task.apply_async(args=[task_id])

    def check(self) -> None:
        """Raise if the broker does not answer."""
        _redis(self.settings).ping()

    def warm(self) -> None:
        """Connect the producer pool to the broker, so the first story is sent as
        quickly as the next (about 50 ms otherwise)."""
        with app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=0)


def run_worker(concurrency: int = 1) -> None:
    """Run a Celery worker in this process (the ``talecast worker`` command)."""
    settings = get_settings()
    if settings.queue != "celery" or not settings.broker_url:
        raise TalecastError(
            "talecast worker needs TALECAST_QUEUE=celery and "
            "TALECAST_BROKER_URL=redis://HOST:PORT/0"
        )
    from talecast.config import default_threads
    from talecast.db import migrate

    if not os.environ.get("TALECAST_THREADS_PER_WORKER"):
        # The machine's cores shared among this worker's processes (read after fork).
        os.environ["TALECAST_THREADS_PER_WORKER"] = str(default_threads(concurrency))
    migrate(make_engine(settings.db_url))
    app.worker_main(
        [
            "worker",
            "--loglevel",
            settings.log_level,
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
        ]
    )


@lru_cache(maxsize=4)
def _redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def _redis(settings: Settings) -> Any:
    return _redis_client(settings.broker_url or "")
