"""Storage in a folder on the local disk."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from talecast.storage.base import StorageError, WholeFileUpload, key_parts

logger = logging.getLogger(__name__)


class LocalStorage:
    """Objects as files under ``root``; writes are atomic (temp file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key_parts(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        logger.debug("storage: wrote %s (%d bytes)", key, len(data))

    def put_file(self, key: str, source: Path) -> None:
        """Copy ``source`` to ``key`` atomically."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        os.close(fd)
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        logger.debug("storage: stored %s from %s", key, source)

    def upload_growing(self, key: str, source: Path) -> WholeFileUpload:
        """A local copy is quick: the finished file is copied when it is closed."""
        return WholeFileUpload(self, key, source)

    def open(self, key: str) -> BinaryIO:
        """Open ``key`` for binary reading."""
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StorageError(f"no stored object {key!r}") from exc

    def size(self, key: str) -> int:
        """Size of ``key`` in bytes."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as exc:
            raise StorageError(f"no stored object {key!r}") from exc

    def delete(self, key: str) -> None:
        """Remove ``key``'s file if it exists."""
        self._path(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        """The file holding ``key`` (it may not exist)."""
        return self._path(key)

    def check(self) -> None:
        """Write and remove a probe file."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".health"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise StorageError(f"cannot write to {self.root}: {exc}") from exc
