"""The embedded task queue: the ``stories`` table itself.

A queued story is a row with status ``queued``. A worker claims one with a single
conditional UPDATE that sets a fresh claim token and a lease; it keeps the lease alive
with heartbeats and ends the task with an UPDATE that only succeeds while it still holds
the token. A worker that dies leaves a lease that runs out (or, on this host, a dead
pid), so another worker re-claims the task; the token check makes each task finish
exactly once.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, and_, func, or_, select, update

from talecast.db.models import Story, StoryStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # claims per task before it is ended as failed

QUEUED = StoryStatus.QUEUED.value
RUNNING = StoryStatus.RUNNING.value
SUCCESS = StoryStatus.SUCCESS.value
ERROR = StoryStatus.ERROR.value
TIMEOUT = StoryStatus.TIMEOUT.value


class TaskQueue(Protocol):
    """Hands a stored story to the render workers."""

    def submit(self, task_id: str) -> None:
        """Make the task with this id eligible for a worker."""

    def warm(self) -> None:
        """Open now what the first submit would open (a broker connection)."""


class LocalQueue:
    """The default queue: rows in the database that worker processes poll."""

    def submit(self, task_id: str) -> None:
        """Nothing to send: the row was inserted as queued; workers find it."""
        logger.debug("queue: task %s is waiting for a worker", task_id)

    def check(self) -> None:
        """The local queue is the database; its health is the database's."""

    def warm(self) -> None:
        """Nothing to open."""


def make_queue(settings: Any) -> TaskQueue:
    """The queue the settings ask for: ``local`` (default) or ``celery``."""
    if settings.queue == "celery":
        from talecast.jobs.celery_app import CeleryQueue

        return CeleryQueue(settings)
    return LocalQueue()


@dataclass(frozen=True)
class Claim:
    """A task a worker holds, identified by its row and the token of this claim."""

    run_id: int
    task_id: str
    token: str
    attempts: int
    started_at: float = 0.0  # wall clock when the task's first claim began rendering


def worker_identity() -> str:
    """``host:pid`` of this process, recorded on the rows it claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _claimable(now: float):  # type: ignore[no-untyped-def]
    return or_(
        Story.status == QUEUED,
        and_(Story.status == RUNNING, Story.lease_until < now),
    )


def claim_next(conn: Connection, worker_id: str, lease_s: float) -> Claim | None:
    """Atomically claim the oldest claimable task, or return None if there is none."""
    now = time.time()
    token = secrets.token_hex(16)
    # On PostgreSQL, SKIP LOCKED lets concurrent workers pass over a row another is
    # claiming instead of queueing behind it; SQLite ignores the clause (one writer).
    oldest = (
        select(Story.run_id)
        .where(_claimable(now))
        .order_by(Story.created_at, Story.run_id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = conn.execute(
        update(Story)
        .where(Story.run_id == oldest, _claimable(now))
        .values(
            status=RUNNING,
            claim_token=token,
            claimed_by=worker_id,
            lease_until=now + lease_s,
            attempts=Story.attempts + 1,
            started_at=func.coalesce(Story.started_at, now),
            stage="starting",
        )
        .returning(Story.run_id, Story.task_id, Story.attempts, Story.started_at)
    ).first()
    conn.commit()
    if row is None:
        return None
    return Claim(
        run_id=row.run_id,
        task_id=row.task_id,
        token=token,
        attempts=row.attempts,
        started_at=float(row.started_at or now),
    )


def heartbeat(
    conn: Connection, claim: Claim, lease_s: float, progress: float, stage: str
) -> bool:
    """Extend the lease and record progress (0-100); False if the claim was lost."""
    result = conn.execute(
        update(Story)
        .where(Story.run_id == claim.run_id, Story.claim_token == claim.token)
        .values(
            lease_until=time.time() + lease_s,
            progress=round(min(max(progress, 0.0), 99.9), 1),
            stage=stage[:64],
        )
    )
    conn.commit()
    return result.rowcount == 1


def finish(conn: Connection, claim: Claim, **result: object) -> bool:
    """End the task as SUCCESS with the given result columns; False if not held."""
    return _end(conn, claim, SUCCESS, progress=100.0, stage="done", **result)


def fail(conn: Connection, claim: Claim, reason: str, message: str) -> bool:
    """End the task as ERROR with a machine reason and a human message."""
    return _end(
        conn, claim, ERROR, stage="failed", exception_reason=reason, message=message
    )


def time_out(conn: Connection, claim: Claim, reason: str, message: str) -> bool:
    """End the task as TIMEOUT (too long, or stalled) with a reason and a message."""
    return _end(
        conn,
        claim,
        TIMEOUT,
        stage="timed out",
        exception_reason=reason,
        message=message,
    )


def _end(conn: Connection, claim: Claim, status: str, **values: object) -> bool:
    result = conn.execute(
        update(Story)
        .where(Story.run_id == claim.run_id, Story.claim_token == claim.token)
        .values(
            status=status,
            finished_at=time.time(),
            claim_token=None,
            lease_until=None,
            **values,
        )
    )
    conn.commit()
    return result.rowcount == 1


def release_dead_claims(conn: Connection) -> int:
    """Requeue running tasks claimed by processes of this host that no longer exist.

    Called at server start, so a killed server's tasks resume at once instead of after
    their lease runs out. Returns how many tasks were requeued.
    """
    host = socket.gethostname()
    rows = conn.execute(
        select(Story.run_id, Story.claimed_by).where(Story.status == RUNNING)
    ).all()
    dead = [
        row.run_id
        for row in rows
        if row.claimed_by
        and row.claimed_by.rsplit(":", 1)[0] == host
        and not _pid_alive(int(row.claimed_by.rsplit(":", 1)[1]))
    ]
    if dead:
        conn.execute(
            update(Story)
            .where(Story.run_id.in_(dead), Story.status == RUNNING)
            .values(status=QUEUED, claim_token=None, lease_until=None, stage="requeued")
        )
        conn.commit()
        logger.info("queue: requeued %d task(s) of stopped workers", len(dead))
    return len(dead)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def count_by_status(conn: Connection) -> dict[str, int]:
    """Number of stories in each status (every status present, zero included)."""
    counts = {status.value: 0 for status in StoryStatus}
    rows = conn.execute(select(Story.status, func.count()).group_by(Story.status))
    for status, count in rows:
        counts[status] = count
    return counts
