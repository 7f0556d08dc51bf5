"""Pronunciation dictionaries of an account: create, list, fetch, delete, merge.

The API and the ``talecast dictionaries`` command both go through these functions. A
dictionary file (JSON term list or W3C PLS) is parsed and validated by
:func:`talecast.pipeline.lexicon.load_dictionary`; only its terms are stored. When a
story is created, :func:`merged_replacements` turns the chosen dictionaries into one
term -> replacement mapping that is stored with the story, so a later edit or deletion
does not change a story already queued.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, delete, insert, select

from talecast.accounts import hash_key
from talecast.db.models import ApiKey, Dictionary
from talecast.errors import AuthError, DictionaryError, NotFoundError
from talecast.pipeline.lexicon import load_dictionary

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 255
MAX_DESCRIPTION_CHARS = 5000
ENGLISH_ID = 1  # the only language Talecast narrates today (see /source-languages)
DICTIONARY_COLUMNS = tuple(Dictionary.__table__.columns)


@dataclass(frozen=True)
class DictionaryRecord:
    """A stored dictionary. Times are Unix seconds."""

    id: int
    account_id: int
    name: str
    description: str | None
    created_at: float
    last_edited_at: float
    terms: list[dict[str, str]]
    languages: list[int] = field(default_factory=lambda: [ENGLISH_ID])

    def replacements(self) -> dict[str, str]:
        """Return the term -> replacement mapping the renderer applies."""
        return {t["term"]: t["replacement"] for t in self.terms}

    def to_camb(self) -> dict[str, Any]:
        """Return the dictionary in Camb's ``DictionaryWithTerms`` shape.

        Each term keeps ``term`` and ``replacement`` and also carries Camb's required
        ``id`` (1-based position) and ``term_translations`` (the replacement, per
        language), so the official SDK parses it.
        """
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "created_at": _iso(self.created_at),
            "last_edited_at": _iso(self.last_edited_at),
            "dictionary_terms": [
                {
                    "id": index,
                    "term": t["term"],
                    "replacement": t["replacement"],
                    "term_translations": [
                        {"language": language, "term_text": t["replacement"]}
                        for language in self.languages
                    ],
                }
                for index, t in enumerate(self.terms, start=1)
            ],
            "languages": list(self.languages),
        }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def create_dictionary(
    engine: Engine,
    account_id: int,
    data: bytes,
    filename: str | None = None,
    name: str | None = None,
    description: str | None = None,
) -> DictionaryRecord:
    """Parse ``data`` (JSON term list or PLS) and store it for ``account_id``.

    ``name`` and ``description`` override what the file says; the name defaults to the
    file's own name or stem. Raises DictionaryError for an unusable file or name.
    """
    parsed = load_dictionary(data, filename)
    chosen_name = " ".join((name or parsed.name or "").split())
    chosen_description = description if description is not None else parsed.description
    _check_labels(chosen_name, chosen_description)
    terms = [{"term": t.term, "replacement": t.replacement} for t in parsed.terms]

    now = time.time()
    with engine.begin() as conn:
        new_id = conn.execute(
            insert(Dictionary)
            .values(
                account_id=account_id,
                name=chosen_name,
                description=chosen_description,
                created_at=now,
                last_edited_at=now,
                terms=terms,
                languages=[ENGLISH_ID],
            )
            .returning(Dictionary.id)
        ).scalar_one()
    logger.info(
        "dictionary %s: created with %d terms",
        new_id,
        len(terms),
        extra={"account_id": account_id, "dictionary_id": new_id},
    )
    return get_dictionary(engine, account_id, new_id)


def _check_labels(name: str, description: str | None) -> None:
    if not name or len(name) > MAX_NAME_CHARS:
        raise DictionaryError(
            f"dictionary name {name!r} must be 1-{MAX_NAME_CHARS} characters; "
            "give one with the name field, e.g. 'Character names'"
        )
    if description is not None and len(description) > MAX_DESCRIPTION_CHARS:
        raise DictionaryError(
            f"dictionary description is {len(description)} characters, over the "
            f"limit of {MAX_DESCRIPTION_CHARS}; shorten it"
        )


def list_dictionaries(engine: Engine, account_id: int) -> list[DictionaryRecord]:
    """Every dictionary of the account, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(*DICTIONARY_COLUMNS)
            .where(Dictionary.account_id == account_id)
            .order_by(Dictionary.id)
        ).all()
        return [_record(row) for row in rows]


def get_dictionary(
    engine: Engine, account_id: int, dictionary_id: int
) -> DictionaryRecord:
    """One dictionary of the account; NotFoundError for others' or unknown ids."""
    found = _load(engine, account_id, [dictionary_id])
    if dictionary_id not in found:
        raise NotFoundError(
            f"no pronunciation dictionary with id {dictionary_id}; "
            "list yours with GET /apis/dictionaries"
        )
    return found[dictionary_id]


def delete_dictionary(engine: Engine, account_id: int, dictionary_id: int) -> None:
    """Delete one dictionary of the account (stories already queued keep its terms)."""
    get_dictionary(engine, account_id, dictionary_id)
    with engine.begin() as conn:
        conn.execute(
            delete(Dictionary).where(
                Dictionary.id == dictionary_id, Dictionary.account_id == account_id
            )
        )
    logger.info(
        "dictionary %s: deleted",
        dictionary_id,
        extra={"account_id": account_id, "dictionary_id": dictionary_id},
    )


def merged_replacements(
    engine: Engine, account_id: int, dictionary_ids: list[int]
) -> tuple[dict[str, str], list[int]]:
    """The replacements of the chosen dictionaries merged in the order given (a later
    dictionary wins a shared term), and the ids that are not the account's."""
    found = _load(engine, account_id, dictionary_ids)
    merged: dict[str, str] = {}
    for dictionary_id in dictionary_ids:
        if dictionary_id in found:
            merged.update(found[dictionary_id].replacements())
    missing = [i for i in dictionary_ids if i not in found]
    return merged, missing


def account_for_api_key(engine: Engine, api_key: str) -> int:
    """The account behind an active API key; AuthError otherwise."""
    with engine.connect() as conn:
        account_id = conn.execute(
            select(ApiKey.account_id).where(
                ApiKey.key_hash == hash_key(api_key.strip()),
                ApiKey.revoked_at.is_(None),
            )
        ).scalar_one_or_none()
    if account_id is None:
        raise AuthError(
            "unknown or revoked API key; create one with `talecast keys create`"
        )
    return int(account_id)


def _load(
    engine: Engine, account_id: int, dictionary_ids: list[int]
) -> dict[int, DictionaryRecord]:
    wanted = [i for i in set(dictionary_ids) if 0 < i < 2**63]
    if not wanted:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(*DICTIONARY_COLUMNS).where(
                Dictionary.id.in_(wanted), Dictionary.account_id == account_id
            )
        ).all()
        return {row.id: _record(row) for row in rows}


def _record(row: Row[Any]) -> DictionaryRecord:
    return DictionaryRecord(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        description=row.description,
        created_at=row.created_at,
        last_edited_at=row.last_edited_at,
        terms=list(row.terms),
        languages=list(row.languages or [ENGLISH_ID]),
    )
