"""``certdesk worker``: its help names the queue setting, and an install whose queue runs
jobs where they are submitted (``immediate:``) has nothing for a worker to do."""

from __future__ import annotations


def test_worker_help_names_the_queue_and_its_options(cli):
    result = cli("worker", "--help")
    assert result.returncode == 0
    assert "CERTDESK_QUEUE_URL" in result.stdout and "--workers" in result.stdout


def test_a_worker_on_an_immediate_queue_stops_with_one_line(cli):
    result = cli("worker", env={"CERTDESK_QUEUE_URL": "immediate:"})
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "immediate" in result.stderr


def test_a_worker_refuses_a_queue_url_it_cannot_use(cli, keyed_home):
    result = cli("worker", env={"CERTDESK_QUEUE_URL": "redis://localhost:6379"})
    assert result.returncode != 0 and "CERTDESK_QUEUE_URL" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def _job(engine, worker: str | None) -> int:
    from certdesk.store import jobs as table
    from certdesk.store.db import session_scope

    with session_scope(engine) as s:
        job_id = table.add_job(s, kind="issue", account="ivy", profile="xbht",
                               input_name="客户.json", input_data=b"[]", total=3).id
        if worker is not None:
            assert table.claim(s, job_id, worker)
    return job_id


def test_jobs_list_shows_the_latest_jobs_with_their_state_and_process(cli, engine):
    import json

    queued, running = _job(engine, None), _job(engine, "other-host:123:456")
    result = cli("jobs", "list", "--json")
    assert result.returncode == 0, result.stderr
    listed = {j["id"]: j for j in json.loads(result.stdout)["jobs"]}
    assert listed[queued]["state"] == "queued" and listed[running]["state"] == "running"
    assert listed[running]["worker"] == "other-host:123:456"
    assert (listed[queued]["done"], listed[queued]["total"]) == (0, 3)


def test_a_job_whose_machine_is_gone_is_marked_interrupted_and_logged(cli, engine):
    import json

    from sqlmodel import Session

    from certdesk.store.jobs import Job
    from tests.web.staff.conftest import logged

    job_id = _job(engine, "gone-host:123:456")
    result = cli("jobs", "interrupt", str(job_id), "--as", "wang", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"id": job_id, "state": "interrupted",
                                         "worker": "gone-host:123:456"}
    with Session(engine) as s:
        assert s.get(Job, job_id).state == "interrupted"
    [entry] = logged(engine, "job.interrupted", f"job:{job_id}")
    assert entry.actor == "wang"
    again = cli("jobs", "interrupt", str(job_id))
    assert again.returncode != 0 and "is interrupted: it has ended" in again.stderr


def test_a_queued_job_the_queue_lost_is_marked_interrupted(cli, engine):
    from sqlmodel import Session

    from certdesk.services.jobs import ABANDONED
    from certdesk.store.jobs import Job

    job_id = _job(engine, None)
    assert cli("jobs", "interrupt", str(job_id)).returncode == 0
    with Session(engine) as s:
        job = s.get(Job, job_id)
        assert (job.state, job.error) == ("interrupted", ABANDONED)


def test_a_job_of_a_live_process_of_this_machine_is_not_marked(cli, engine):
    from certdesk.common.proc import process_tag

    job_id = _job(engine, process_tag())  # this process: it runs
    result = cli("jobs", "interrupt", str(job_id))
    assert result.returncode != 0 and "which still runs" in result.stderr
    assert cli("jobs", "interrupt", "999").returncode != 0
