"""The storage protocol every back end implements."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from talecast.errors import StorageError

__all__ = ["FileUpload", "Storage", "StorageError", "WholeFileUpload", "key_parts"]


class FileUpload(Protocol):
    """A file stored while it is still being written (see ``Storage.upload_growing``).

    The writer calls :meth:`advance` whenever it has appended to the file, then
    :meth:`finish` once the file is closed; :meth:`wait` returns when the object is
    stored (StorageError if it could not be). :meth:`abort` gives up and stores nothing.
    """

    def advance(self) -> None:
        """The file grew: its new bytes may be stored now, in the background."""

    def finish(self) -> None:
        """The file is closed and final: store the rest (in the background)."""

    def wait(self) -> None:
        """Block until the object is stored; StorageError if it failed."""

    def abort(self) -> None:
        """Stop and store nothing (best effort, never raises)."""


class Storage(Protocol):
    """Where Talecast keeps uploaded stories and rendered audio."""

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there."""

    def put_file(self, key: str, source: Path) -> None:
        """Store a copy of the file ``source`` under ``key``, replacing any."""

    def open(self, key: str) -> BinaryIO:
        """Open the object for reading; StorageError if it does not exist."""

    def size(self, key: str) -> int:
        """Size in bytes; StorageError if it does not exist."""

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it does not exist."""

    def local_path(self, key: str) -> Path | None:
        """A path on this machine the web server may stream from, or None."""

    def check(self) -> None:
        """Raise StorageError if the back end cannot be written to."""

    def upload_growing(self, key: str, source: Path) -> FileUpload:
        """Store the file ``source``, which is being written, under ``key``: each part
        may be sent as it is written, so storing ends soon after the writing."""


class WholeFileUpload:
    """A :class:`FileUpload` that stores the file in one piece once it is finished
    (for back ends where copying a finished file is cheap)."""

    def __init__(self, storage: Storage, key: str, source: Path) -> None:
        self.storage, self.key, self.source = storage, key, source
        self._finished = False

    def advance(self) -> None:
        """Nothing to do before the file is finished."""

    def finish(self) -> None:
        """Remember that the file is final; it is stored by :meth:`wait`."""
        self._finished = True

    def wait(self) -> None:
        """Store the finished file."""
        if not self._finished:
            raise StorageError(f"{self.source} is not finished; {self.key} not stored")
        self.storage.put_file(self.key, self.source)

    def abort(self) -> None:
        """Nothing was stored yet."""
        self._finished = False


def key_parts(key: str) -> tuple[str, ...]:
    """The parts of a storage key; StorageError unless it is a plain relative path."""
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(p in ("..", ".") for p in parts):
        raise StorageError(f"storage key {key!r} is not a relative path")
    return parts
