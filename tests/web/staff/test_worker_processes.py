"""``certdesk worker`` as real processes: a batch submitted through the desk is run by a
worker on the embedded SQLite queue; a worker stopped mid-job leaves it interrupted and its
re-run issues each organisation once; two workers on the PostgreSQL queue share several
jobs (two of them naming the same organisation) with no number drawn twice, every job done
and a clean archive audit; a job queued while no server ran is run by the next ``certdesk
serve``. The web app here runs no consumer of its own."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlmodel import Session, select

from certdesk.common.settings import get_settings
from certdesk.domain.uscc import check_character
from certdesk.store.db import make_engine
from certdesk.store.models import Certificate
from tests.conftest import CERTDESK, run_process
from tests.documents.fakes import FakeConverter
from tests.web.staff.test_actions import issue

pytestmark = [pytest.mark.office, pytest.mark.slow]


def _uscc(i: int) -> str:
    body = f"9144030{i:010d}"[:17]
    return body + check_character(body)


def organisations(ids: range | list[int]) -> list[dict]:
    return [{"name": f"后台任务公司{i}", "uscc": _uscc(i), "registered_address": "深圳市",
             "scope": "家用电器的维修", "grade": "三星级", "decision_date": "2026-03-10",
             "issue_date": "2026-03-15"} for i in ids]


@pytest.fixture
def staff_app(keyed_home, settings, engine) -> FastAPI:
    """The desk without a converter of its own: the workers convert, not the web."""
    from certdesk.web.staff.router import mount

    app = FastAPI()
    mount(app, settings, engine, pool=FakeConverter(1))
    return app


@pytest.fixture
def real_queue(home, monkeypatch):
    """The install's default queue (beside the database) instead of the fast tier's."""
    monkeypatch.delenv("CERTDESK_QUEUE_URL")
    get_settings.cache_clear()


@pytest.fixture
def on_postgres(real_queue, monkeypatch, postgres_url):
    engine = make_engine(postgres_url)
    with engine.begin() as conn:  # each test starts from an empty database
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    monkeypatch.setenv("CERTDESK_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    return postgres_url


@pytest.fixture
def workers(home):
    """``start(n)``: n ``certdesk worker`` processes of this test's install (stopped at the
    end with SIGTERM, as a service manager stops them)."""
    started: list[subprocess.Popen] = []

    def start(n: int) -> list[subprocess.Popen]:
        env = {**os.environ, "CERTDESK_HOME": str(home), "CERTDESK_CONVERTER_WORKERS": "1"}
        env.pop("CERTDESK_QUEUE_URL", None)
        for _ in range(n):
            started.append(subprocess.Popen([str(CERTDESK), "worker", "--workers", "1"],
                                            env=env, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True,
                                            start_new_session=True))
        return started

    yield start
    for proc in started:
        proc.send_signal(signal.SIGTERM)
    for proc in started:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]


def submit(client, tmp_path: Path, orgs: list[dict], name: str) -> str:
    """Upload, preview and confirm as the desk does; the job's page."""
    path = tmp_path / name
    path.write_text(json.dumps(orgs, ensure_ascii=False), encoding="utf-8")
    response = issue(client, path)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def ended(client, location: str, wait_for, procs) -> dict:
    def done() -> bool:
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        return client.get(f"{location}.json").json()["state"] in ("done", "failed",
                                                                  "interrupted")

    assert wait_for(done, timeout=300, step=0.5)
    return client.get(f"{location}.json").json()


def test_a_worker_process_runs_a_batch_submitted_through_the_desk(real_queue, signed_in,
                                                                   settings, engine, workers,
                                                                   wait_for, tmp_path, home):
    assert settings.job_queue_url == f"sqlite:///{home / 'certdesk-queue.db'}"
    procs = workers(1)
    ivy = signed_in("issuer")
    location = submit(ivy, tmp_path, organisations(range(3)), "三家.json")
    job = ended(ivy, location, wait_for, procs)
    assert job["state"] == "done" and (job["done"], job["total"]) == (3, 3), job
    assert len(job["result"]["mains"]) == 3 and job["result"]["failed"] == []
    page = ivy.get(location).text
    assert "已签发 3 张证书" in page
    with Session(engine) as s:
        rows = s.exec(select(Certificate)).all()
    assert sorted(r.number for r in rows) == sorted(job["result"]["mains"])
    assert {r.holder_name for r in rows} == {o["name"] for o in organisations(range(3))}
    for number in job["result"]["mains"]:
        assert f'href="/staff/certificates/{number}"' in page
        out = subprocess.run(["pdfsig", str(home / "out" / f"{number}.pdf")],
                             capture_output=True, text=True).stdout
        assert "Signature is Valid" in out, out


@pytest.mark.postgres
def test_two_workers_on_postgresql_share_jobs_with_no_number_drawn_twice(on_postgres,
                                                                         signed_in, settings,
                                                                         engine, workers,
                                                                         wait_for, tmp_path,
                                                                         home):
    assert settings.job_queue_url == on_postgres
    procs = workers(2)
    ivy = signed_in("issuer")
    # four files of three organisations; the first two both name organisation 0
    files = [[0, 1, 2], [0, 3, 4], [5, 6, 7], [8, 9, 10]]
    locations = [submit(ivy, tmp_path, organisations(ids), f"批次{k}.json")
                 for k, ids in enumerate(files)]
    jobs = [ended(ivy, location, wait_for, procs) for location in locations]
    assert [j["state"] for j in jobs] == ["done"] * 4, jobs
    assert all(j["done"] == j["total"] == 3 and j["result"]["failed"] == [] for j in jobs)
    assert sum(len(j["result"]["skipped"]) for j in jobs) == 1  # organisation 0, once
    with Session(engine) as s:
        rows = s.exec(select(Certificate.number, Certificate.holder_name)).all()
        ran_in = s.exec(text("SELECT DISTINCT worker FROM job")).all()
    numbers = [n for n, _ in rows]
    assert len(numbers) == len(set(numbers)) == 11  # 11 organisations, one number each
    assert Counter(h for _, h in rows).most_common(1)[0][1] == 1
    assert len(ran_in) == 2, ran_in  # both workers took jobs
    audit = run_process("archive", "audit", "--json", home=home,
                        env={"CERTDESK_DATABASE_URL": on_postgres})
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_a_job_queued_while_no_server_ran_is_run_by_the_next_certdesk_serve(
        real_queue, signed_in, engine, wait_for, tmp_path, home):
    import socket

    ivy = signed_in("issuer")  # this app runs no consumer: the job waits on the queue
    location = submit(ivy, tmp_path, organisations(range(2)), "两家.json")
    assert ivy.get(f"{location}.json").json()["state"] == "queued"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CERTDESK_HOME": str(home), "CERTDESK_CONVERTER_WORKERS": "1"}
    env.pop("CERTDESK_QUEUE_URL", None)
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        server = subprocess.Popen([str(CERTDESK), "serve", "--port", str(port)], env=env,
                                  stdout=err, stderr=err, start_new_session=True)
    try:
        job = ended(ivy, location, wait_for, [server])
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
        # serve's upload-check workers outlive it (an existing leak, not the queue's)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
    assert job["state"] == "done" and len(job["result"]["mains"]) == 2, job
    assert "Application shutdown complete" in log.read_text(), log.read_text()[-3000:]


def test_a_worker_stopped_mid_job_leaves_it_interrupted_and_its_rerun_issues_each_once(
        real_queue, signed_in, engine, workers, wait_for, tmp_path, home):
    procs = workers(1)
    ivy = signed_in("issuer")
    location = submit(ivy, tmp_path, organisations(range(60)), "六十家.json")
    # stopped (SIGTERM, as a service manager stops it) once its first batch has been stored
    assert wait_for(lambda: ivy.get(f"{location}.json").json()["done"] > 0, timeout=300,
                    step=0.2)
    procs[0].send_signal(signal.SIGTERM)
    _out, err = procs[0].communicate(timeout=300)
    assert procs[0].returncode == 0, err[-3000:]
    stopped = ivy.get(f"{location}.json").json()
    assert stopped["state"] == "interrupted", stopped
    first = stopped["result"]["mains"]
    assert 0 < len(first) < 60 and all(line.endswith("interrupted")
                                       for line in stopped["result"]["failed"])
    assert run_process("archive", "audit", home=home).returncode == 0  # numbers voided

    workers(1)  # the next worker; the job runs again from its page
    assert ivy.post(f"{location}/rerun").status_code == 303
    again = ended(ivy, location, wait_for, [])
    assert again["state"] == "done" and again["result"]["failed"] == [], again
    assert len(again["result"]["skipped"]) == len(first)  # none issued twice
    assert len(first) + len(again["result"]["mains"]) == 60
    with Session(engine) as s:
        numbers = s.exec(select(Certificate.number)).all()
    assert len(numbers) == len(set(numbers)) == 60
    assert run_process("archive", "audit", home=home).returncode == 0
