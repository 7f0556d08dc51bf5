"""The hot path: ``POST /apis/stories-results`` served below FastAPI's router.

A finished result never changes, so answering the bulk endpoint is a cache lookup plus
signing links; FastAPI's routing and dependency solving would cost several times that.
This ASGI middleware answers that one path directly, with the same validation model,
the same authentication and the same body builder as the documented FastAPI route, so
clients cannot tell the difference except in speed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails
from starlette.types import ASGIApp, Receive, Scope, Send

from talecast.api.deps import API_KEY_HEADER
from talecast.api.errors import FieldError, validation_body
from talecast.api.routes_stories import bulk_results_body
from talecast.api.schemas import RunIDsRequestPayload
from talecast.api.state import AppState

logger = logging.getLogger(__name__)

PATH = "/apis/stories-results"
MAX_BODY_BYTES = 64 * 1024
_KEY_HEADER = API_KEY_HEADER.encode("latin-1")


class BulkResultsLane:
    """ASGI middleware answering ``POST /apis/stories-results`` itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
        ):
            await self.app(scope, receive, send)
            return
        scope["talecast.route"] = PATH
        state: AppState = scope["app"].state.talecast
        status, body = await self._answer(state, scope, receive)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _answer(
        self, state: AppState, scope: Scope, receive: Receive
    ) -> tuple[int, bytes]:
        key = host = None
        for name, value in scope["headers"]:
            if name == _KEY_HEADER:
                key = value.decode("latin-1")
            elif name == b"host":
                host = value.decode("latin-1")
        if not key:
            return 401, _detail(
                f"missing API key: send it in the {API_KEY_HEADER!r} header"
            )
        account = state.account_for_key(key)
        if account is None:
            return 401, _detail(
                "unknown or revoked API key; create one with `talecast keys create`"
            )

        raw = await _read_body(receive)
        if raw is None:
            return 413, _detail(f"the request body is over {MAX_BODY_BYTES} bytes")
        try:
            run_ids = _parse(raw)
        except ValidationError as exc:
            items = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            return 422, _json(validation_body(items))

        base = state.settings.public_base_url
        if base:
            base = base.rstrip("/")
        else:
            server = scope.get("server") or ("localhost", 80)
            base = f"{scope['scheme']}://{host or f'{server[0]}:{server[1]}'}"
        try:
            return 200, bulk_results_body(state, account, run_ids, base)
        except FieldError as exc:
            items = [
                {"loc": loc, "msg": msg, "type": "value_error"}
                for loc, msg in exc.problems
            ]
            return 422, _json(validation_body(items))


def _parse(raw: bytes) -> list[int]:
    if not raw.strip():
        missing: InitErrorDetails = {
            "type": "missing",
            "loc": (),
            "input": None,
        }
        raise ValidationError.from_exception_data("RunIDsRequestPayload", [missing])
    return RunIDsRequestPayload.model_validate_json(raw).run_ids


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _detail(message: str) -> bytes:
    return _json({"detail": message})


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
