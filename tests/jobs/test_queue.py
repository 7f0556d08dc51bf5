"""The database-backed queue: atomic claims, leases, exactly-once completion."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from talecast.db import Account, Story, make_engine, migrate
from talecast.jobs import queue


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A fresh migrated SQLite database."""
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(Account).values(id=1, name="a", created_at=0.0))
    return engine


def _enqueue(engine: Engine, count: int) -> None:
    with engine.begin() as conn:
        for i in range(count):
            conn.execute(
                insert(Story).values(
                    task_id=f"t{i}",
                    account_id=1,
                    status="queued",
                    progress=0.0,
                    stage="queued",
                    source_language=1,
                    upload_key=f"uploads/t{i}",
                    upload_bytes=1,
                    created_at=float(i),
                    attempts=0,
                )
            )


def test_concurrent_workers_claim_each_task_exactly_once(
    tmp_path: Path, engine: Engine
) -> None:
    _enqueue(engine, 40)
    claimed: list[int] = []
    lock = threading.Lock()

    def drain(worker: str) -> None:
        own = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
        while True:
            with own.connect() as conn:
                claim = queue.claim_next(conn, worker, lease_s=60)
            if claim is None:
                return
            with lock:
                claimed.append(claim.run_id)

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == list(range(1, 41))


def test_tasks_are_claimed_oldest_first(engine: Engine) -> None:
    _enqueue(engine, 3)
    with engine.connect() as conn:
        order = [queue.claim_next(conn, "w", 60) for _ in range(4)]
    assert [c.task_id if c else None for c in order] == ["t0", "t1", "t2", None]


def test_expired_lease_is_reclaimed_and_the_old_claim_cannot_finish(
    engine: Engine,
) -> None:
    _enqueue(engine, 1)
    with engine.connect() as conn:
        first = queue.claim_next(conn, "w1", lease_s=0.05)
        assert first is not None
        assert queue.claim_next(conn, "w2", lease_s=60) is None  # lease still valid
        time.sleep(0.1)
        second = queue.claim_next(conn, "w2", lease_s=60)
        assert second is not None and second.run_id == first.run_id
        assert second.attempts == 2

        assert not queue.heartbeat(conn, first, 60, 50.0, "synthesis")
        assert not queue.finish(conn, first, duration_s=1.0)
        assert queue.heartbeat(conn, second, 60, 40.0, "synthesis")
        assert queue.finish(conn, second, duration_s=2.0)
        assert not queue.finish(conn, second, duration_s=3.0)  # only once
        row = conn.execute(select(Story.status, Story.duration_s, Story.progress)).one()
    assert tuple(row) == ("success", 2.0, 100.0)


def test_heartbeat_records_progress_and_stage(engine: Engine) -> None:
    _enqueue(engine, 1)
    with engine.connect() as conn:
        claim = queue.claim_next(conn, "w", 60)
        assert claim is not None
        assert queue.heartbeat(conn, claim, 60, 42.25, "synthesis")
        row = conn.execute(select(Story.progress, Story.stage, Story.status)).one()
    assert tuple(row) == (42.2, "synthesis", "running")


def test_failed_task_keeps_reason_and_message(engine: Engine) -> None:
    _enqueue(engine, 1)
    with engine.connect() as conn:
        claim = queue.claim_next(conn, "w", 60)
        assert claim is not None
        assert queue.fail(conn, claim, "SOURCE_TOO_LONG", "too long: 3 MB of text")
        row = conn.execute(
            select(Story.status, Story.exception_reason, Story.message)
        ).one()
    assert tuple(row) == ("error", "SOURCE_TOO_LONG", "too long: 3 MB of text")


def test_tasks_of_dead_local_processes_are_requeued_at_once(engine: Engine) -> None:
    _enqueue(engine, 2)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = queue.worker_identity().rsplit(":", 1)[0]
    with engine.connect() as conn:
        dead = queue.claim_next(conn, f"{host}:{gone.pid}", lease_s=600)
        alive = queue.claim_next(conn, queue.worker_identity(), lease_s=600)
        assert dead is not None and alive is not None
        assert queue.release_dead_claims(conn) == 1
        again = queue.claim_next(conn, "w", 60)
        counts = queue.count_by_status(conn)
    assert again is not None and again.run_id == dead.run_id
    assert counts == {
        "setup": 0,
        "queued": 0,
        "running": 2,
        "success": 0,
        "error": 0,
        "timeout": 0,
    }
