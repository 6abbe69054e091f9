"""Safe by default, from the command line with real LibreOffice: a batch run twice issues
once, every ``--dry-run`` leaves rows, blobs, counters, log and out/ exactly as they were,
dates in the future or too far back are refused naming the rule, and a back-dated
revocation cannot make records disposable early."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from importlib import resources

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from certdesk.common.errors import AlreadyHeld
from certdesk.domain.uscc import check_character
from certdesk.store.db import make_engine
from certdesk.store.models import Certificate, Event, VoidNumber
from tests.conftest import REPO
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED

DAY = date(2026, 11, 29)
DEMO = json.loads(resources.files("certdesk.cli").joinpath("demo.json").read_text(encoding="utf-8"))
MAIN = "027326FWF0001R000"
"""The demo's certificate: the first XBHT number of 2026."""


def _uscc(i: int) -> str:
    body = f"9111010{i:010d}"[:17]
    return body + check_character(body)


def _orgs(n: int, start: int = 0) -> list[dict]:
    return [{"name": f"重跑测试公司{i}", "uscc": _uscc(i), "registered_address": "北京市",
             "scope": "家用电器的维修", "grade": "三星级", "decision_date": "2026-11-20"}
            for i in range(start, start + n)]


def snapshot(settings) -> dict:
    """Everything a command could change: row counts of every table, the number counters,
    the log head, and every file in the home (blobs, keys, out/) but the database's own."""
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as c:
            rows = {t: c.execute(text(f'SELECT count(*) FROM "{t}"')).scalar()
                    for t in inspect(engine).get_table_names()}
            counters = c.execute(text("SELECT body_code, scheme, year, last_value "
                                      "FROM numbercounter ORDER BY 1, 2, 3")).all()
            head = c.execute(text("SELECT * FROM loghead")).all()
    finally:
        engine.dispose()
    files = sorted((str(p.relative_to(settings.home)), p.stat().st_size)
                   for p in settings.home.rglob("*")
                   if p.is_file() and not p.name.startswith("certdesk.db"))
    return {"rows": rows, "counters": counters, "log": head, "files": files}


def write(tmp_path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def events(settings, kind: str) -> list[dict]:
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as c:
            return [json.loads(d) for (d,) in c.execute(
                text("SELECT data FROM event WHERE kind = :k ORDER BY seq"), {"k": kind})]
    finally:
        engine.dispose()


@pytest.fixture
def demo(cli, keyed_home, today, settings):
    """A home holding the demo certificate (issued 2026-11-23), today 2026-11-29."""
    today(DAY)
    out = cli("demo", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["certificates"][0]["number"] == MAIN
    return settings


# -- 1. idempotent issuing ---------------------------------------------------------------------

def test_the_same_batch_run_twice_issues_once_and_reports_the_skips(keyed_home, cli, today,
                                                                     settings, tmp_path):
    today(DAY)
    batch = write(tmp_path, "batch.json", _orgs(3))
    first = cli("issue", "-p", "xbht", "-i", batch, "--json")
    assert first.returncode == 0, first.stderr
    issued = [c["number"] for c in json.loads(first.stdout)["certificates"]]
    assert len(issued) == 3
    before = snapshot(settings)
    second = cli("issue", "-p", "xbht", "-i", batch, "--json")
    assert second.returncode == 0, second.stderr
    data = json.loads(second.stdout)
    assert data["certificates"] == [] and data["failed"] == []
    assert sorted(s["number"] for s in data["skipped"]) == sorted(issued)
    assert all(f"already holds the current certificate {s['number']} (" in s["reason"]
               for s in data["skipped"])
    assert data["summary"]["skipped"] == 3
    assert snapshot(settings) == before  # nothing drawn, logged or written
    human = cli("issue", "-p", "xbht", "-i", batch)
    assert human.returncode == 0
    assert human.stdout.count("already holds the current certificate") == 3


def test_the_demo_run_again_issues_no_second_certificate(demo, cli):
    before = snapshot(demo)
    again = cli("demo", "--json")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["certificates"] == [] and [s["number"] for s in data["skipped"]] == [MAIN]
    assert snapshot(demo) == before


def test_an_organisation_listed_twice_in_one_file_gets_one_certificate(keyed_home, cli, today,
                                                                       settings, tmp_path):
    today(DAY)
    twice = _orgs(1) * 2 + _orgs(1, start=5)
    out = cli("issue", "-p", "xbht", "-i", write(tmp_path, "twice.json", twice), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    mains = [c["number"] for c in data["certificates"] if c["main_number"] is None]
    assert len(mains) == 2 and len(data["skipped"]) == 1
    assert data["skipped"][0]["number"] in mains
    # a number drawn by the loser of a race is recorded void, never left as a gap
    assert len(events(settings, "number.drawn")) == 2 + len(events(settings, "number.void"))


def test_certify_refuses_an_organisation_holding_a_certificate_with_the_same_rule(demo, cli,
                                                                                  tmp_path):
    case = json.loads((REPO / "examples/certification/case.json").read_text(encoding="utf-8"))
    case.update(name=DEMO["name"], uscc=DEMO["uscc"])
    before = snapshot(demo)
    out = cli("certify", "-p", "xbht", write(tmp_path, "case.json", case))
    assert out.returncode != 0 and f"already holds the current certificate {MAIN}" in out.stderr
    assert snapshot(demo) == before


# -- 2. dry runs ---------------------------------------------------------------------------------

def test_every_dry_run_changes_no_row_blob_counter_log_entry_or_file(demo, cli, tmp_path):
    new_org = write(tmp_path, "new.json", _orgs(1))
    case = str(REPO / "examples/certification/case.json")
    report = str(REPO / "examples/certification/surveillance-report.json")
    commands = {
        "issue": ["issue", "-p", "xbht", "-i", new_org],
        "certify": ["certify", "-p", "xbht", case],
        "recertify": ["recertify", MAIN, "--decision", "2026-11-28"],
        "reissue": ["reissue", MAIN, "--reason", "名称变更", "--name", "恒信达（集团）有限公司"],
        "surveillance": ["surveillance", MAIN, "--held", "2026-11-28"],
        "surveillance --report": ["surveillance", MAIN, "--held", "2026-11-28",
                                  "--report", report],
        "status": ["status", MAIN, "suspend", "--reason", "未按期接受监督审查"],
        "sweep": ["lifecycle", "sweep"],
        "sweep --on a future day": ["lifecycle", "sweep", "--on", "2028-06-01"],
    }
    previews = {}
    for name, args in commands.items():
        before = snapshot(demo)
        out = cli(*args, "--dry-run", "--json")
        assert out.returncode == 0, (name, out.stderr)
        previews[name] = json.loads(out.stdout)
        assert previews[name]["dry_run"] is True, name
        assert snapshot(demo) == before, name
        human = cli(*args, "--dry-run")
        assert human.returncode == 0 and snapshot(demo) == before, (name, human.stderr)
    # the previews say what would happen, numbers as the next ones to be drawn
    assert previews["issue"]["would_issue"][0]["next_number"] == "027326FWF0002R000"
    assert previews["certify"]["cases"][0]["certificates"]["next_number"] == "027326FWF0002R000"
    assert [r["record_type"] for r in previews["certify"]["cases"][0]["records"]] == [
        "programme", "plan", "report", "nc_report", "decision"]
    assert previews["recertify"]["next_number"] == "027326FWF0002R100"
    assert previews["recertify"]["supersedes"] == MAIN
    assert previews["reissue"]["certificates"] == [MAIN, f"{MAIN}-1", f"{MAIN}-2", f"{MAIN}-3"]
    assert previews["surveillance"]["surveillance"] == 1
    assert previews["status"]["affected"] == [MAIN, f"{MAIN}-1", f"{MAIN}-2", f"{MAIN}-3"]
    assert previews["status"]["until"] == "2027-05-28"
    assert previews["sweep"]["actions"] == []
    assert [a["action"] for a in previews["sweep --on a future day"]["actions"]] == ["suspend"]
    # and the next number shown is the one a real run then draws
    real = cli("issue", "-p", "xbht", "-i", new_org, "--json")
    assert json.loads(real.stdout)["certificates"][0]["number"] == "027326FWF0002R000"


# -- 3. date guards ------------------------------------------------------------------------------

def refused(cli, settings, args: list[str], rule: str) -> str:
    before = snapshot(settings)
    out = cli(*args)
    assert out.returncode != 0, args
    assert rule in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert snapshot(settings) == before
    return out.stderr


def test_future_dates_are_refused_naming_the_rule(demo, cli, tmp_path):
    future = {**_orgs(1)[0], "decision_date": "2062-11-20"}
    message = refused(cli, demo, ["issue", "-p", "xbht", "-i",
                                  write(tmp_path, "future.json", [future])], "dates.no_future")
    assert "决定日期" in message and "2062-11-20" in message
    late_issue = {**_orgs(1)[0], "issue_date": "2026-12-01"}
    refused(cli, demo, ["issue", "-p", "xbht", "-i", write(tmp_path, "issue.json", [late_issue])],
            "dates.no_future")
    refused(cli, demo, ["surveillance", MAIN, "--held", "2026-11-30"], "dates.no_future")
    refused(cli, demo, ["recertify", MAIN, "--decision", "2026-12-01"], "dates.no_future")
    refused(cli, demo, ["reissue", MAIN, "--reason", "x", "--name", "y", "--on", "2026-12-01"],
            "dates.no_future")
    refused(cli, demo, ["status", MAIN, "revoke", "--reason", "x", "--on", "2026-11-30"],
            "dates.no_future")
    refused(cli, demo, ["lifecycle", "sweep", "--on", "2028-06-01"], "sweep.today_only")
    refused(cli, demo, ["lifecycle", "sweep", "--on", "2026-11-01"], "sweep.today_only")
    # a dry run of a future issue is refused the same way: it checks everything
    refused(cli, demo, ["issue", "-p", "xbht", "-i", str(tmp_path / "future.json"),
                        "--dry-run"], "dates.no_future")


def test_a_status_change_before_the_issue_date_is_refused(demo, cli):
    message = refused(cli, demo, ["status", MAIN, "revoke", "--reason", "x", "--on",
                                  "2021-01-01", "--backdate-reason", "补记"], "status.window")
    assert "发证日期" in message and "2026-11-23" in message


def test_back_dating_beyond_the_profile_limit_needs_a_reason_and_is_logged(demo, cli):
    # XBHT allows 5 days; 2026-11-23 is 6 days back
    refused(cli, demo, ["status", MAIN, "suspend", "--reason", "未按期整改", "--on",
                        "2026-11-23"], "status.max_backdate_days")
    out = cli("status", MAIN, "suspend", "--reason", "未按期整改", "--on", "2026-11-23",
              "--backdate-reason", "纸质决定 11 月 23 日已送达，系统录入延误", "--json")
    assert out.returncode == 0, out.stderr
    [logged, *_subs] = events(demo, "certificate.suspend")
    assert logged["backdated"] is True and logged["backdated_days"] == 6
    assert logged["recorded_on"] == "2026-11-29"
    assert logged["backdate_reason"] == "纸质决定 11 月 23 日已送达，系统录入延误"
    # not before the previous status change
    message = refused(cli, demo, ["status", MAIN, "restore", "--reason", "x", "--on",
                                  "2026-11-22", "--backdate-reason", "y"], "status.window")
    assert "上次状态变更" in message
    # within the limit no reason is needed, and it is still logged as back-dated
    out = cli("status", MAIN, "restore", "--reason", "整改完成", "--on", "2026-11-27")
    assert out.returncode == 0, out.stderr
    [restored, *_] = events(demo, "certificate.restore")
    assert restored["backdated"] is True and restored["backdated_days"] == 2
    assert "backdate_reason" not in restored


def test_a_back_dated_revocation_does_not_make_records_disposable_early(demo, cli, today):
    # revoked "on the issue day", recorded half a year later: the 2 years of retention
    # (XBHT: CACQ's default) run from the day it was recorded, not from the issue day
    today(date(2027, 6, 1))
    out = cli("status", MAIN, "revoke", "--reason", "虚假材料", "--on", "2026-11-23",
              "--backdate-reason", "撤销决定补录")
    assert out.returncode == 0, out.stderr
    listed = json.loads(cli("archive", "list", "--client", DEMO["uscc"], "--json").stdout)
    until = {r["retention"]["retain_until"] for r in listed["records"]}
    assert until == {"2029-06-01"}
    due = json.loads(cli("retention", "due", "--on", "2029-01-01", "--json").stdout)["due"]
    assert due == []


def test_two_issues_for_one_organisation_at_once_give_one_certificate(issuer):
    """The check before the draw may pass for both; the re-check under the organisation's
    row lock lets one win, and a number drawn by the other is recorded void."""
    def attempt(_: int):
        try:
            return issuer.issue(TWO_SITES)
        except AlreadyHeld as exc:
            return exc

    with ThreadPoolExecutor(2) as ex:
        outcomes = list(ex.map(attempt, range(2)))
    [won] = [o for o in outcomes if isinstance(o, list)]
    [lost] = [o for o in outcomes if isinstance(o, AlreadyHeld)]
    assert lost.number == won[0].number
    with Session(issuer.engine) as s:
        mains = s.exec(select(Certificate).where(Certificate.main_number.is_(None))).all()
        drawn = s.exec(select(Event).where(Event.kind == "number.drawn")).all()
        voided = s.exec(select(VoidNumber)).all()
    assert [m.number for m in mains] == [won[0].number]
    assert len(drawn) == 1 + len(voided)


@pytest.fixture
def pg_issuer(postgres_url, home, office_or_fake):
    """An XBHT issuer on a fresh database of the suite's PostgreSQL server."""
    from uuid import uuid4

    from sqlalchemy import create_engine

    from certdesk.services.issuing import Issuer
    from certdesk.store.db import init_db

    name = f"i13_{uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(postgres_url.rsplit("/", 1)[0] + f"/{name}")
    init_db(engine)
    with Issuer(SHIPPED.get("xbht"), engine=engine, pool=office_or_fake) as issuer:
        yield issuer
    engine.dispose()


@pytest.mark.postgres
def test_two_issues_for_a_new_organisation_at_once_on_postgresql_give_one_certificate(
        pg_issuer):
    test_two_issues_for_one_organisation_at_once_give_one_certificate(pg_issuer)
