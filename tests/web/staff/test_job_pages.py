"""The desk's job pages: a batch form post lands on its job's page, which shows progress
while it runs (polled as JSON, or refreshed without script) and then the result with the
numbers as links; each job is for the roles of its action; "run again" is a CSRF-checked
post that only an interrupted or failed job accepts; a reloaded form starts no second job."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from certdesk.store import jobs as table
from certdesk.store.db import session_scope
from certdesk.store.jobs import Job
from tests.web.staff.conftest import CLIENT, MAIN, finished_job, logged
from tests.web.staff.test_actions import confirm, form_token, issue

ONE_SITE = {**CLIENT, "sites": []}


@pytest.fixture
def batch(tmp_path):
    path = tmp_path / "客户.json"
    path.write_text(json.dumps([ONE_SITE], ensure_ascii=False), encoding="utf-8")
    return path


def queued_job(engine, kind: str = "issue", account: str = "ivy", data: bytes = b"[]") -> int:
    """A job as a web process leaves it for the workers."""
    with session_scope(engine) as s:
        job_id = table.add_job(s, kind=kind, account=account, profile="xbht",
                               input_name="客户.json", input_data=data, total=1).id
    assert job_id is not None
    return job_id


def test_a_batch_lands_on_its_job_page_which_shows_the_result_with_links(signed_in, batch):
    ivy = signed_in("issuer")
    response = issue(ivy, batch)
    job = finished_job(ivy, response)
    assert (job["kind"], job["total"], job["done"], job["account"]) == ("issue", 1, 1, "ivy")
    assert job["summary"] == "已签发 1 张证书（含分证书共 1 份）"
    page = ivy.get(response.headers["location"])
    assert "已完成" in page.text and "已签发 1 张证书" in page.text
    assert f'href="/staff/certificates/{MAIN}"' in page.text
    assert "jobs.js" not in page.text and "refresh" not in page.text  # nothing left to poll


def test_a_queued_jobs_page_polls_with_a_script_and_refreshes_without_one(signed_in, engine):
    job_id = queued_job(engine)
    ivy = signed_in("issuer")
    page = ivy.get(f"/staff/jobs/{job_id}")
    assert page.status_code == 200 and "排队中" in page.text and "0 / 1" in page.text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text
    assert '<script src="/staff/static/jobs.js" defer></script>' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
    script = ivy.get("/staff/static/jobs.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript") and f"/staff/jobs/{job_id}.json" in page.text
    assert ivy.get(f"/staff/jobs/{job_id}.json").json()["state"] == "queued"


def test_the_poll_reads_its_state_words_from_the_page_in_the_pages_language(signed_in, engine):
    job_id = queued_job(engine)
    ivy = signed_in("issuer")
    ivy.http.headers["Accept-Language"] = "en"
    page = ivy.get(f"/staff/jobs/{job_id}").text
    words = json.loads(page.split("data-states='")[1].split("'")[0])
    assert words["queued"] == "queued" and words["done"] == "done"
    assert ivy.get(f"/staff/jobs/{job_id}.json").json()["state_label"] == "queued"
    assert "data-states" in ivy.get("/staff/static/jobs.js").text


def test_a_job_is_shown_only_to_the_roles_that_may_do_its_action(signed_in, engine):
    issue_job, certify_job = queued_job(engine), queued_job(engine, "certify", "dora")
    rhea, ivy, dora = (signed_in(r) for r in ("records_officer", "issuer", "decision_maker"))
    for path in (f"/staff/jobs/{issue_job}", f"/staff/jobs/{issue_job}.json"):
        assert rhea.get(path).status_code == 403
        assert dora.get(path).status_code == 403
    assert ivy.get(f"/staff/jobs/{certify_job}").status_code == 403
    assert dora.get(f"/staff/jobs/{certify_job}.json").status_code == 200
    listed = ivy.get("/staff/jobs").text
    assert f"#{issue_job}</a>" in listed and f"#{certify_job}</a>" not in listed
    assert "还没有任务" in rhea.get("/staff/jobs").text
    assert signed_in("admin").get(f"/staff/jobs/{certify_job}").status_code == 200


def test_an_unknown_job_is_a_404_page(signed_in):
    assert signed_in("issuer").get("/staff/jobs/999").status_code == 404


def test_submitting_the_same_form_twice_starts_one_job(signed_in, engine, batch):
    ivy = signed_in("issuer")
    with batch.open("rb") as fh:
        upload = ivy.post("/staff/issue", {"profile": "xbht", "form_token": form_token(ivy)},
                          files={"file": (batch.name, fh, "application/json")})
    preview = ivy.get(upload.headers["location"]).text
    finished_job(ivy, confirm(ivy, preview))
    again = confirm(ivy, preview)  # a second click, or the page reloaded and sent again
    assert again.status_code == 400 and "这份预览已失效" in again.text
    with Session(engine) as s:
        assert len(s.exec(select(Job)).all()) == 1


def test_an_interrupted_job_runs_again_from_its_page_with_the_forms_csrf_token(signed_in,
                                                                                engine):
    job_id = queued_job(engine, data=json.dumps([ONE_SITE], ensure_ascii=False).encode())
    with session_scope(engine) as s:
        assert table.claim(s, job_id, "elsewhere:1:1")
        assert table.interrupt(s, job_id, "处理该任务的进程已停止")
    ivy = signed_in("issuer")
    page = ivy.get(f"/staff/jobs/{job_id}").text
    assert "已中断" in page and "处理该任务的进程已停止" in page and "重新运行" in page
    assert ivy.post(f"/staff/jobs/{job_id}/rerun", csrf="forged").status_code == 403
    assert signed_in("records_officer").post(f"/staff/jobs/{job_id}/rerun").status_code == 403
    adam = signed_in("admin")  # who re-runs it is the actor of what it now issues
    response = adam.post(f"/staff/jobs/{job_id}/rerun")
    assert response.status_code == 303 and response.headers["location"] == f"/staff/jobs/{job_id}"
    job = finished_job(adam, response)
    assert job["result"]["mains"] == [MAIN] and job["account"] == "adam"
    assert [e.actor for e in logged(engine, "certificate.issued", MAIN)] == ["adam"]
    again = ivy.post(f"/staff/jobs/{job_id}/rerun")
    assert again.status_code == 400 and "已完成，不能重新运行" in again.text


def test_a_decision_maker_sees_the_certify_jobs_result(signed_in, tmp_path):
    from tests.web.staff.test_actions import case_file, issue

    dora = signed_in("decision_maker")
    response = issue(dora, case_file(tmp_path), page="/staff/certify")
    job = finished_job(dora, response)
    assert job["kind"] == "certify" and (job["done"], job["total"]) == (1, 1)
    page = dora.get(response.headers["location"]).text
    assert "已作出 1 项认证决定：批准 1 项" in page and f"/staff/certificates/{MAIN}" in page
    english = dora.get(response.headers["location"] + "?lang=en").text
    assert "1 certification decision(s) made: 1 approved" in english and "done" in english


def test_the_calendar_sweep_runs_as_a_job_listing_its_actions(signed_in, engine, today,
                                                               batch):
    from datetime import date

    ivy = signed_in("issuer")
    today(date(2026, 11, 29))
    finished_job(ivy, issue(ivy, batch))
    today(date(2027, 6, 1))  # no surveillance held within the year: suspended
    preview = ivy.post("/staff/sweep", {"on": "2027-06-01", "preview": "1"})
    assert preview.headers["location"] == "/staff/due"
    with Session(engine) as s:
        assert len(s.exec(select(Job)).all()) == 1  # the issue's: a preview starts no job
    response = ivy.post("/staff/sweep", {"on": "2027-06-01"})
    job = finished_job(ivy, response)
    assert (job["kind"], job["total"], job["done"]) == ("sweep", 1, 1)
    assert job["summary"] == "日历检查（2027-06-01）完成：1 项处理。"
    page = ivy.get(response.headers["location"]).text
    assert f"暂停 {MAIN}：" in page and f'href="/staff/certificates/{MAIN}"' in page
    english = ivy.get(response.headers["location"] + "?lang=en").text
    assert "Job #2: Calendar check" in english and f"suspended {MAIN}: " in english
    assert "Calendar check (2027-06-01) done: 1 item(s) handled." in english
    assert [e.actor for e in logged(engine, "staff.sweep", "sweep:2027-06-01")] == ["ivy"]
    assert signed_in("decision_maker").get(response.headers["location"]).status_code == 403


def test_a_sweep_on_another_day_is_refused_before_a_job_is_queued(signed_in, engine, today):
    from datetime import date

    today(date(2027, 6, 1))
    refused = signed_in("issuer").post("/staff/sweep", {"on": "2027-06-02"})
    assert refused.status_code == 409 and "sweep.today_only" in refused.text
    with Session(engine) as s:
        assert s.exec(select(Job)).all() == []


def test_the_apps_own_consumer_runs_a_queued_job_while_the_app_runs(keyed_home, monkeypatch,
                                                                   accounts, batch, tmp_path,
                                                                   wait_for, converter):
    """``certdesk serve``'s default: the desk's lifespan starts a consumer thread on the
    SQLite queue and stops it with the app."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from certdesk.common.settings import get_settings
    from certdesk.store.db import make_engine
    from certdesk.web.staff.router import mount
    from tests.web.staff.conftest import StaffClient

    monkeypatch.setenv("CERTDESK_QUEUE_URL", f"sqlite:///{tmp_path / 'queue.db'}")
    get_settings.cache_clear()
    settings = get_settings()
    engine = make_engine(settings.db_url)
    app = FastAPI()
    mount(app, settings, engine, pool=converter)
    with TestClient(app) as http:  # the lifespan runs: the consumer starts
        ivy = StaffClient(http)
        assert ivy.login("ivy").status_code == 303
        response = issue(ivy, batch)
        location = response.headers["location"]
        assert wait_for(lambda: ivy.get(f"{location}.json").json()["state"] == "done",
                        timeout=60)
        assert ivy.get(f"{location}.json").json()["result"]["mains"] == [MAIN]
    engine.dispose()
