"""A real Talecast server on loopback for tests: start, stop, kill, read its log."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from talecast.accounts import create_key
from talecast.config import get_settings

STORY = (
    "The rain fell on the old house at the end of the lane.\n\n"
    '"Who is there?" asked Mary, holding the lamp high.\n\n'
    '"Only me," said Tom. "Open the door, it is cold."\n\n'
    "Mary opened it and smiled at her brother.\n"
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``python -m talecast.api.server`` in a subprocess with its own data folder."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = Path(data_dir)
        self.env = {
            "TALECAST_DATA_DIR": str(self.data_dir),
            "TALECAST_VOICE_PROFILE": "fast",
            "TALECAST_LOG_LEVEL": "INFO",
            **env,
        }
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir / "server.log"

    @property
    def url(self) -> str:
        """Base URL without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        """The base URL to give camb-sdk."""
        return self.url + "/apis"

    def settings_env(self) -> dict[str, str]:
        """This server's settings as keyword arguments for get_settings."""
        return {
            k.removeprefix("TALECAST_").lower(): v
            for k, v in self.env.items()
            if k != "TALECAST_LOG_LEVEL"
        }

    def create_key(self, name: str) -> str:
        """A new account's API key in this server's database."""
        return create_key(name, settings=get_settings(**self.settings_env()))

    def run_id_of(self, task_id: str) -> int:
        """The run id of a story task, read from this server's database."""
        from sqlalchemy import select

        from talecast.db import Story, make_engine

        engine = make_engine(get_settings(**self.settings_env()).db_url)
        try:
            with engine.connect() as conn:
                return int(
                    conn.execute(
                        select(Story.run_id).where(Story.task_id == task_id)
                    ).scalar_one()
                )
        finally:
            engine.dispose()

    def start(self, timeout_s: float = 30.0) -> LiveServer:
        """Start the process and wait until /health answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env}
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "talecast.api.server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """SIGKILL the web process only (its workers must notice by themselves)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def log(self) -> str:
        """Everything the server and its workers logged so far."""
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )


def wait_for_status(
    client: httpx.Client, task_id: str, key: str, timeout_s: float = 90.0
) -> dict[str, object]:
    """Poll a task until it is no longer PENDING; return its last status body."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = client.get(f"/apis/story/{task_id}", headers={"x-api-key": key}).json()
        if body["status"] != "PENDING":
            return dict(body)
        time.sleep(0.2)
    raise TimeoutError(f"task {task_id} still PENDING after {timeout_s} s")


def upload(
    client: httpx.Client, key: str, text: str = STORY, **fields: object
) -> httpx.Response:
    """POST /apis/story with a text file and the given form fields."""
    data = {"source_language": "1", **{k: str(v) for k, v in fields.items()}}
    return client.post(
        "/apis/story",
        headers={"x-api-key": key},
        data=data,
        files={"file": ("story.txt", text.encode("utf-8"), "text/plain")},
    )


class Receiver:
    """A real HTTP server on localhost that records what is POSTed to it."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: queue.Queue[tuple[str, dict[str, str], bytes]] = queue.Queue()
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                failing = receiver.fail_first > 0
                receiver.fail_first -= 1
                self.send_response(503 if failing else 204)
                self.end_headers()
                receiver.calls.put((self.path, dict(self.headers), body))

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next_call(self, timeout_s: float = 30.0) -> tuple[str, dict[str, str], bytes]:
        return self.calls.get(timeout=timeout_s)
