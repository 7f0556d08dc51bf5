"""Health of database, queue and storage, in /health and in /metrics."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from talecast.api.app import create_app
from talecast.config import get_settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _up(metrics_text: str) -> dict[str, tuple[str, float]]:
    """component -> (kind, value) from the talecast_up lines."""
    found = {}
    for line in metrics_text.splitlines():
        if line.startswith("talecast_up{"):
            labels, value = line.rsplit(" ", 1)
            parts = dict(
                item.split("=", 1)
                for item in labels[len("talecast_up{") : -1].split(",")
            )
            found[parts["component"].strip('"')] = (
                parts["kind"].strip('"'),
                float(value),
            )
    return found


def test_embedded_server_reports_every_component_up(tmp_path) -> None:
    app = create_app(get_settings(data_dir=tmp_path, env="development"))
    with TestClient(app) as client:
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.json()["db"] == {"status": "ok", "kind": "sqlite"}
        assert _up(client.get("/metrics").text) == {
            "db": ("sqlite", 1.0),
            "queue": ("local", 1.0),
            "storage": ("local", 1.0),
        }


def test_unreachable_broker_and_storage_are_named_in_health_and_metrics(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = get_settings(
        data_dir=tmp_path,
        env="development",
        queue="celery",
        broker_url=f"redis://127.0.0.1:{_closed_port()}/0",
        storage="s3",
        s3_bucket="talecast-missing",
        s3_endpoint_url=f"http://127.0.0.1:{_closed_port()}",
    )
    app = create_app(settings)
    with TestClient(app) as client:
        health = client.get("/health")
        assert health.status_code == 503
        report = health.json()
        assert report["status"] == "error" and report["db"]["status"] == "ok"
        assert (
            report["queue"]["status"] == "error" and report["queue"]["broker"] != "ok"
        )
        assert report["storage"]["status"] == "error"
        assert report["storage"]["kind"] == "s3" and report["storage"]["error"]
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert _up(metrics.text) == {
            "db": ("sqlite", 1.0),
            "queue": ("celery", 0.0),
            "storage": ("s3", 0.0),
        }
        # A story cannot be stored: 503 naming the storage, not a bare 500.
        from talecast.accounts import create_key

        key = create_key("health", settings)
        upload = client.post(
            "/apis/story",
            headers={"x-api-key": key},
            data={"source_language": "1"},
            files={"file": ("story.txt", b"A short tale.\n", "text/plain")},
        )
        assert upload.status_code == 503, upload.text
        assert "S3" in upload.json()["detail"]
