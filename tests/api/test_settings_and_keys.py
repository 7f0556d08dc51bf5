"""Settings from TALECAST_* variables, the signing secret, and API key management."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from talecast.accounts import create_key, hash_key, list_keys, revoke_key
from talecast.config import get_settings
from talecast.db import ApiKey, make_engine
from talecast.errors import ConfigError, NotFoundError, TalecastError


def test_settings_come_from_prefixed_environment_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALECAST_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TALECAST_WORKERS", "3")
    monkeypatch.setenv("TALECAST_VOICE_PROFILE", "fast")
    settings = get_settings()
    assert (settings.workers, settings.voice_profile) == (3, "fast")
    assert settings.db_url == f"sqlite:///{tmp_path / 'talecast.db'}"
    assert settings.link_ttl_s == 86400


def test_engine_threads_default_to_the_cores_shared_among_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.delenv("TALECAST_THREADS_PER_WORKER", raising=False)
    cores = len(os.sched_getaffinity(0))
    one = get_settings(data_dir=tmp_path, workers=1).threads_per_worker
    assert one == max(1, min(4, cores))
    assert get_settings(data_dir=tmp_path, workers=cores).threads_per_worker == 1
    monkeypatch.setenv("TALECAST_THREADS_PER_WORKER", "3")
    assert get_settings(data_dir=tmp_path, workers=8).threads_per_worker == 3


def test_generated_secret_is_private_and_stable(tmp_path: Path) -> None:
    first = get_settings(data_dir=tmp_path).secret_key
    second = get_settings(data_dir=tmp_path).secret_key
    assert first == second and first and len(first) >= 32
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize("secret", ["dev", "changeme", "secret", "short"])
def test_development_secret_is_refused_in_production(
    tmp_path: Path, secret: str
) -> None:
    with pytest.raises(ConfigError, match="TALECAST_SECRET_KEY"):
        get_settings(data_dir=tmp_path, secret_key=secret)
    dev = get_settings(data_dir=tmp_path, secret_key=secret, env="development")
    assert dev.secret_key == secret


def test_malformed_setting_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TALECAST_WORKERS"):
        get_settings(data_dir=tmp_path, workers="many")


def test_scale_out_back_ends_are_refused_until_available(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TALECAST_QUEUE"):
        get_settings(data_dir=tmp_path, queue="celery")
    with pytest.raises(ConfigError, match="TALECAST_STORAGE"):
        get_settings(data_dir=tmp_path, storage="s3")


def test_keys_are_stored_hashed_listed_and_revoked(tmp_path: Path) -> None:
    settings = get_settings(data_dir=tmp_path)
    key = create_key("reader", settings=settings)
    other = create_key("writer", settings=settings)
    engine = make_engine(settings.db_url)
    with engine.connect() as conn:
        stored = conn.execute(select(ApiKey.key_hash)).scalars().all()
    assert hash_key(key) in stored and key not in str(stored)

    listed = list_keys(settings)
    assert [(k.name, k.prefix) for k in listed] == [
        ("reader", key[:10]),
        ("writer", other[:10]),
    ]
    assert listed[0].account_id != listed[1].account_id

    revoked = revoke_key(key[:10], settings=settings)
    assert revoked.revoked_at is not None
    assert (
        revoke_key(str(revoked.id), settings=settings).revoked_at == revoked.revoked_at
    )
    with pytest.raises(NotFoundError):
        revoke_key("tc_zzzzzzzz", settings=settings)
    with pytest.raises(TalecastError, match="too short"):
        revoke_key("tc_", settings=settings)
