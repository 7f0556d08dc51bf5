"""Pronunciation dictionary endpoints: list, create from a file, fetch, delete.

Dictionaries are per account; another account's ids answer 404. Their ids go into
``chosen_dictionaries`` of ``POST /story``.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from talecast import dictionaries
from talecast.api.deps import AccountId, State
from talecast.api.errors import field_error
from talecast.errors import DictionaryError
from talecast.pipeline.lexicon import MAX_DICTIONARY_BYTES

logger = logging.getLogger(__name__)

router = APIRouter(tags=["Dictionaries"])

MAX_ID = 2**63 - 1
FILE_HELP = (
    'A JSON term list ([{"term": "Hermione", "replacement": "her my oh nee"}]) or a '
    "W3C PLS lexicon (.pls) with <grapheme> and <alias> per <lexeme>"
)


class TermTranslationOut(BaseModel):
    """What a term is spoken as in one language."""

    language: int
    term_text: str


class DictionaryTermOut(BaseModel):
    """One term: the written word and what the narration says instead."""

    id: int = Field(description="1-based position of the term in its dictionary")
    term: str
    replacement: str
    term_translations: list[TermTranslationOut]


class DictionaryOut(BaseModel):
    """A pronunciation dictionary with its terms (Camb's ``DictionaryWithTerms``)."""

    id: int
    name: str
    description: str | None = None
    created_at: str | None = None
    last_edited_at: str | None = None
    dictionary_terms: list[DictionaryTermOut] = []
    languages: list[int] = [1]


@router.get(
    "/dictionaries", response_model=list[DictionaryOut], summary="Get Dictionaries"
)
def get_dictionaries(
    account: AccountId, state: State, run_id: int | None = None
) -> list[dict[str, object]]:
    """Your pronunciation dictionaries with their terms, oldest first."""
    records = dictionaries.list_dictionaries(state.engine, account)
    return [record.to_camb() for record in records]


@router.post("/dictionaries", response_model=DictionaryOut, summary="Create Dictionary")
async def create_dictionary(
    account: AccountId,
    state: State,
    file: Annotated[UploadFile, File(description=FILE_HELP)],
    name: Annotated[str | None, Form(min_length=1, max_length=255)] = None,
    description: Annotated[str | None, Form(max_length=5000)] = None,
) -> dict[str, object]:
    """Create a dictionary from an uploaded file. The name defaults to the file's own
    name or file name. Returns the new dictionary; use its ``id`` in
    ``chosen_dictionaries`` when creating a story."""
    return await _create(state, account, file, "file", name, description)


@router.post(
    "/dictionaries/create-from-file",
    response_model=DictionaryOut,
    summary="Create Dictionary From File",
)
async def create_dictionary_from_file(
    account: AccountId,
    state: State,
    dictionary_file: Annotated[UploadFile, File(description=FILE_HELP)],
    dictionary_name: Annotated[str, Form(min_length=1, max_length=255)],
    dictionary_description: Annotated[str | None, Form(max_length=5000)] = None,
    run_id: int | None = None,
) -> dict[str, object]:
    """The same as ``POST /dictionaries``, with the field names the Camb SDK sends."""
    return await _create(
        state,
        account,
        dictionary_file,
        "dictionary_file",
        dictionary_name,
        dictionary_description,
    )


@router.get(
    "/dictionaries/{dictionary_id}",
    response_model=DictionaryOut,
    summary="Get Dictionary Info",
)
def get_dictionary(
    dictionary_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    account: AccountId,
    state: State,
    run_id: int | None = None,
) -> dict[str, object]:
    """One of your dictionaries with its terms; 404 if it is not yours."""
    return dictionaries.get_dictionary(state.engine, account, dictionary_id).to_camb()


@router.get(
    "/dictionaries/{dictionary_id}/full-details",
    response_model=DictionaryOut,
    summary="Get Dictionary Details",
)
def get_dictionary_details(
    dictionary_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    account: AccountId,
    state: State,
    limit: Annotated[int | None, Query(ge=1)] = None,
    search_term: Annotated[str | None, Query(max_length=200)] = None,
    run_id: int | None = None,
) -> dict[str, object]:
    """One dictionary, its terms filtered by ``search_term`` (case-insensitive, in
    the term or its replacement) and cut to the first ``limit``."""
    body = dictionaries.get_dictionary(state.engine, account, dictionary_id).to_camb()
    terms: list[dict[str, Any]] = body["dictionary_terms"]
    if search_term:
        needle = search_term.casefold()
        terms = [
            t
            for t in terms
            if needle in t["term"].casefold() or needle in t["replacement"].casefold()
        ]
    body["dictionary_terms"] = terms[:limit] if limit else terms
    return body


@router.delete("/dictionaries/{dictionary_id}", summary="Delete Dictionary")
def delete_dictionary(
    dictionary_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    account: AccountId,
    state: State,
    run_id: int | None = None,
) -> dict[str, object]:
    """Delete one of your dictionaries. Stories already created with it keep its
    terms."""
    dictionaries.delete_dictionary(state.engine, account, dictionary_id)
    return {"status": "success", "dictionary_id": dictionary_id}


async def _create(
    state: State,
    account: int,
    upload: UploadFile,
    field: str,
    name: str | None,
    description: str | None,
) -> dict[str, object]:
    data = await upload.read(MAX_DICTIONARY_BYTES + 1)
    if name is not None and not name.strip():
        raise field_error(
            ("body", "name" if field == "file" else "dictionary_name"),
            "the dictionary name is blank; give a name such as 'Character names'",
        )
    try:
        record = await run_in_threadpool(
            dictionaries.create_dictionary,
            state.engine,
            account,
            data,
            upload.filename or None,
            name,
            description,
        )
    except DictionaryError as exc:
        raise field_error(("body", field), str(exc)) from exc
    return record.to_camb()
