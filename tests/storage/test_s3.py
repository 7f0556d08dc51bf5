"""S3 storage against a real S3-compatible server (moto in server mode) on loopback."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from talecast.errors import StorageError

pytest.importorskip("boto3")
pytest.importorskip("moto")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint():
    url = os.environ.get("TALECAST_TEST_S3_ENDPOINT_URL")
    if url:
        yield url
        return
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except Exception:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def storage(endpoint, monkeypatch):
    from talecast.storage.s3 import S3Storage

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    bucket = f"talecast-test-{time.time_ns()}"
    store = S3Storage(bucket, endpoint)
    store.ensure_bucket()
    return store


def test_s3_storage_round_trips_bytes_and_files(storage, tmp_path):
    storage.put_bytes("uploads/abc", b"Once upon a time")
    assert storage.open("uploads/abc").read() == b"Once upon a time"
    assert storage.size("uploads/abc") == 16
    big = tmp_path / "narration.flac"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    storage.put_file("runs/1/narration.flac", big)
    assert storage.open("runs/1/narration.flac").read() == big.read_bytes()
    assert storage.local_path("runs/1/narration.flac") is None
    storage.check()


def test_s3_storage_deletes_a_key_and_ignores_a_missing_one(storage):
    storage.put_bytes("runs/2/parts/0000000.json", b"{}")
    storage.delete("runs/2/parts/0000000.json")
    with pytest.raises(StorageError, match="no stored object"):
        storage.size("runs/2/parts/0000000.json")
    storage.delete("runs/2/parts/0000000.json")


def test_s3_storage_missing_key_and_bad_key_are_storage_errors(storage):
    with pytest.raises(StorageError, match="no stored object"):
        storage.open("runs/404/narration.flac")
    with pytest.raises(StorageError, match="no stored object"):
        storage.size("runs/404/narration.flac")
    with pytest.raises(StorageError, match="relative path"):
        storage.put_bytes("../escape", b"x")


def test_s3_presigned_url_downloads_the_object_with_its_content_type(storage):
    storage.put_bytes("runs/2/dialogue.flac", b"fLaC-data")
    url = storage.presigned_url("runs/2/dialogue.flac", 86400)
    assert "X-Amz-Signature" in url and "X-Amz-Expires=86400" in url
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"fLaC-data"
        assert resp.headers["Content-Type"] == "audio/flac"


def test_s3_storage_unreachable_endpoint_is_a_clear_error(monkeypatch):
    from talecast.storage.s3 import S3Storage

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    store = S3Storage("nobucket", f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(StorageError, match="failed"):
        store.check()
