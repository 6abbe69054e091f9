"""kill -9 during ``archive add`` leaves no half record: never a row without its blob, and
after ``archive recover`` no blob without its row; the audit is clean again."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess

import pytest

from certdesk.store.events import entries
from certdesk.store.records import find_records
from tests.conftest import CERTDESK
from tests.store.conftest import make_pdf, make_uscc

pytestmark = pytest.mark.slow  # kills real certdesk processes mid-write

CLIENT = make_uscc(41)


def start_add(home, files, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        [str(CERTDESK), "archive", "add", *map(str, files), "--type", "onsite_record",
         "--client", CLIENT, "--profile", "cacq"],
        env={**os.environ, "CERTDESK_HOME": str(home), **(env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def read(db_env: dict, query):
    """``query(session)`` on the database as the next process would find it."""
    from certdesk.common.settings import get_settings
    from certdesk.store.db import make_engine, session_scope

    engine = make_engine(db_env.get("CERTDESK_DATABASE_URL") or get_settings().db_url)
    try:
        with session_scope(engine) as s:
            return query(s)
    finally:
        engine.dispose()


def blob_files(home) -> list:
    return list((home / "blobs").glob("[0-9a-f][0-9a-f]/*/*"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_env(request, monkeypatch):
    if request.param == "sqlite":
        return {}
    from sqlalchemy import text

    from certdesk.store.db import make_engine

    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    monkeypatch.setenv("CERTDESK_DATABASE_URL", url)
    return {"CERTDESK_DATABASE_URL": url}


def test_a_kill_between_blob_and_commit_leaves_an_orphan_that_recover_quarantines(
        home, tmp_path, cli, wait_for, db_env):
    record = tmp_path / "onsite.pdf"
    record.write_bytes(make_pdf("killed mid-add"))
    marker = tmp_path / "blob-is-durable"
    proc = start_add(home, [record], {"CERTDESK_ARCHIVE_PAUSE_FILE": str(marker), **db_env})
    assert wait_for(marker.exists, timeout=60), proc.stderr.read1().decode()
    kill9(proc)

    assert read(db_env, find_records) == []
    assert len(blob_files(home)) == 1  # durable, but its row never committed
    audit = cli("archive", "audit", "--json", env=db_env)
    assert audit.returncode == 1 and len(json.loads(audit.stdout)["orphans"]) == 1

    recovered = json.loads(cli("archive", "recover", "--json", env=db_env).stdout)
    assert len(recovered["quarantined"]) == 1
    assert blob_files(home) == [] and list((home / "blobs" / ".quarantine").rglob("*"))
    logged = read(db_env, lambda s: [e.kind for e in entries(s, kind="blob.")])
    assert logged == ["blob.quarantined"]
    assert cli("archive", "audit", env=db_env).returncode == 0

    again = cli("archive", "add", str(record), "--type", "onsite_record", "--client", CLIENT,
                "--profile", "cacq", env=db_env)
    assert again.returncode == 0, again.stderr
    assert cli("archive", "audit", env=db_env).returncode == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_killed_at_a_random_point_recovers_to_a_clean_audit(home, tmp_path, cli,
                                                                    wait_for, seed):
    files = []
    for i in range(12):
        path = tmp_path / f"r{i}.pdf"
        path.write_bytes(make_pdf(f"batch {seed} {i}"))
        files.append(path)
    kill_after = random.Random(seed).randint(1, 10)  # blobs written before the kill
    proc = start_add(home, files)
    assert wait_for(lambda: len(blob_files(home)) >= kill_after or proc.poll() is not None,
                    timeout=60)
    assert proc.poll() is None, "the batch finished before the kill"
    kill9(proc)

    committed = read({}, find_records)
    stored = {p.name for p in blob_files(home)}
    assert {r.sha256 for r in committed} <= stored  # never a row without its blob
    cli("archive", "recover")
    audit = cli("archive", "audit", "--json")
    assert audit.returncode == 0, audit.stdout
    assert json.loads(audit.stdout)["records"] == len(committed) >= kill_after - 1
