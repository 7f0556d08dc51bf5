"""Signed, expiring links to a run's files.

A link names the run, the file, the owning account and an expiry time, and carries an
HMAC-SHA256 of those four under the server's secret. Anyone holding the link may fetch
the file until it expires (players cannot send API keys); changing any part of it, or
waiting past the expiry, makes it fail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote

from talecast.errors import LinkError

FILE_NAMES = ("narration.flac", "dialogue.flac")  # the two every result links to
MAX_NAME_CHARS = 255


def is_file_name(name: str) -> bool:
    """Whether ``name`` can name a file of a run: a relative path such as
    ``narration.mp3`` or ``stems/Mary.flac``, without ``..``, control characters or
    backslashes."""
    parts = name.split("/")
    return (
        0 < len(name) <= MAX_NAME_CHARS
        and name.isprintable()
        and "\\" not in name
        and all(part not in ("", ".", "..") for part in parts)
    )


class LinkSigner:
    """Makes and checks signed file links with one secret."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._key = hashlib.sha256(
            b"talecast-links\0" + secret.encode("utf-8")
        ).digest()
        self.ttl_s = ttl_s
        # Links are whole-second exact, so under load most are issued again within
        # the same second; remembering them skips the HMAC.
        self._recent: dict[tuple[str, int, str, int, int], str] = {}

    def _signature(self, run_id: int, name: str, expires: int, account_id: int) -> str:
        message = f"{run_id}/{name}/{expires}/{account_id}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def link(
        self,
        base_url: str,
        run_id: int,
        name: str,
        account_id: int,
        now: float | None = None,
    ) -> str:
        """Absolute URL of ``name`` of ``run_id``, valid ``ttl_s`` from ``now``."""
        expires = int(now if now is not None else time.time()) + self.ttl_s
        key = (base_url, run_id, name, account_id, expires)
        url = self._recent.get(key)
        if url is None:
            signature = self._signature(run_id, name, expires, account_id)
            url = (
                f"{base_url}/apis/files/{run_id}/{quote(name, safe='/')}"
                f"?account={account_id}&expires={expires}&signature={signature}"
            )
            if len(self._recent) >= 4096:
                self._recent.clear()
            self._recent[key] = url
        return url

    def verify(
        self,
        run_id: int,
        name: str,
        account_id: int,
        expires: int,
        signature: str,
        now: float | None = None,
    ) -> None:
        """Raise LinkError if the link was altered or has expired."""
        valid = (
            is_file_name(name)
            and signature.isascii()
            and hmac.compare_digest(
                self._signature(run_id, name, expires, account_id), signature
            )
        )
        if not valid:
            raise LinkError(
                "this file link is not valid (it was altered or truncated); "
                "fetch the run's result again for fresh links"
            )
        if (now if now is not None else time.time()) > expires:
            raise LinkError(
                "this file link has expired; fetch the run's result again for "
                "fresh links"
            )
