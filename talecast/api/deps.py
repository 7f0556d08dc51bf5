"""Request dependencies: the app state, the caller's account and the public base URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from talecast.api.state import AppState
from talecast.errors import AuthError

API_KEY_HEADER = "x-api-key"

api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="APIKeyHeader",
    auto_error=False,
    description=(
        "The `x-api-key` header carries your Talecast API key "
        "(create one with `talecast keys create --name NAME`)."
    ),
)


def app_state(request: Request) -> AppState:
    """The web process's shared state."""
    state: AppState = request.app.state.talecast
    return state


async def get_state(request: Request) -> AppState:
    """The shared state, as a dependency (async: no thread hop)."""
    return app_state(request)


async def current_account(
    request: Request, api_key: Annotated[str | None, Depends(api_key_scheme)]
) -> int:
    """The account id behind the request's API key; AuthError (401) otherwise."""
    if not api_key:
        raise AuthError(f"missing API key: send it in the {API_KEY_HEADER!r} header")
    account_id = app_state(request).account_for_key(api_key)
    if account_id is None:
        raise AuthError(
            "unknown or revoked API key; create one with `talecast keys create`"
        )
    return account_id


async def base_url(request: Request) -> str:
    """Scheme and host that links should start with (no trailing slash)."""
    configured = app_state(request).settings.public_base_url
    if configured:
        return configured.rstrip("/")
    host = request.headers.get("host")
    if not host:
        server = request.scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{request.scope.get('scheme', 'http')}://{host}"


State = Annotated[AppState, Depends(get_state)]
AccountId = Annotated[int, Depends(current_account)]
BaseUrl = Annotated[str, Depends(base_url)]
