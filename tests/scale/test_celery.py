"""Scaled out: the API enqueues to Celery on Redis, two workers render chapters in
parallel, PostgreSQL holds the state and S3 (moto) the files."""

import io
import json
import time

import httpx
import numpy as np
import pytest
import soundfile as sf
from camb import CambAI
from cluster import Cluster, chaptered_story
from liveserver import Receiver

from talecast.pipeline.reading import read_story
from talecast.pipeline.render import RenderOptions, render_story


def _wait(client: httpx.Client, key: str, task_id: str, timeout_s: float = 240) -> dict:
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        body = client.get(f"/apis/story/{task_id}", headers={"x-api-key": key}).json()
        seen.append(body.get("progress"))
        if body["status"] != "PENDING":
            body["progress_seen"] = seen
            return body
        time.sleep(0.25)
    raise TimeoutError(f"{task_id} still pending; progress seen {seen[-5:]}")


def _flac(client: httpx.Client, url: str) -> np.ndarray:
    response = client.get(url)
    assert response.status_code == 200, response.text
    audio, rate = sf.read(io.BytesIO(response.content), dtype="int16")
    assert rate == 24000
    return audio


def test_sdk_flow_against_celery_postgres_and_s3_with_two_workers(scale_env, tmp_path):
    cluster = Cluster(tmp_path, scale_env, workers=2).start()
    try:
        key = cluster.server.create_key("scale")
        sdk = CambAI(api_key=key, base_url=cluster.server.api, timeout=60)
        story = chaptered_story(chapters=6).encode()
        runs = []
        for title in ("First", "Second"):
            task = sdk.story.create_story(file=story, source_language=1, title=title)
            with cluster.client() as client:
                status = _wait(client, key, task.task_id)
            assert status["status"] == "SUCCESS", status
            progress = [p for p in status["progress_seen"] if p is not None]
            assert progress == sorted(progress)
            runs.append(status["run_id"])

        info = sdk.story.get_story_run_info(runs[0], include_transcript=True)
        bulk = sdk.story.get_stories_runs_results(run_ids=runs)
        assert list(bulk) == [str(r) for r in runs]
        with cluster.client() as client:
            narration = _flac(client, info["audio_url"])
            dialogue = _flac(client, info["dialogue_url"])
        assert narration.size == dialogue.size
        end = info["transcript"][-1]["end"]
        assert end <= narration.size / 24000 < end + 2.0
        assert {"Ada", "Ben", "Cora"} <= {t["speaker"] for t in info["transcript"]}
        # Both workers rendered parts of the stories.
        assert all(w.parts_succeeded() > 0 for w in cluster.workers), [
            w.parts_succeeded() for w in cluster.workers
        ]
        with cluster.client() as client:
            files = client.get(
                f"/apis/story-result/{runs[0]}/files", headers={"x-api-key": key}
            ).json()["files"]
            vtt = next(f for f in files if f["name"] == "transcript.vtt")
            assert "<v Ada>" in client.get(vtt["url"]).text
            # A correction re-renders through the same parts, reading the stored script.
            script = client.get(
                next(f["url"] for f in files if f["name"] == "script.json")
            ).json()
            line = next(i for i in script if i["speaker"] == "Ada")
            fixed = client.post(
                f"/apis/story-result/{runs[0]}/corrections",
                headers={"x-api-key": key},
                json={
                    "speakers": [{"start_char": line["start_char"], "speaker": "Dov"}]
                },
            )
            assert fixed.status_code == 200, fixed.text
            status = _wait(client, key, fixed.json()["task_id"])
            assert status["status"] == "SUCCESS", status
        corrected = sdk.story.get_story_run_info(
            status["run_id"], include_transcript=True
        )
        # A story with a callback URL is announced when the Celery assembly ends it.
        receiver = Receiver()
        with cluster.client() as client:
            hooked = client.post(
                "/apis/story",
                headers={"x-api-key": key},
                data={"source_language": "1", "callback_url": receiver.url},
                files={"file": ("s.txt", chaptered_story(chapters=2), "text/plain")},
            )
            assert hooked.status_code == 200, hooked.text
            _, _, body = receiver.next_call(timeout_s=120)
            done = _wait(client, key, hooked.json()["task_id"])
        assert json.loads(body)["run_id"] == done["run_id"]
        changed = [
            (a["text"], b["speaker"])
            for a, b in zip(info["transcript"], corrected["transcript"], strict=True)
            if a["speaker"] != b["speaker"]
        ]
        assert changed == [(line["text"], "Dov")]
        health = httpx.get(cluster.server.url + "/health").json()
        assert health["queue"]["broker"] == "ok" and health["storage"]["kind"] == "s3"
        assert health["db"] == {"status": "ok", "kind": "postgresql"}
        metrics = httpx.get(cluster.server.url + "/metrics").text
        for component, kind in (
            ("db", "postgresql"),
            ("queue", "celery"),
            ("storage", "s3"),
        ):
            assert (
                f'talecast_up{{component="{component}",kind="{kind}"}} 1.0' in metrics
            )
    finally:
        cluster.stop()


def test_story_survives_a_worker_killed_mid_render_with_identical_output(
    scale_env, tmp_path
):
    env = {**scale_env, "TALECAST_CELERY_VISIBILITY_TIMEOUT_S": "8"}
    cluster = Cluster(tmp_path, env, workers=2).start()
    story = chaptered_story(chapters=8, exchanges=6)
    try:
        key = cluster.server.create_key("kill")
        with cluster.client() as client:
            created = client.post(
                "/apis/story",
                headers={"x-api-key": key},
                data={"source_language": "1"},
                files={"file": ("story.txt", story.encode(), "text/plain")},
            ).json()
            victim = cluster.workers[0]
            deadline = time.monotonic() + 120
            while "Task talecast.part[" not in victim.log():
                assert time.monotonic() < deadline, victim.log()
                time.sleep(0.05)
            victim.kill()
            status = _wait(client, key, created["task_id"])
            assert status["status"] == "SUCCESS", status
            # The part the victim held when it died was delivered again and finished
            # by the other worker.
            lost = victim.part_ids("received") - victim.part_ids("succeeded")
            assert lost and lost <= cluster.workers[1].part_ids("succeeded"), lost
            result = client.get(
                f"/apis/story-result/{status['run_id']}",
                params={"include_transcript": "true"},
                headers={"x-api-key": key},
            ).json()
            narration = _flac(client, result["audio_url"])
    finally:
        cluster.stop()

    reference = render_story(
        read_story(story.encode()),
        tmp_path / "reference",
        RenderOptions(profile="fast"),
        cache_dir=tmp_path / "cache",
    )
    expected, _ = sf.read(reference.narration_path, dtype="int16")
    assert np.array_equal(narration, expected)
    assert result["transcript"] == [
        {**t, "start": round(t["start"], 2), "end": round(t["end"], 2)}
        for t in reference.transcript
    ]


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        # Every part of this story takes seconds: past a 3-second render limit, the
        # next part to start ends the story.
        ("TALECAST_RENDER_TIMEOUT_S", "3", "RENDER_TIME_LIMIT"),
        # A 3000-character part of lines never spoken before takes seconds (1.6 s on
        # a fast run here), three times this limit: Celery's soft time limit
        # interrupts the step as it would a hung engine.
        ("TALECAST_STALL_TIMEOUT_S", "0.5", "RENDER_STALLED"),
    ],
)
def test_story_past_a_time_limit_ends_as_timeout_on_celery(
    scale_env, tmp_path, setting, value, reason
):
    cluster = Cluster(tmp_path, {**scale_env, setting: value}, workers=1).start()
    try:
        key = cluster.server.create_key("limits")
        with cluster.client() as client:
            created = client.post(
                "/apis/story",
                headers={"x-api-key": key},
                data={"source_language": "1"},
                files={
                    "file": (
                        "s.txt",
                        chaptered_story(6, 60, distinct=True).encode(),
                        "text/plain",
                    )
                },
            ).json()
            status = _wait(client, key, created["task_id"], timeout_s=120)
        assert status["status"] == "TIMEOUT", status
        assert status["exception_reason"] == reason
        assert setting in status["message"]
        assert cluster.workers[0].proc.poll() is None  # the worker lives on
        # The chord's error callback ran too (the story had ended already) and did
        # not fail.
        assert "Errback" not in cluster.workers[0].log()
    finally:
        cluster.stop()
