"""S3 storage against a real S3-compatible server (moto in server mode) on loopback."""

import io
import os
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from talecast.errors import StorageError
from talecast.pipeline.assembly import assemble
from talecast.pipeline.script import Line
from talecast.storage.s3 import GROWING_PART_BYTES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scale"))
from cluster import moto_server  # noqa: E402
from liveserver import free_port  # noqa: E402

pytest.importorskip("boto3")
pytest.importorskip("moto")


@pytest.fixture(scope="module")
def endpoint():
    url = os.environ.get("TALECAST_TEST_S3_ENDPOINT_URL")
    if url:
        yield url
        return
    with moto_server() as url:
        yield url


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
    store = S3Storage("nobucket", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StorageError, match="failed"):
        store.check()


def _noise_lines(count: int, seconds: float, seed: int = 0) -> list[np.ndarray]:
    """Lines of white noise: FLAC cannot shrink them, so the tracks get long fast."""
    rng = np.random.default_rng(seed)
    size = int(seconds * 24000)
    return [rng.integers(-8000, 8000, size, dtype=np.int16) for _ in range(count)]


def _lines(count: int) -> list[Line]:
    kinds = ["narration", "dialogue"]
    return [
        Line(
            text=f"Line {n}.",
            kind=kinds[n % 2],
            speaker="Narrator" if n % 2 == 0 else "Mara",
            voice_id=1,
            chapter=0,
            pause_before_ms=300,
            start_char=10 * n,
            end_char=10 * n + 8,
        )
        for n in range(count)
    ]


def test_tracks_are_stored_while_they_are_written_byte_for_byte(storage, tmp_path):
    # About 20 MB of narration: part 1 (the header) is sent last, parts 2.. as written.
    clips = _noise_lines(16, 30.0)
    uploads = {
        name: storage.upload_growing(f"runs/7/{name}", tmp_path / name)
        for name in ("narration.flac", "dialogue.flac")
    }
    result = assemble(
        _lines(len(clips)), clips.__getitem__, tmp_path, 24000, [None], None, uploads
    )
    for upload in uploads.values():
        upload.wait()
    for name in uploads:
        stored = storage.open(f"runs/7/{name}").read()
        assert stored == (tmp_path / name).read_bytes()
    narration = storage.open("runs/7/narration.flac").read()
    assert len(narration) > 2 * GROWING_PART_BYTES
    head = storage._client.head_object(
        Bucket=storage.bucket, Key="runs/7/narration.flac"
    )
    parts = int(head["ETag"].strip('"').rsplit("-", 1)[1])  # multipart ETags end "-N"
    assert parts == -(-len(narration) // GROWING_PART_BYTES)
    samples, rate = sf.read(io.BytesIO(narration), dtype="int16")
    assert rate == 24000 and samples.size == result.total_samples
    assert np.array_equal(samples[-clips[-1].size - 16800 : -16800], clips[-1])


def test_a_file_shorter_than_two_parts_is_stored_whole_once_finished(storage, tmp_path):
    for size, key in (
        (GROWING_PART_BYTES + 1000, "runs/8/a.flac"),
        (1000, "runs/8/b.flac"),
    ):
        source = tmp_path / "dialogue.flac"
        source.write_bytes(os.urandom(size))
        upload = storage.upload_growing(key, source)
        upload.advance()  # not two parts yet: nothing is sent
        assert _open_uploads(storage) == []
        upload.finish()
        upload.wait()
        assert storage.open(key).read() == source.read_bytes()
    head = storage._client.head_object(Bucket=storage.bucket, Key="runs/8/b.flac")
    assert "-" not in head["ETag"]  # one PUT, not a multipart upload


def _open_uploads(storage) -> list[dict]:
    listed = storage._client.list_multipart_uploads(Bucket=storage.bucket)
    return listed.get("Uploads", [])


def test_an_aborted_upload_stores_nothing_and_leaves_no_open_upload(storage, tmp_path):
    source = tmp_path / "narration.flac"
    source.write_bytes(os.urandom(3 * GROWING_PART_BYTES))
    upload = storage.upload_growing("runs/9/narration.flac", source)
    upload.advance()  # parts 2 and 3 on their way
    assert len(_open_uploads(storage)) == 1
    upload.abort()
    assert _open_uploads(storage) == []
    with pytest.raises(StorageError, match="no stored object"):
        storage.size("runs/9/narration.flac")
    with pytest.raises(StorageError, match="not finished"):
        upload.wait()


def test_a_file_that_shrinks_while_it_is_stored_is_an_error(storage, tmp_path):
    source = tmp_path / "narration.flac"
    source.write_bytes(os.urandom(3 * GROWING_PART_BYTES))
    upload = storage.upload_growing("runs/10/narration.flac", source)
    upload.advance()
    with source.open("r+b") as fh:
        fh.truncate(GROWING_PART_BYTES + 10)
    with pytest.raises(StorageError, match="shrank"):
        upload.finish()
    assert _open_uploads(storage) == []
    with pytest.raises(StorageError, match="no stored object"):
        storage.size("runs/10/narration.flac")


def test_an_upload_left_unfinished_by_an_earlier_try_is_dropped(storage, tmp_path):
    source = tmp_path / "narration.flac"
    source.write_bytes(os.urandom(3 * GROWING_PART_BYTES))
    killed = storage.upload_growing("runs/11/narration.flac", source)
    killed.advance()  # then its worker dies: never finished, never aborted
    (left,) = _open_uploads(storage)
    again = storage.upload_growing("runs/11/narration.flac", source)
    again.advance()
    (current,) = _open_uploads(storage)
    assert current["UploadId"] != left["UploadId"]
    again.finish()
    again.wait()
    assert _open_uploads(storage) == []
    assert storage.open("runs/11/narration.flac").read() == source.read_bytes()
