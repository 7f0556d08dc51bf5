"""Turning errors into HTTP answers the Camb SDK understands.

Validation problems are always 422 with FastAPI's list-shaped ``detail`` (the SDK cannot
parse a string there); every other error is ``{"detail": "..."}``. Each Talecast error
class maps to one status here, and nothing a client sends can produce a 5xx.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from talecast import errors

logger = logging.getLogger(__name__)

# Checked in order: the first class the error is an instance of decides the status.
STATUS_BY_ERROR: tuple[tuple[type[errors.TalecastError], int], ...] = (
    (errors.AuthError, 401),
    (errors.LinkError, 403),
    (errors.NotFoundError, 404),
    (errors.StoryTooLargeError, 413),
    (errors.RunNotReadyError, 400),
    (errors.QuotaError, 400),
    (errors.StorageError, 503),  # the storage back end is down or failing
)


class FieldError(Exception):
    """A request field with a value the API refuses (answered as 422)."""

    def __init__(self, problems: Sequence[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__("; ".join(msg for _, msg in problems))
        self.problems = list(problems)


def field_error(loc: tuple[str | int, ...], msg: str) -> FieldError:
    """One refused field, e.g. ``field_error(("body", "title"), "too short")``."""
    return FieldError([(loc, msg)])


def validation_body(items: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"detail": [{"loc", "msg", "type"}]}`` with only the published keys."""
    return {
        "detail": [
            {
                "loc": list(item.get("loc", ())),
                "msg": str(item.get("msg", "")),
                "type": str(item.get("type", "value_error")),
            }
            for item in items
        ]
    }


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(validation_body(list(exc.errors())), status_code=422)


async def _on_field_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FieldError)
    items = [
        {"loc": loc, "msg": msg, "type": "value_error"} for loc, msg in exc.problems
    ]
    return JSONResponse(validation_body(items), status_code=422)


async def _on_talecast_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.TalecastError)
    for error_class, status in STATUS_BY_ERROR:
        if isinstance(exc, error_class):
            return JSONResponse({"detail": str(exc)}, status_code=status)
    if isinstance(exc, errors.StoryInputError | errors.DictionaryError):
        body = validation_body([{"loc": ("body", "file"), "msg": str(exc)}])
        return JSONResponse(body, status_code=422)
    if isinstance(exc, errors.CorrectionError):
        body = validation_body([{"loc": exc.loc, "msg": str(exc)}])
        return JSONResponse(body, status_code=422)
    if isinstance(exc, errors.ExportError | errors.VoiceError):
        body = validation_body([{"loc": ("body",), "msg": str(exc)}])
        return JSONResponse(body, status_code=422)
    logger.error("request %s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"detail": "the server could not complete this request"}, status_code=500
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("request %s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(FieldError, _on_field_error)
    app.add_exception_handler(errors.TalecastError, _on_talecast_error)
    app.add_exception_handler(Exception, _on_unexpected)
