"""Local storage: atomic writes, and tracks stored once they are finished."""

import pytest

from talecast.errors import StorageError
from talecast.storage import LocalStorage


def test_a_growing_file_is_copied_into_storage_once_it_is_finished(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    source = tmp_path / "narration.flac"
    source.write_bytes(b"fLaC" + b"\0" * 100)
    upload = storage.upload_growing("runs/1/narration.flac", source)
    upload.advance()
    source.write_bytes(b"fLaC" + b"\1" * 200)  # written on after the first advance
    upload.finish()
    upload.wait()
    assert storage.open("runs/1/narration.flac").read() == source.read_bytes()


def test_an_unfinished_or_aborted_upload_stores_nothing(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    source = tmp_path / "dialogue.flac"
    source.write_bytes(b"fLaC")
    upload = storage.upload_growing("runs/1/dialogue.flac", source)
    with pytest.raises(StorageError, match="not finished"):
        upload.wait()
    upload.finish()
    upload.abort()
    with pytest.raises(StorageError, match="not finished"):
        upload.wait()
    with pytest.raises(StorageError, match="no stored object"):
        storage.size("runs/1/dialogue.flac")
