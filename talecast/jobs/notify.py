"""Completion webhooks: when a story task ends, POST its final status to the URL the
upload gave as ``callback_url``.

The body is the task's status as ``GET /story/{task_id}`` answers it, plus ``task_id``;
the header ``X-Talecast-Signature: sha256=<hex>`` is the HMAC-SHA256 of the body under
the server's secret key, so a receiver can check the call came from this server.
Delivery runs in a background thread, three attempts at most (after 0, 2 and 8 s); a
receiver that keeps failing is logged and never holds up a worker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from typing import Any

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
    if secret is None:
        from talecast.config import get_settings

        secret = get_settings().secret_key or ""
    data = json.dumps(body, separators=(",", ":")).encode("utf-8")
    thread = threading.Thread(
        target=_deliver,
        args=(row.callback_url, data, signature(secret, data), run_id),
        name=f"talecast-callback-{run_id}",
        daemon=True,
    )
    thread.start()


def _deliver(url: str, data: bytes, signed: str, run_id: int) -> None:
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signed}
    problem = ""
    for delay in ATTEMPT_DELAYS_S:
        time.sleep(delay)
        try:
            response = httpx.post(url, content=data, headers=headers, timeout=TIMEOUT_S)
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
            continue
        if response.status_code < 300:
            logger.info("story run %s: callback delivered to %s", run_id, url)
            return
        problem = f"HTTP {response.status_code}"
    logger.warning(
        "story run %s: callback to %s failed %d times (%s); giving up",
        run_id,
        url,
        len(ATTEMPT_DELAYS_S),
        problem,
    )
