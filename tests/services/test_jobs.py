"""Background jobs (``services.jobs``): state moves, progress per organisation, a job run
once however often its id is delivered, a dead worker's job marked interrupted and run
again without a second certificate, and a queued job surviving a restart of its process."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from certdesk.common.errors import InputError
from certdesk.common.settings import Settings
from certdesk.domain.uscc import check_character
from certdesk.services.inputs import OrganisationInput
from certdesk.services.jobs import WORKER_DIED, Jobs, export_input, open_queue, translated
from certdesk.store import jobs as table
from certdesk.store import register
from certdesk.store.db import session_scope
from certdesk.store.jobs import Job, JobState
from certdesk.store.models import Certificate, VoidNumber
from certdesk.store.register import RegisterQuery
from tests.register.support import ROWS, seed


def _uscc(i: int) -> str:
    body = f"9111010{i:010d}"[:17]
    return body + check_character(body)


def organisations(n: int) -> list[dict]:
    return [{"name": f"任务测试公司{i}", "uscc": _uscc(i), "registered_address": "北京市",
             "scope": "家用电器的维修", "grade": "三星级", "decision_date": "2026-03-10",
             "issue_date": "2026-03-15"} for i in range(n)]


def as_file(orgs: list[dict]) -> bytes:
    return json.dumps(orgs, ensure_ascii=False).encode()


@pytest.fixture
def jobs(issuer, settings, engine) -> Jobs:
    """The fast tier's queue (``immediate:``): a job runs inside ``submit``."""
    return Jobs(settings, engine, lambda: issuer)


def submit(jobs: Jobs, orgs: list[dict]) -> int:
    return jobs.submit("issue", account="ivy", profile="xbht", input_name="batch.json",
                       input_data=as_file(orgs), total=len(orgs))


def job(engine, job_id: int) -> Job:
    with Session(engine) as s:
        row = s.get(Job, job_id)
        assert row is not None
        return row


def certificates(engine) -> list[str]:
    with Session(engine) as s:
        return sorted(s.exec(select(Certificate.number)).all())


def test_a_submitted_job_runs_to_done_counting_each_organisation(jobs, engine, monkeypatch):
    counted: list[int] = []
    progress = table.progress
    monkeypatch.setattr(table, "progress",
                        lambda s, job_id, done, total=None: (counted.append(done),
                                                             progress(s, job_id, done, total)))
    job_id = submit(jobs, organisations(3))
    row = job(engine, job_id)
    assert (row.state, row.total, row.done, row.account) == (JobState.DONE, 3, 3, "ivy")
    assert counted == [1, 2, 3]
    assert row.started is not None and row.finished is not None and row.error is None
    assert sorted(row.result["mains"]) == certificates(engine) and len(certificates(engine)) == 3
    assert row.result["skipped"] == [] and row.result["failed"] == []


def test_bad_lines_of_the_file_are_the_jobs_failed_lines_and_the_others_issue(jobs, engine):
    orgs = organisations(2)
    orgs[1]["uscc"] = orgs[1]["uscc"][:-1] + ("X" if orgs[1]["uscc"][-1] != "X" else "Y")
    row = job(engine, submit(jobs, orgs))
    assert row.state == JobState.DONE and len(row.result["mains"]) == 1
    [line] = row.result["failed"]
    assert line.startswith("batch.json：第 2 条记录")
    assert translated(row.result, "en")["failed"][0].startswith("batch.json: record 2")


def test_a_job_delivered_twice_runs_once(jobs, engine):
    job_id = submit(jobs, organisations(2))
    jobs.run(job_id)  # the queue handing the same id out again
    assert len(certificates(engine)) == 2
    assert job(engine, job_id).result["skipped"] == []


def test_a_running_job_whose_worker_died_is_marked_interrupted_and_its_rerun_issues_no_twice(
        jobs, engine, issuer):
    orgs = organisations(3)
    with session_scope(engine) as s:
        job_id = table.add_job(s, kind="issue", account="ivy", profile="xbht",
                               input_name="batch.json", input_data=as_file(orgs), total=3).id
        # a worker of this machine that has stopped (its pid is now another process's)
        assert table.claim(s, job_id, f"{socket.gethostname()}:{os.getpid()}:1")
    # it had issued the first organisation when it died
    issuer.issue(_org(orgs[0]))
    assert jobs.recover() == [job_id]
    row = job(engine, job_id)
    assert row.state == JobState.INTERRUPTED and row.error == WORKER_DIED
    assert jobs.recover() == []  # marked once
    assert jobs.rerun(job_id, "adam")
    row = job(engine, job_id)
    assert row.state == JobState.DONE and (row.done, row.total) == (3, 3)
    assert row.account == "adam"  # who re-ran it issued the rest
    assert len(row.result["mains"]) == 2 and len(row.result["skipped"]) == 1
    assert orgs[0]["name"] in row.result["skipped"][0]
    assert len(certificates(engine)) == 3  # one each: none issued twice


def _org(record: dict) -> OrganisationInput:
    from certdesk.services.inputs import parse_json

    [org] = parse_json(json.dumps([record], ensure_ascii=False), "one.json")
    assert isinstance(org, OrganisationInput)
    return org


def test_a_job_of_a_live_worker_on_this_machine_is_left_running(jobs, engine):
    from certdesk.common.proc import process_tag

    with session_scope(engine) as s:
        job_id = table.add_job(s, kind="issue", account="ivy", profile="xbht",
                               input_name="batch.json", input_data=b"[]", total=0).id
        assert table.claim(s, job_id, process_tag())
    assert jobs.recover() == []
    assert job(engine, job_id).state == JobState.RUNNING


def test_stopping_the_workers_ends_the_job_interrupted_with_no_number_left_drawn(jobs, engine):
    jobs.stop()  # as a consumer's shutdown does while the job runs
    job_id = submit(jobs, organisations(2))
    row = job(engine, job_id)
    assert row.state == JobState.INTERRUPTED and certificates(engine) == []
    with Session(engine) as s:
        drawn = s.exec(text("SELECT count(*) FROM event WHERE kind = 'number.drawn'")).one()[0]
        assert drawn == len(s.exec(select(VoidNumber)).all())


def test_only_an_interrupted_or_failed_job_can_be_queued_again(jobs, engine):
    job_id = submit(jobs, organisations(1))
    assert not jobs.rerun(job_id, "ivy")
    assert job(engine, job_id).state == JobState.DONE and len(certificates(engine)) == 1


def test_a_job_whose_whole_file_is_unreadable_fails_with_its_reason(jobs, engine):
    job_id = jobs.submit("issue", account="ivy", profile="xbht", input_name="batch.json",
                         input_data=b"{not json", total=1)
    row = job(engine, job_id)
    assert row.state == JobState.FAILED and "batch.json" in (row.error or "")


def test_an_unknown_kind_of_job_is_refused_before_anything_is_stored(jobs, engine):
    with pytest.raises(InputError, match="未知的任务类型"):
        jobs.submit("archive", account="ivy", profile="xbht", input_name="x", input_data=b"",
                    total=0)
    with Session(engine) as s:
        assert s.exec(select(Job)).all() == []


def test_a_state_outside_the_five_is_refused_by_the_database(engine):
    with session_scope(engine) as s:
        job_id = table.add_job(s, kind="issue", account="ivy", profile="xbht", input_name="x",
                               input_data=b"", total=0).id
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.exec(text(f"UPDATE job SET state = 'paused' WHERE id = {job_id}"))


def test_the_queue_is_a_file_beside_a_sqlite_database_and_the_postgresql_database_itself(
        tmp_path):
    home = tmp_path / "home"
    embedded = Settings(home=home, database_url=None, queue_url=None)
    assert embedded.job_queue_url == f"sqlite:///{home / 'certdesk-queue.db'}"
    pg = "postgresql+psycopg://certdesk@db.example:5432/certdesk"
    assert Settings(home=home, database_url=pg, queue_url=None).job_queue_url == pg
    assert Settings(home=home, queue_url="immediate:").job_queue_url == "immediate:"
    with pytest.raises(InputError, match="CERTDESK_QUEUE_URL"):
        open_queue(Settings(home=home, queue_url="redis://localhost"))


def test_a_job_queued_before_a_restart_runs_when_the_next_process_consumes(
        issuer, settings, engine, wait_for, tmp_path):
    queue = Settings(**{**settings.model_dump(), "queue_url":
                        f"sqlite:///{tmp_path / 'queue.db'}"})
    before = Jobs(queue, engine, lambda: issuer)
    job_id = submit(before, organisations(2))
    assert job(engine, job_id).state == JobState.QUEUED  # nothing consumes yet
    del before  # the process that queued it is gone
    after = Jobs(queue, engine, lambda: issuer)
    consumer = after.consumer(in_thread=True)
    consumer.start()
    try:
        assert wait_for(lambda: job(engine, job_id).state in table.ENDED, timeout=60)
    finally:
        consumer.stop()
    assert job(engine, job_id).state == JobState.DONE and len(certificates(engine)) == 2
    assert (tmp_path / "queue.db").stat().st_mode & 0o777 == 0o600  # as the database's


def test_an_export_job_writes_the_view_in_its_row_counting_rows_as_it_writes(
        jobs, engine, monkeypatch):
    made = seed(engine)
    monkeypatch.setattr(register, "PROGRESS_EVERY", 2)
    counted: list[tuple[int, int | None]] = []
    progress = table.progress
    monkeypatch.setattr(table, "progress",
                        lambda s, job_id, done, total=None: (counted.append((done, total)),
                                                             progress(s, job_id, done, total)))
    view = RegisterQuery(profile="xbht", issued_from=date(2000, 1, 1), sort="holder",
                         descending=True)
    job_id = jobs.submit("export", account="rhea", profile="xbht", input_name="v.csv",
                         input_data=export_input(".csv", view, date.today()), total=0)
    row = job(engine, job_id)
    assert (row.state, row.total, row.done) == (JobState.DONE, 5, 5)
    assert counted == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert row.result["rows"] == 5 and row.result["suffix"] == ".csv"
    with Session(engine) as s:
        output = table.output(s, job_id)
    assert output is not None and output.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(output.decode("utf-8-sig"))))[1:]
    xbht = sorted((r for r in ROWS if r.profile == "xbht"), key=lambda r: r.name, reverse=True)
    assert [line[0] for line in lines] == [made[r.key] for r in xbht]


def test_an_export_job_of_an_unknown_format_fails_with_its_reason_and_no_file(jobs, engine):
    bad = json.dumps({"suffix": ".pdf", "today": "2026-11-29", "query": {}}).encode()
    job_id = jobs.submit("export", account="rhea", profile="", input_name="v.pdf",
                         input_data=bad, total=0)
    row = job(engine, job_id)
    assert row.state == JobState.FAILED and "导出格式应为 .xlsx 或 .csv" in (row.error or "")
    with Session(engine) as s:
        assert table.output(s, job_id) is None
