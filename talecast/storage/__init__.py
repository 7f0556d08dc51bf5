"""File storage behind a small interface: uploads and rendered audio, by key.

Keys are relative POSIX paths such as ``uploads/<task_id>`` or ``runs/<run_id>/x.flac``.
:class:`LocalStorage` keeps them under one folder; other back ends (S3)
implement the same :class:`Storage` protocol and may hand out their own URLs.
"""

from __future__ import annotations

import logging

from talecast.storage.base import Storage, StorageError
from talecast.storage.local import LocalStorage

__all__ = ["LocalStorage", "Storage", "StorageError", "get_storage"]

logger = logging.getLogger(__name__)


def get_storage(settings: object) -> Storage:
    """The storage back end the settings ask for."""
    from talecast.config import Settings

    assert isinstance(settings, Settings)
    if settings.storage == "s3":
        from talecast.storage.s3 import S3Storage

        store = S3Storage(
            settings.s3_bucket or "", settings.s3_endpoint_url, settings.s3_region
        )
        try:
            store.ensure_bucket()
        except StorageError as exc:  # start anyway; /health reports it until it answers
            logger.warning("storage: %s; the bucket is made on first use", exc)
        return store
    return LocalStorage(settings.files_dir)
