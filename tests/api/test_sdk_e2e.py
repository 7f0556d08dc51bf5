"""The official camb-sdk drives a real Talecast server end to end."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
import soundfile as sf
from camb import CambAI
from liveserver import STORY, LiveServer


def _poll(client: CambAI, task_id: str, timeout_s: float = 90.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.story.get_story_status(task_id)
        if status.status != "PENDING":
            return status
        time.sleep(0.3)
    raise TimeoutError(task_id)


def test_camb_sdk_creates_polls_and_downloads_a_story(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "data").start()
    try:
        key = server.create_key("sdk")
        client = CambAI(api_key=key, base_url=server.api, timeout=60)
        story_file = tmp_path / "rain.txt"
        story_file.write_text(STORY, encoding="utf-8")

        with story_file.open("rb") as fh:
            created = client.story.create_story(
                file=fh, source_language=1, title="Rainy night", narrator_voice_id=1
            )
        second = client.story.create_story(
            file=STORY.replace("Tom", "Will").encode(), source_language=1
        )
        first_status = _poll(client, created.task_id)
        second_status = _poll(client, second.task_id)
        assert first_status.status == "SUCCESS", first_status
        assert second_status.status == "SUCCESS", second_status

        info = client.story.get_story_run_info(
            first_status.run_id, include_transcript=True
        )
        transcript = info["transcript"]
        assert {item["speaker"] for item in transcript} >= {"Narrator", "Mary", "Tom"}
        assert [i["start"] for i in transcript] == sorted(
            i["start"] for i in transcript
        )

        bulk = client.story.get_stories_runs_results(
            run_ids=[second_status.run_id, first_status.run_id]
        )
        assert list(bulk) == [str(second_status.run_id), str(first_status.run_id)]
        assert bulk[str(first_status.run_id)]["transcript"] == transcript

        audio = httpx.get(info["audio_url"], timeout=30)
        dialogue = httpx.get(info["dialogue_url"], timeout=30)
        assert audio.headers["content-type"] == "audio/flac"
        assert int(audio.headers["content-length"]) == len(audio.content)
        narration, rate = sf.read(io.BytesIO(audio.content))
        dialogue_only, dialogue_rate = sf.read(io.BytesIO(dialogue.content))
        assert sf.info(io.BytesIO(audio.content)).format == "FLAC"
        assert len(narration) == len(dialogue_only) and rate == dialogue_rate
        duration_s = len(narration) / rate
        assert transcript[-1]["end"] <= duration_s + 0.01
        assert duration_s - transcript[-1]["end"] < 2.0
    finally:
        server.stop()


def test_camb_sdk_sees_a_story_past_its_time_limit_as_timeout(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "data", TALECAST_RENDER_TIMEOUT_S="0.01").start()
    try:
        key = server.create_key("sdk")
        client = CambAI(api_key=key, base_url=server.api, timeout=60)
        created = client.story.create_story(file=STORY.encode(), source_language=1)
        status = _poll(client, created.task_id)
        assert status.status == "TIMEOUT", status
        assert status.exception_reason == "RENDER_TIME_LIMIT"
        assert "TALECAST_RENDER_TIMEOUT_S" in (status.message or "")
        assert status.run_id is None

        raw = httpx.get(
            f"{server.api}/story/{created.task_id}", headers={"x-api-key": key}
        ).json()
        run_id = server.run_id_of(created.task_id)
        result = httpx.get(
            f"{server.api}/story-result/{run_id}", headers={"x-api-key": key}
        )
        assert raw["status"] == "TIMEOUT"
        assert result.status_code == 400 and "TIMEOUT" in result.text, result.text
    finally:
        server.stop()
