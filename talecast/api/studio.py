"""``GET /studio``: a page for people, over the same public API.

Upload a story (set up for editing, or render at once), follow its progress, read the
script with each line's speaker and confidence, listen to any line, retype a speaker and
render again with the corrections. The page holds no state of its own: it calls
``/apis`` with the API key the user types in (kept in the browser's local storage).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["Studio"])


@cache
def _page() -> str:
    return (resources.files("talecast.api") / "static" / "studio.html").read_text(
        encoding="utf-8"
    )


@router.get("/studio", response_class=HTMLResponse, summary="Studio")
def studio() -> HTMLResponse:
    """The Studio page: upload, listen, correct speakers, render again."""
    return HTMLResponse(
        _page(),
        headers={
            "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
            "script-src 'unsafe-inline'; media-src 'self' blob: https: http:; "
            "connect-src 'self' https: http:",
            "X-Content-Type-Options": "nosniff",
        },
    )
