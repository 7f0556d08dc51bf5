"""Storage in an S3-compatible bucket, through boto3.

Credentials come from the standard ``AWS_*`` environment variables (or any other source
boto3 reads); the endpoint URL and bucket from Talecast's settings. Links to stored audio
are presigned GET URLs (signature version 4), valid for as long as the caller asks.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from talecast.storage.base import StorageError, key_parts

logger = logging.getLogger(__name__)

_SPOOL_BYTES = 16 * 1024 * 1024  # objects larger than this are spooled to disk on open
_CONTENT_TYPES = {
    ".flac": "audio/flac",
    ".json": "application/json",
    ".mp3": "audio/mpeg",
    ".m4b": "audio/mp4",
    ".opus": "audio/ogg",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
}


class S3Storage:
    """Objects in one bucket; keys are the same relative paths as on local disk."""

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any | None = None,
    ) -> None:
        if not bucket:
            raise StorageError(
                "TALECAST_S3_BUCKET is required when TALECAST_STORAGE=s3"
            )
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self._client = client or _make_client(endpoint_url, region)
        self._bucket_ready = False

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (S3 writes are atomic per object)."""
        self._ensure_bucket_once()
        self._call(
            "put",
            key,
            self._client.put_object,
            Bucket=self.bucket,
            Key=_check_key(key),
            Body=data,
            ContentType=_content_type(key),
        )

    def put_file(self, key: str, source: Path) -> None:
        """Upload the file ``source`` (multipart for large files)."""
        self._ensure_bucket_once()
        self._call(
            "upload",
            key,
            self._client.upload_file,
            str(source),
            self.bucket,
            _check_key(key),
            ExtraArgs={"ContentType": _content_type(key)},
        )

    def open(self, key: str) -> BinaryIO:
        """Download ``key`` into a seekable temporary file and return it, rewound."""
        response = self._call(
            "get", key, self._client.get_object, Bucket=self.bucket, Key=_check_key(key)
        )
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
        for chunk in response["Body"].iter_chunks(1024 * 1024):
            spool.write(chunk)
        spool.seek(0)
        return spool  # type: ignore[return-value]

    def size(self, key: str) -> int:
        """Size of ``key`` in bytes."""
        head = self._call(
            "head",
            key,
            self._client.head_object,
            Bucket=self.bucket,
            Key=_check_key(key),
        )
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        """Remove ``key`` (S3 answers a missing key with success too)."""
        self._call(
            "delete",
            key,
            self._client.delete_object,
            Bucket=self.bucket,
            Key=_check_key(key),
        )

    def local_path(self, key: str) -> Path | None:
        """Objects in a bucket have no local path."""
        return None

    def presigned_url(self, key: str, expires_s: int) -> str:
        """A GET link to ``key`` valid for ``expires_s`` seconds."""
        return str(
            self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": _check_key(key)},
                ExpiresIn=int(expires_s),
            )
        )

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing; StorageError if S3 is unreachable."""
        from botocore.exceptions import ClientError

        try:
            self._call(
                "head bucket", self.bucket, self._client.head_bucket, Bucket=self.bucket
            )
        except StorageError as exc:
            if not isinstance(exc.__cause__, ClientError):
                raise
            self._call(
                "create bucket",
                self.bucket,
                self._client.create_bucket,
                Bucket=self.bucket,
            )
        self._bucket_ready = True

    def _ensure_bucket_once(self) -> None:
        """Before the first write: a server started while S3 was down makes it now."""
        if not self._bucket_ready:
            self.ensure_bucket()

    def check(self) -> None:
        """Raise StorageError unless the bucket answers."""
        self._ensure_bucket_once()
        self._call(
            "head bucket", self.bucket, self._client.head_bucket, Bucket=self.bucket
        )

    def _call(self, action: str, key: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return func(*args, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NotFound"):
                raise StorageError(f"no stored object {key!r}") from exc
            raise StorageError(
                f"S3 {action} of {key!r} in bucket {self.bucket!r} "
                f"failed: {code or exc}"
            ) from exc
        except (BotoCoreError, OSError) as exc:
            raise StorageError(
                f"S3 {action} of {key!r} at {self.endpoint_url or 'AWS'} failed: {exc}"
            ) from exc


def _make_client(endpoint_url: str | None, region: str | None) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise StorageError(
            "S3 storage needs boto3: pip install 'talecast[scale]'"
        ) from exc
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region or "us-east-1",
        config=Config(signature_version="s3v4", retries={"max_attempts": 3}),
    )


def _check_key(key: str) -> str:
    key_parts(key)
    return key


def _content_type(key: str) -> str:
    return _CONTENT_TYPES.get(PurePosixPath(key).suffix, "application/octet-stream")
