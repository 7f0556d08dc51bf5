"""Storage in an S3-compatible bucket, through boto3.

Credentials come from the standard ``AWS_*`` environment variables (or any other source
boto3 reads); the endpoint URL and bucket from Talecast's settings. Links to stored
audio are presigned GET URLs (signature version 4), valid for as long as the caller
asks.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from talecast.storage.base import StorageError, key_parts

logger = logging.getLogger(__name__)

_SPOOL_BYTES = 16 * 1024 * 1024  # objects larger than this are spooled to disk on open
# Parts of an upload made while its file is written (S3 takes at least 5 MiB a part,
# except the last). The first part is sent last: a writer may rewrite a file's header
# when it closes it (FLAC does, for the length and checksum), never anything after it.
GROWING_PART_BYTES = 8 * 1024 * 1024
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

    def upload_growing(self, key: str, source: Path) -> _GrowingUpload:
        """A multipart upload that sends each 8 MiB of ``source`` once it is written."""
        self._ensure_bucket_once()
        return _GrowingUpload(self, _check_key(key), source)

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


class _GrowingUpload:
    """Stores a file that is being written as a multipart upload (a ``FileUpload``).

    :meth:`advance` (called by the writing thread) queues part 2, 3, ... as soon as
    the file holds its bytes; :meth:`finish` queues the rest and part 1, which holds the
    header the writer rewrites on closing, then completes the upload. The parts go out
    from two background threads (the last two of a file at once), so the writer never
    waits for the network. A file that ends up shorter than two parts is stored with
    one plain upload.
    """

    def __init__(self, storage: S3Storage, key: str, source: Path) -> None:
        self.storage, self.key, self.source = storage, key, Path(source)
        self.part_bytes = GROWING_PART_BYTES
        self._queued_to = self.part_bytes  # bytes before this are queued (or part 1)
        self._upload_id: str | None = None
        self._parts: list[Future[dict[str, Any]]] = []
        self._done: Future[None] | None = None
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="s3-part")
        self._sending_s = 0.0  # time spent in upload_part calls, summed

    def advance(self) -> None:
        """Queue every whole part the file now holds beyond the first."""
        size = self.source.stat().st_size
        with self._lock:
            while self._done is None and size >= self._queued_to + self.part_bytes:
                if self._upload_id is None:
                    self._upload_id = self._start()
                self._queue_part(self._queued_to, self.part_bytes)
                self._queued_to += self.part_bytes

    def finish(self) -> None:
        """Queue the last bytes and the first part, then the completion."""
        with self._lock:
            if self._done is not None:
                return
            size = self.source.stat().st_size
            shrank = self._upload_id is not None and size < self._queued_to
            if self._upload_id is None:  # short: one plain upload
                self._done = self._pool.submit(
                    self.storage.put_file, self.key, self.source
                )
            elif not shrank:
                if size > self._queued_to:
                    self._queue_part(self._queued_to, size - self._queued_to)
                self._queue_part(0, self.part_bytes, number=1)
                self._done = self._pool.submit(self._complete, self._upload_id)
        if shrank:
            self.abort()
            raise StorageError(f"{self.source} shrank while it was stored ({self.key})")

    def wait(self) -> None:
        """Block until the object is stored; StorageError (upload aborted) if not."""
        if self._done is None:
            raise StorageError(f"{self.source} is not finished; {self.key} not stored")
        try:
            self._done.result()
        except StorageError:
            self.abort()
            raise
        finally:
            self._pool.shutdown(wait=False)

    def abort(self) -> None:
        """Cancel the queued parts and drop the parts sent (best effort)."""
        with self._lock:
            for future in self._parts:
                future.cancel()
            upload_id, self._upload_id = self._upload_id, None
        self._pool.shutdown(wait=True, cancel_futures=True)
        if upload_id is not None:
            try:
                self._request(
                    "abort upload",
                    "abort_multipart_upload",
                    UploadId=upload_id,
                )
            except StorageError:
                logger.warning("storage: could not abort the upload of %s", self.key)

    def _start(self) -> str:
        self._abort_earlier()
        response = self._request(
            "start upload",
            "create_multipart_upload",
            ContentType=_content_type(self.key),
        )
        return str(response["UploadId"])

    def _request(self, action: str, operation: str, **params: Any) -> Any:
        """One S3 call about this upload's key (StorageError if it fails)."""
        call = getattr(self.storage._client, operation)
        return self.storage._call(
            action, self.key, call, Bucket=self.storage.bucket, Key=self.key, **params
        )

    def _abort_earlier(self) -> None:
        """Drop unfinished uploads of this key: an earlier try killed mid-upload (a
        worker lost during assembly) leaves one, which S3 would keep and bill."""
        listed = self.storage._call(
            "list uploads",
            self.key,
            self.storage._client.list_multipart_uploads,
            Bucket=self.storage.bucket,
            Prefix=self.key,
        )
        for upload in listed.get("Uploads", []):
            if upload.get("Key") != self.key:
                continue
            self._request(
                "abort upload",
                "abort_multipart_upload",
                UploadId=upload["UploadId"],
            )
            logger.info("storage: dropped an unfinished upload of %s", self.key)

    def _queue_part(self, offset: int, length: int, number: int | None = None) -> None:
        number = number or 2 + (offset - self.part_bytes) // self.part_bytes
        self._parts.append(
            self._pool.submit(self._send, self._upload_id, number, offset, length)
        )

    def _send(
        self, upload_id: str | None, number: int, offset: int, length: int
    ) -> dict[str, Any]:
        try:
            with self.source.open("rb") as fh:
                fh.seek(offset)
                body = fh.read(length)
        except OSError as exc:
            raise StorageError(f"cannot read {self.source} to store it: {exc}") from exc
        if len(body) != length:
            raise StorageError(
                f"{self.source} shrank while it was stored ({self.key}, part {number})"
            )
        began = time.perf_counter()
        response = self._request(
            "upload part",
            "upload_part",
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
        )
        with self._lock:
            self._sending_s += time.perf_counter() - began
        return {"PartNumber": number, "ETag": response["ETag"]}

    def _complete(self, upload_id: str | None) -> None:
        parts = sorted((f.result() for f in self._parts), key=lambda p: p["PartNumber"])
        began = time.perf_counter()
        self._request(
            "complete upload",
            "complete_multipart_upload",
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
        logger.info(
            "storage: stored %s in %d parts (sending them %.2f s, completing %.2f s)",
            self.key,
            len(parts),
            self._sending_s,
            time.perf_counter() - began,
        )


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
