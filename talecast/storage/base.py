"""The storage protocol every back end implements."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from talecast.errors import StorageError

__all__ = ["Storage", "StorageError", "key_parts"]


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


def key_parts(key: str) -> tuple[str, ...]:
    """The parts of a storage key; StorageError unless it is a plain relative path."""
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(p in ("..", ".") for p in parts):
        raise StorageError(f"storage key {key!r} is not a relative path")
    return parts
