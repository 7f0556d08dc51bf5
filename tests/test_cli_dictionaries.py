"""``talecast dictionaries``: create and list an account's dictionaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from talecast import dictionaries
from talecast.accounts import create_key
from talecast.cli import main
from talecast.config import get_settings
from talecast.db import make_engine

PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Hermione</grapheme><alias>her my oh nee</alias></lexeme>
  <lexeme><grapheme>Siobhan</grapheme><alias>shiv awn</alias></lexeme>
</lexicon>
"""


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder (and SQLite database) for the command."""
    monkeypatch.setenv("TALECAST_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_create_prints_the_new_id_last_and_stores_it_for_the_key(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, other = create_key("author"), create_key("someone else")
    path = tmp_path / "names.pls"
    path.write_text(PLS, encoding="utf-8")

    assert (
        main(["dictionaries", "create", str(path), "--api-key", key, "--name", "Names"])
        == 0
    )
    new_id = int(capsys.readouterr().out.strip().splitlines()[-1])

    engine = make_engine(get_settings().db_url)
    account = dictionaries.account_for_api_key(engine, key)
    stored = dictionaries.get_dictionary(engine, account, new_id)
    assert (stored.name, stored.replacements()) == (
        "Names",
        {"Hermione": "her my oh nee", "Siobhan": "shiv awn"},
    )
    other_account = dictionaries.account_for_api_key(engine, other)
    assert dictionaries.list_dictionaries(engine, other_account) == []
    engine.dispose()


def test_list_shows_only_the_keys_dictionaries(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, other = create_key("author"), create_key("someone else")
    path = tmp_path / "places.json"
    path.write_text(json.dumps([{"term": "Leicester", "replacement": "lester"}]))
    assert main(["dictionaries", "create", str(path), "--api-key", key]) == 0
    capsys.readouterr()

    assert main(["dictionaries", "list", "--api-key", key]) == 0
    assert "places" in capsys.readouterr().out
    assert main(["dictionaries", "list", "--api-key", other]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("content", "key_ok", "words"),
    [
        ('[{"term": "Tom"}]', True, "replacement"),
        ("[]", False, "unknown or revoked API key"),
    ],
)
def test_bad_file_or_key_fails_with_one_error_line(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    key_ok: bool,
    words: str,
) -> None:
    key = create_key("author") if key_ok else "tc_not-a-key"
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["dictionaries", "create", str(path), "--api-key", key]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ") and "\n" not in err
    assert words in err
