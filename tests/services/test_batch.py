"""Batches: one bad record never stops the others, and Ctrl-C stops cleanly — what finished
is archived, what did not consumed no number (or its number is recorded void)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from sqlmodel import Session, select

from certdesk.domain.uscc import check_character
from certdesk.store.blobs import BlobStore
from certdesk.store.db import make_engine
from certdesk.store.models import Certificate, NumberCounter, VoidNumber
from tests.conftest import CERTDESK

pytestmark = pytest.mark.office


def _uscc(i: int) -> str:
    body = f"9111010{i:010d}"[:17]
    return body + check_character(body)


def _orgs(n: int, bad: set[int] = frozenset()) -> list[dict]:
    return [{"name": f"批量测试公司{i}", "uscc": "91110105MA01XB8H2A" if i in bad else _uscc(i),
             "registered_address": "北京市", "scope": "家用电器的维修", "grade": "三星级",
             "decision_date": "2026-11-20"} for i in range(n)]


def test_a_bad_record_in_a_batch_is_reported_and_the_others_are_issued(cli, tmp_path):
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(_orgs(4, bad={2}), ensure_ascii=False), encoding="utf-8")
    result = cli("issue", "-p", "cacq", "-i", str(path), "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["summary"] == {"organisations": 4, "certificates": 3, "skipped": 0,
                               "failed": 1, "interrupted": False}
    assert "check character" in data["failed"][0]["reason"]
    assert "Traceback" not in result.stderr


def test_ctrl_c_during_a_batch_leaves_only_whole_records_and_explained_numbers(home, tmp_path):
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(_orgs(40), ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "CERTDESK_HOME": str(home)}
    # Its own process group, like a shell job: Ctrl-C reaches the whole group.
    proc = subprocess.Popen([str(CERTDESK), "issue", "-p", "cacq", "-i", str(path), "--json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    out_dir = home / "out"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out_dir.glob("*.pdf"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    summary = json.loads(stdout)["summary"]
    assert summary["interrupted"] is True
    assert 3 <= summary["certificates"] < 40

    engine = make_engine(f"sqlite:///{home / 'certdesk.db'}")
    blobs = BlobStore(home / "blobs")
    with Session(engine) as s:
        certs = s.exec(select(Certificate)).all()
        voids = s.exec(select(VoidNumber)).all()
        drawn = sum(c.last_value for c in s.exec(select(NumberCounter)))
    assert len(certs) == summary["certificates"]
    assert all(blobs.exists(c.pdf_sha256) for c in certs)
    assert drawn == len(certs) + len(voids)  # every drawn number is issued or void
