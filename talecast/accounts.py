"""Accounts and their API keys.

A key is ``tc_`` plus 43 url-safe random characters; only its sha256 is stored, with a
short prefix to let people tell keys apart. ``create_key`` makes a new account with one
key; ``revoke_key`` takes the key's id or a prefix that names exactly one key.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from talecast.config import Settings, get_settings
from talecast.db import Account, ApiKey, make_engine, migrate
from talecast.errors import NotFoundError, TalecastError

logger = logging.getLogger(__name__)

KEY_PREFIX = "tc_"
SHOWN_PREFIX_CHARS = 10
MIN_PREFIX_CHARS = 6


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never the key itself."""

    id: int
    account_id: int
    name: str
    prefix: str
    created_at: float
    revoked_at: float | None


def hash_key(key: str) -> str:
    """The stored form of a key: hex sha256."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _engine(settings: Settings | None) -> Engine:
    settings = settings or get_settings()
    engine = make_engine(settings.db_url)
    migrate(engine)
    return engine


def create_key(name: str, settings: Settings | None = None) -> str:
    """Create an account ``name`` with a new API key; return the key (shown once)."""
    name = name.strip()
    if not name or len(name) > 255:
        raise TalecastError(f"key name {name!r} must be 1-255 characters")

    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = time.time()
    engine = _engine(settings)
    with engine.begin() as conn:
        account_id = conn.execute(
            insert(Account).values(name=name, created_at=now).returning(Account.id)
        ).scalar_one()
        key_id = conn.execute(
            insert(ApiKey)
            .values(
                account_id=account_id,
                name=name,
                prefix=key[:SHOWN_PREFIX_CHARS],
                key_hash=hash_key(key),
                created_at=now,
            )
            .returning(ApiKey.id)
        ).scalar_one()
    engine.dispose()
    logger.info("api key %s created for account %s", key_id, account_id)
    return key


def list_keys(settings: Settings | None = None) -> list[KeyInfo]:
    """Every key, oldest first, revoked ones included."""
    engine = _engine(settings)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                ApiKey.id,
                ApiKey.account_id,
                ApiKey.name,
                ApiKey.prefix,
                ApiKey.created_at,
                ApiKey.revoked_at,
            ).order_by(ApiKey.id)
        ).all()
    engine.dispose()
    return [KeyInfo(*row) for row in rows]


def revoke_key(
    key_id_or_prefix: str | int, settings: Settings | None = None
) -> KeyInfo:
    """Revoke one key by id or by a prefix matching exactly one key; return it.

    Raises NotFoundError when nothing matches and TalecastError when a prefix is
    ambiguous. Revoking a revoked key is a no-op.
    """
    wanted = str(key_id_or_prefix).strip()
    if not wanted.isdigit() and len(wanted) < MIN_PREFIX_CHARS:
        raise TalecastError(
            f"{wanted!r} is too short to name a key; give the key id or at least "
            f"{MIN_PREFIX_CHARS} characters of its prefix (see `talecast keys list`)"
        )
    keys = list_keys(settings)
    if wanted.isdigit():
        matches = [k for k in keys if k.id == int(wanted)]
    else:
        matches = [
            k
            for k in keys
            if k.prefix.startswith(wanted)
            or (len(wanted) > SHOWN_PREFIX_CHARS and wanted.startswith(k.prefix))
        ]
    if not matches:
        raise NotFoundError(f"no API key with id or prefix {wanted!r}; see `keys list`")
    if len(matches) > 1:
        ids = ", ".join(str(k.id) for k in matches)
        raise TalecastError(
            f"prefix {wanted!r} matches keys {ids}; give the key id instead"
        )

    found = matches[0]
    if found.revoked_at is None:
        engine = _engine(settings)
        with engine.begin() as conn:
            conn.execute(
                update(ApiKey)
                .where(ApiKey.id == found.id)
                .values(revoked_at=time.time())
            )
        engine.dispose()
        logger.info("api key %s revoked", found.id)
    return next(k for k in list_keys(settings) if k.id == found.id)
