"""``GET /story/{task_id}/events``: progress pushed as server-sent events."""

from __future__ import annotations

import json

import httpx
from liveserver import STORY, LiveServer, upload


def _events(response: httpx.Response) -> list[tuple[str, dict[str, object]]]:
    events, name, lines = [], "", []
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            lines.append(line[len("data: ") :])
        elif line == "" and lines:
            events.append((name, json.loads("\n".join(lines))))
            name, lines = "", []
    return events


def test_progress_stream_rises_and_ends_with_the_final_status(tmp_path):
    server = LiveServer(tmp_path).start()
    key, other = server.create_key("listener"), server.create_key("other")
    try:
        with httpx.Client(base_url=server.url, timeout=60.0) as client:
            # Lines that differ (the line cache speaks a repeated line once), so the
            # render takes seconds and the stream sees it rise.
            story = "\n".join(
                f"Chapter {n}\n\n"
                + STORY.replace("lane", f"lane number {n} of {n * 7}")
                for n in range(1, 25)
            )
            task_id = upload(client, key, story).json()["task_id"]
            headers = {"x-api-key": key}
            with client.stream(
                "GET", f"/apis/story/{task_id}/events", headers=headers
            ) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                events = _events(response)
            assert {name for name, _ in events} == {"status"}
            bodies = [body for _, body in events]
            assert all(b["status"] == "PENDING" for b in bodies[:-1])
            progress = [float(str(b["progress"])) for b in bodies]
            assert progress == sorted(progress) and len(bodies) >= 3
            assert bodies[-1]["status"] == "SUCCESS" and bodies[-1]["run_id"]
            polled = client.get(f"/apis/story/{task_id}", headers=headers).json()
            assert polled == bodies[-1]
            # An ended task's stream gives its status once and closes.
            with client.stream(
                "GET", f"/apis/story/{task_id}/events", headers=headers
            ) as again:
                assert [b for _, b in _events(again)] == [polled]
            # Another account's task does not exist for it.
            missing = client.get(
                f"/apis/story/{task_id}/events", headers={"x-api-key": other}
            )
            assert missing.status_code == 404
    finally:
        server.stop()
