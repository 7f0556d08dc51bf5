"""Completion webhooks: when a story task ends, POST its final status to the URL the
upload gave as ``callback_url``.

The body is the task's status as ``GET /story/{task_id}`` answers it, plus ``task_id``;
the header ``X-Talecast-Signature: sha256=<hex>`` is the HMAC-SHA256 of the body under
the server's secret key, so a receiver can check the call came from this server.
Delivery runs in a background thread, three attempts at most (after 0, 2 and 8 s); a
receiver that keeps failing is logged and never holds up a worker.

With ``TALECAST_PRIVATE_CALLBACKS=false`` the host is resolved again before each
attempt, every address it has must be public, and the call goes to the address that was
checked (the URL's host kept in ``Host`` and for TLS), so a DNS answer that changes
after the upload cannot turn the call towards the server's own network.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import Engine, select

from talecast.db import Story, StoryStatus

logger = logging.getLogger(__name__)

ATTEMPT_DELAYS_S = (0.0, 2.0, 8.0)
TIMEOUT_S = 10.0
SIGNATURE_HEADER = "X-Talecast-Signature"
_PUBLIC = {
    StoryStatus.SUCCESS.value: "SUCCESS",
    StoryStatus.ERROR.value: "ERROR",
    StoryStatus.TIMEOUT.value: "TIMEOUT",
}


class RefusedTargetError(ValueError):
    """A callback host that is, or resolves to, an address outside the internet."""


def host_addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses ``host`` is or resolves to, in resolver order (empty when it does
    not resolve)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return []
    found = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    return list(dict.fromkeys(found))


def is_private_host(host: str) -> bool:
    """The host is, or resolves to, a loopback, private or link-local address."""
    return any(not address.is_global for address in host_addresses(host))


def pinned_target(
    url: str, private_ok: bool
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Where to send a callback: (URL, extra headers, httpx request extensions).

    When private addresses are refused the host is resolved now and the URL names the
    first of its addresses, with the host itself in ``Host`` and as the TLS server
    name; RefusedTargetError if any address is not public or none is found.
    """
    if private_ok:
        return url, {}, {}
    parts = urlsplit(url)
    host = parts.hostname or ""
    addresses = host_addresses(host)
    if not addresses:
        raise RefusedTargetError(f"callback host {host!r} does not resolve")
    private = [a for a in addresses if not a.is_global]
    if private:
        raise RefusedTargetError(
            f"callback host {host!r} resolves to {private[0]}, which is not a public "
            "address (TALECAST_PRIVATE_CALLBACKS=false)"
        )
    first = addresses[0]
    netloc = f"[{first}]" if first.version == 6 else str(first)
    named = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc, named = f"{netloc}:{parts.port}", f"{named}:{parts.port}"
    pinned = urlunsplit(parts._replace(netloc=netloc))
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return pinned, {"Host": named}, extensions


def signature(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def story_ended(engine: Engine, run_id: int, secret: str | None = None) -> None:
    """Send the ended task's status to its ``callback_url``, if it has one.

    ``secret`` defaults to the configured secret key.
    """
    with engine.connect() as conn:
        row = conn.execute(
            select(
                Story.task_id,
                Story.callback_url,
                Story.status,
                Story.exception_reason,
                Story.message,
            ).where(Story.run_id == run_id)
        ).first()
    if row is None or not row.callback_url or row.status not in _PUBLIC:
        return
    body: dict[str, Any] = {"task_id": row.task_id, "status": _PUBLIC[row.status]}
    if row.status == StoryStatus.SUCCESS.value:
        body["run_id"] = run_id
    else:
        body["exception_reason"] = row.exception_reason
        body["message"] = row.message
    from talecast.config import get_settings

    settings = get_settings()
    if secret is None:
        secret = settings.secret_key or ""
    data = json.dumps(body, separators=(",", ":")).encode("utf-8")
    thread = threading.Thread(
        target=deliver,
        args=(
            row.callback_url,
            data,
            signature(secret, data),
            run_id,
            settings.private_callbacks,
        ),
        name=f"talecast-callback-{run_id}",
        daemon=True,
    )
    thread.start()


def deliver(
    url: str, data: bytes, signed: str, run_id: int, private_ok: bool = True
) -> bool:
    """POST ``data`` to ``url`` (up to three attempts); True once it was accepted."""
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signed}
    problem = ""
    for delay in ATTEMPT_DELAYS_S:
        time.sleep(delay)
        try:
            target, extra, extensions = pinned_target(url, private_ok)
        except RefusedTargetError as exc:
            logger.warning("story run %s: callback not sent: %s", run_id, exc)
            return False
        try:
            with httpx.Client(timeout=TIMEOUT_S) as client:
                response = client.post(
                    target,
                    content=data,
                    headers={**headers, **extra},
                    extensions=extensions,
                )
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
            continue
        if response.status_code < 300:
            logger.info("story run %s: callback delivered to %s", run_id, url)
            return True
        problem = f"HTTP {response.status_code}"
    logger.warning(
        "story run %s: callback to %s failed %d times (%s); giving up",
        run_id,
        url,
        len(ATTEMPT_DELAYS_S),
        problem,
    )
    return False
