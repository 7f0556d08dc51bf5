"""Worker processes for the embedded queue, started and watched by the web server.

Workers are spawned (not forked) so they never inherit the web server's event loop or
database connections. A monitor thread replaces workers that die and requeues the tasks
they held at once, instead of waiting for the lease to run out.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
from multiprocessing.process import BaseProcess

from talecast.config import Settings
from talecast.db import make_engine
from talecast.jobs import queue
from talecast.jobs.worker import run_worker

logger = logging.getLogger(__name__)

MONITOR_PERIOD_S = 2.0
STOP_GRACE_S = 5.0


class WorkerPool:
    """``settings.workers`` render processes, kept at that number until stopped."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._ctx = mp.get_context("spawn")
        self._halt = threading.Event()
        self._procs: list[BaseProcess] = []
        self._monitor: threading.Thread | None = None

    def start(self) -> None:
        """Requeue tasks of dead workers, then start the processes and the monitor."""
        engine = make_engine(self.settings.db_url)
        with engine.connect() as conn:
            queue.release_dead_claims(conn)
        engine.dispose()

        self._procs = [self._spawn(i) for i in range(self.settings.workers)]
        self._monitor = threading.Thread(
            target=self._watch, name="talecast-worker-monitor", daemon=True
        )
        self._monitor.start()
        logger.info("worker pool: %d worker(s) started", len(self._procs))

    def alive(self) -> int:
        """How many worker processes are running."""
        return sum(1 for proc in self._procs if proc.is_alive())

    def stop(self) -> None:
        """Stop the workers and requeue the stories they were rendering."""
        self._halt.set()
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self._procs:
            proc.join(STOP_GRACE_S)
            if proc.is_alive():
                proc.kill()
                proc.join()
        engine = make_engine(self.settings.db_url)
        with engine.connect() as conn:
            queue.release_dead_claims(conn)
        engine.dispose()
        logger.info("worker pool: stopped")

    def _spawn(self, index: int) -> BaseProcess:
        proc = self._ctx.Process(
            target=run_worker,
            args=(self.settings, os.getpid()),
            name=f"talecast-worker-{index}",
            daemon=True,
        )
        proc.start()
        return proc

    def _watch(self) -> None:
        engine = make_engine(self.settings.db_url)
        while not self._halt.wait(MONITOR_PERIOD_S):
            dead = [i for i, proc in enumerate(self._procs) if not proc.is_alive()]
            if not dead or self._halt.is_set():
                continue
            for i in dead:
                logger.warning(
                    "worker pool: worker %s exited with %s; replacing it",
                    self._procs[i].pid,
                    self._procs[i].exitcode,
                )
                self._procs[i].join()
            with engine.connect() as conn:
                queue.release_dead_claims(conn)
            for i in dead:
                self._procs[i] = self._spawn(i)
        engine.dispose()
