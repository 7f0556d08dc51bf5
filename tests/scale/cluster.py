"""A scaled-out Talecast on loopback: the API, Celery workers, Redis, PostgreSQL, S3.

The servers themselves (redis-server, PostgreSQL, moto) are started by
``scripts/services.sh``, which exports their URLs as ``TALECAST_TEST_*`` variables; this
module starts Talecast's own processes against them, each with its own data folder, so
nothing but the broker, the database and the bucket is shared.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from liveserver import LiveServer, free_port  # noqa: E402


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server of its own on a free loopback port; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def scale_env_or_none() -> dict[str, str] | None:
    """Broker, database and S3 settings for a fresh database and bucket, or None."""
    redis_url = os.environ.get("TALECAST_TEST_REDIS_URL")
    db_url = os.environ.get("TALECAST_TEST_DATABASE_URL")
    s3_url = os.environ.get("TALECAST_TEST_S3_ENDPOINT_URL")
    if not (redis_url and db_url and s3_url):
        return None
    name = f"tc_{uuid.uuid4().hex[:10]}"
    _create_database(db_url, name)
    return {
        "TALECAST_QUEUE": "celery",
        "TALECAST_BROKER_URL": redis_url,
        "TALECAST_DATABASE_URL": db_url.rsplit("/", 1)[0] + "/" + name,
        "TALECAST_STORAGE": "s3",
        "TALECAST_S3_BUCKET": name.replace("_", "-"),
        "TALECAST_S3_ENDPOINT_URL": s3_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def _create_database(db_url: str, name: str) -> None:
    import psycopg

    conninfo = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


class Worker:
    """``talecast worker`` in its own session (so a kill takes its pool children)."""

    def __init__(self, data_dir: Path, env: dict[str, str], name: str) -> None:
        self.data_dir = data_dir / name
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / "worker.log"
        full_env = {
            **os.environ,
            "TALECAST_DATA_DIR": str(self.data_dir),
            "TALECAST_VOICE_PROFILE": "fast",
            "TALECAST_LOG_LEVEL": "INFO",
            **env,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "talecast.cli", "worker", "--concurrency", "1"],
            env=full_env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            log = self.log()
            # Celery is ready before its pool process has loaded the engines.
            if "ready." in log and "speech engines loaded" in log:
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def part_ids(self, event: str) -> set[str]:
        """Celery ids of story parts this worker logged as ``received`` (or
        ``succeeded``)."""
        found = set()
        for line in self.log().splitlines():
            if "Task talecast.part[" in line and event in line:
                found.add(line.split("Task talecast.part[", 1)[1].split("]", 1)[0])
        return found

    def parts_succeeded(self) -> int:
        """How many story parts this worker finished, from its log."""
        return sum(
            1
            for line in self.log().splitlines()
            if "Task talecast.part[" in line and "succeeded" in line
        )


class Cluster:
    """The API server (no embedded workers) plus ``workers`` Celery workers."""

    def __init__(self, data_dir: Path, env: dict[str, str], workers: int = 2) -> None:
        self.env = env
        self.data_dir = data_dir
        self.server = LiveServer(data_dir / "api", **env)
        self.workers: list[Worker] = []
        self.count = workers

    def start(self) -> Cluster:
        self.server.start()
        self.workers = [
            Worker(self.data_dir, self.env, f"worker{i}") for i in range(self.count)
        ]
        for worker in self.workers:
            worker.wait_ready()
        return self

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.server.stop()

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.server.url, timeout=30.0, follow_redirects=True
        )


def chaptered_story(
    chapters: int = 6, exchanges: int = 5, distinct: bool = False
) -> str:
    """A story with several chapters of dialogue between three characters.

    Its lines repeat from chapter to chapter, so a worker's line cache speaks most of
    them only once; with ``distinct``, every line names numbers of its own, so each
    line is synthesized (parts then take seconds however fast the machine)."""
    names = [("Ada", "she"), ("Ben", "he"), ("Cora", "she")]
    out = []
    for c in range(1, chapters + 1):
        out.append(f"CHAPTER {c}\n")
        out.append(f"The lamps were lit early on the evening of day {c}.\n")
        for e in range(exchanges):
            a, _ = names[e % 3]
            b, _ = names[(e + 1) % 3]
            n = 1000 * c + 17 * e if distinct else e + c
            letter = f"letter {n + 3}" if distinct else "letter"
            out.append(f'"Have you seen the {letter}, {b}?" asked {a}.\n')
            out.append(f'"Not since morning number {n}," said {b}.\n')
        out.append("Nobody spoke after that, and the fire burned low.\n")
    return "\n".join(out)
