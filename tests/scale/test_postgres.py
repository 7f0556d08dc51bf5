"""The same models, migrations, key commands and queue claims on PostgreSQL."""

import os
import subprocess
import sys
import threading

from sqlalchemy import insert, inspect

from talecast.db import Account, Base, Story, make_engine, migrate
from talecast.jobs import queue


def _cli(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "talecast.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrations_create_every_model_table_on_postgres(scale_env):
    engine = make_engine(scale_env["TALECAST_DATABASE_URL"])
    migrate(engine)
    migrate(engine)  # idempotent
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_keys_commands_work_against_postgres(scale_env, tmp_path):
    env = {
        "TALECAST_DATABASE_URL": scale_env["TALECAST_DATABASE_URL"],
        "TALECAST_DATA_DIR": str(tmp_path),
    }
    created = _cli(env, "keys", "create", "--name", "pg-user")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert len(key) >= 32 and " " not in key
    listed = _cli(env, "keys", "list")
    assert listed.returncode == 0 and "pg-user" in listed.stdout
    assert key not in listed.stdout  # only a prefix is ever shown


def test_concurrent_claims_on_postgres_take_each_task_once(scale_env):
    engine = make_engine(scale_env["TALECAST_DATABASE_URL"])
    migrate(engine)
    with engine.begin() as conn:
        account = conn.execute(
            insert(Account).values(name="q", created_at=0.0).returning(Account.id)
        ).scalar_one()
        for n in range(30):
            conn.execute(
                insert(Story).values(
                    task_id=f"pg-task-{n}",
                    account_id=account,
                    status="queued",
                    source_language=1,
                    upload_key=f"uploads/{n}",
                    upload_bytes=1,
                    created_at=float(n),
                )
            )
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while True:
            with engine.connect() as conn:
                claim = queue.claim_next(conn, name, lease_s=60)
            if claim is None:
                return
            with lock:
                claimed.append(claim.task_id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ours = [t for t in claimed if t.startswith("pg-task-")]
    assert sorted(ours) == sorted(f"pg-task-{n}" for n in range(30))
