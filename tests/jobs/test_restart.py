"""A server killed mid-render finishes every story exactly once after a restart."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import time
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf
from liveserver import LiveServer, upload, wait_for_status

from talecast.jobs.worker import transcript_json
from talecast.pipeline.reading import read_story
from talecast.pipeline.render import RenderOptions, render_story

NAMES = (("Mary", "Tom"), ("Anne", "Will"), ("Rose", "Jack"))


def _story(index: int, paragraphs: int = 30) -> str:
    first, second = NAMES[index]
    lines = [f"Chapter one of tale {index + 1}.\n"]
    for i in range(paragraphs):
        lines.append(
            f'"Is the lantern still burning, {second}?" asked {first}, '
            f"counting step {i + 1} of the stair.\n"
        )
        lines.append(
            f'"It is, and it will burn till morning," said {second} at step {i + 1}.\n'
        )
    return "\n".join(lines)


def _rows(data_dir: Path) -> list[tuple[int, str, float, int, str | None]]:
    with sqlite3.connect(data_dir / "talecast.db") as conn:
        return conn.execute(
            "SELECT run_id, status, progress, attempts, claimed_by FROM stories "
            "ORDER BY run_id"
        ).fetchall()


def _tail(data_dir: Path, lines: int = 40) -> str:
    log = (data_dir / "server.log").read_text(errors="replace").splitlines()
    return "\n".join(log[-lines:])


def _wait_mid_render(data_dir: Path, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        first = _rows(data_dir)[0]
        if first[1] == "running" and first[2] >= 15.0:
            assert first[4] is not None
            return first[4]
        assert first[1] in ("queued", "running"), (first, _tail(data_dir))
        time.sleep(0.05)
    raise TimeoutError(f"the first story never got 15 % of the way\n{_tail(data_dir)}")


def _wait_gone(pid: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"worker {pid} outlived its killed server")


def test_killed_server_finishes_every_story_once_after_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = LiveServer(data_dir).start()
    key = server.create_key("restart")
    client = httpx.Client(base_url=server.url, timeout=30)
    texts = [_story(i) for i in range(3)]
    tasks = [upload(client, key, text).json()["task_id"] for text in texts]

    worker = _wait_mid_render(data_dir)
    server.kill()
    _wait_gone(int(worker.rsplit(":", 1)[1]))
    rows = _rows(data_dir)
    assert [row[1] for row in rows] == ["running", "queued", "queued"], rows

    server = LiveServer(data_dir)
    server.port = int(client.base_url.port or 0)
    server.start()
    try:
        finals = [wait_for_status(client, task, key, timeout_s=120) for task in tasks]
        assert [f["status"] for f in finals] == ["SUCCESS"] * 3, (
            finals,
            _tail(data_dir),
        )
        rows = _rows(data_dir)
        assert [row[3] for row in rows] == [2, 1, 1], (rows, _tail(data_dir))

        log = server.log()
        for final in finals:
            finished = log.count(f"story run {final['run_id']}: finished")
            assert finished == 1, (final, _tail(data_dir))
        resumed = re.findall(
            r"render: (\d+) lines \((\d+) synthesized, (\d+) cached\)",
            log.split("server: listening")[-1],
        )[0]
        assert int(resumed[2]) > 0, "the restarted render did not reuse the line cache"

        _assert_same_as_uninterrupted(
            client, key, int(str(finals[0]["run_id"])), texts[0], tmp_path / "reference"
        )
    finally:
        client.close()
        server.stop()


def _assert_same_as_uninterrupted(
    client: httpx.Client, key: str, run_id: int, text: str, out_dir: Path
) -> None:
    reference = render_story(
        read_story(text.encode()),
        out_dir / "out",
        RenderOptions(profile="fast"),
        cache_dir=out_dir / "cache",
    )
    info = client.get(
        f"/apis/story-result/{run_id}?include_transcript=true",
        headers={"x-api-key": key},
    ).json()
    assert info["transcript"] == __import__("json").loads(
        transcript_json(reference.transcript)
    )
    for url, path in (
        (info["audio_url"], reference.narration_path),
        (info["dialogue_url"], reference.dialogue_path),
    ):
        served, _ = sf.read(io.BytesIO(httpx.get(url).content), dtype="int16")
        expected, _ = sf.read(path, dtype="int16")
        assert np.array_equal(served, expected)


def test_stopped_server_requeues_the_story_it_was_rendering(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = LiveServer(data_dir).start()
    try:
        key = server.create_key("stop")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            upload(client, key, _story(0))
        _wait_mid_render(data_dir)
    finally:
        server.stop()
    run_id, status, _, attempts, _ = _rows(data_dir)[0]
    assert (status, attempts) == ("queued", 1)
    assert "worker pool: stopped" in server.log()
