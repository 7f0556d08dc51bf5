"""Fixtures: one prepared server shared by the API tests.

``world`` renders three stories (two for account A, one for B) on a server with one
worker, then restarts the server without workers and uploads one more story for A, which
therefore stays PENDING: every run state the tests need, rendered once.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from liveserver import STORY, LiveServer, upload, wait_for_status
from world import MAX_ACTIVE, MAX_UPLOAD_BYTES, World


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Prepare the server (about 15 s) and share it across the API tests."""
    data_dir = tmp_path_factory.mktemp("world")
    env = {
        "TALECAST_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
        "TALECAST_MAX_ACTIVE_STORIES_PER_ACCOUNT": str(MAX_ACTIVE),
    }
    server = LiveServer(data_dir, **env).start()
    key_a, key_b, key_c = (server.create_key(n) for n in ("alice", "bob", "carol"))
    client = httpx.Client(base_url=server.url, timeout=30.0)
    try:
        tasks = [
            upload(client, key_a, STORY, title="First story").json()["task_id"],
            upload(client, key_a, STORY.replace("Mary", "Anne")).json()["task_id"],
            upload(client, key_b, STORY.replace("Tom", "Sam")).json()["task_id"],
        ]
        keys = [key_a, key_a, key_b]
        finals = [
            wait_for_status(client, t, k) for t, k in zip(tasks, keys, strict=True)
        ]
        assert all(f["status"] == "SUCCESS" for f in finals), finals
        runs = [int(str(f["run_id"])) for f in finals]
        server.stop()

        server = LiveServer(data_dir, TALECAST_WORKERS="0", **env)
        server.start()
        client.base_url = httpx.URL(server.url)
        pending_task = upload(client, key_a, "A short tale.\n").json()["task_id"]
        pending_run = server.run_id_of(pending_task)
        yield World(
            server,
            client,
            key_a,
            key_b,
            key_c,
            runs[:2],
            runs[2],
            tasks[0],
            tasks[2],
            pending_run,
            pending_task,
        )
    finally:
        client.close()
        server.stop()
