"""A worker ends tasks it cannot render as ERROR with the error's reason and message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from talecast.config import Settings, get_settings
from talecast.db import Account, Story, make_engine, migrate
from talecast.jobs import queue
from talecast.jobs.worker import process
from talecast.storage import LocalStorage


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Settings, Engine, LocalStorage]:
    """Settings, a migrated database with one account, and local storage."""
    settings = get_settings(data_dir=tmp_path, voice_profile="fast")
    engine = make_engine(settings.db_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(Account).values(id=1, name="a", created_at=0.0))
    return settings, engine, LocalStorage(settings.files_dir)


def _queue_story(engine: Engine, upload_key: str, voice: int | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(Story).values(
                task_id="t1",
                account_id=1,
                status="queued",
                progress=0.0,
                stage="queued",
                source_language=1,
                upload_key=upload_key,
                upload_bytes=1,
                created_at=time.time(),
                attempts=0,
                narrator_voice_id=voice,
            )
        )


def _run_once(
    settings: Settings, engine: Engine, storage: LocalStorage, on_stall=None
) -> tuple:
    with engine.connect() as conn:
        claim = queue.claim_next(conn, "test", 60)
    assert claim is not None
    process(engine, storage, settings, claim, on_stall=on_stall)
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                select(Story.status, Story.exception_reason, Story.message)
            ).one()
        )


def test_unreadable_story_ends_as_error_with_its_reason(setup) -> None:  # type: ignore[no-untyped-def]
    settings, engine, storage = setup
    storage.put_bytes("uploads/t1", b"   \n  ")
    _queue_story(engine, "uploads/t1")
    status, reason, message = _run_once(settings, engine, storage)
    assert (status, reason) == ("error", "INVALID_SOURCE_DATA")
    assert message and len(message) > 20


def test_missing_upload_ends_as_error_instead_of_crashing_the_worker(setup) -> None:  # type: ignore[no-untyped-def]
    settings, engine, storage = setup
    _queue_story(engine, "uploads/gone")
    status, reason, message = _run_once(settings, engine, storage)
    assert status == "error" and reason == "PROCESSING_ERROR"
    assert "uploads/gone" in message


def test_task_that_kept_killing_its_worker_is_given_up(setup) -> None:  # type: ignore[no-untyped-def]
    settings, engine, storage = setup
    storage.put_bytes("uploads/t1", b"A tale.")
    _queue_story(engine, "uploads/t1")
    with engine.begin() as conn:
        conn.execute(Story.__table__.update().values(attempts=queue.MAX_ATTEMPTS))
    status, reason, message = _run_once(settings, engine, storage)
    assert (status, reason) == ("error", "INTERNAL_ERROR")
    assert f"{queue.MAX_ATTEMPTS} times" in message


def test_render_past_its_time_limit_ends_as_timeout_with_a_reason(setup) -> None:  # type: ignore[no-untyped-def]
    settings, engine, storage = setup
    settings = settings.model_copy(update={"render_timeout_s": 0.001})
    storage.put_bytes("uploads/t1", b'"Are we late?" asked Mara. The bell rang.')
    _queue_story(engine, "uploads/t1")
    status, reason, message = _run_once(settings, engine, storage)
    assert (status, reason) == ("timeout", "RENDER_TIME_LIMIT")
    assert "TALECAST_RENDER_TIMEOUT_S" in message
    with engine.connect() as conn:
        assert conn.execute(select(Story.claim_token)).scalar() is None


def test_render_without_progress_for_the_stall_limit_ends_as_timeout(setup) -> None:  # type: ignore[no-untyped-def]
    """A Kokoro line of 250 characters takes seconds on one thread: longer than a
    half-second stall limit, so to the heartbeat it looks like a hung engine."""
    settings, engine, storage = setup
    settings = settings.model_copy(
        update={"stall_timeout_s": 0.5, "voice_profile": "neural"}
    )
    speech = " ".join(["the tide came over the long grey stones of the harbour"] * 4)
    storage.put_bytes("uploads/t1", f'"{speech}," said Tobias.'.encode())
    _queue_story(engine, "uploads/t1", voice=2)  # a Kokoro narrator
    stalls = []
    status, reason, message = _run_once(
        settings, engine, storage, on_stall=lambda: stalls.append(time.monotonic())
    )
    assert (status, reason) == ("timeout", "RENDER_STALLED")
    assert "no progress for 0.5 s" in message and "TALECAST_STALL_TIMEOUT_S" in message
    assert len(stalls) == 1
