"""Time limits after an audit, wired: a surveillance recorded without its report puts its
service-feature evaluation [CACQ 7.3.4.4] and its report [CACQ 7.9.1] on the due list until
the report is archived; a late report or evaluation is warned of and logged; a case's report
dated late is warned of at certification."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from certdesk.common.settings import get_settings
from certdesk.documents.kinds import Build
from certdesk.services.certification import certify, prepare, record_surveillance_report
from certdesk.services.cycle import due_list, record_surveillance
from certdesk.services.issuing import Issuer
from certdesk.store.models import Event
from tests.english import raises_en
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED

pytestmark = pytest.mark.office

REPO = Path(__file__).resolve().parents[2]
CASE = json.loads((REPO / "examples/certification/case.json").read_text(encoding="utf-8"))
REPORT = json.loads((REPO / "examples/certification/surveillance-report.json")
                    .read_text(encoding="utf-8"))
HELD = date(2027, 3, 10)


@pytest.fixture
def cacq(home, settings, pool):
    with Issuer(SHIPPED.get("cacq"), pool=pool) as issuer:
        yield issuer


def _follow_ups(engine, on):
    return [(i.kind, i.surveillance, i.due_by, i.overdue) for i in due_list(engine, SHIPPED, on)
            if i.kind in ("service_feature", "report")]


def test_a_surveillance_without_its_report_lists_the_evaluation_and_report_as_due(cacq, today):
    number = cacq.issue(TWO_SITES)[0].number
    today(HELD)
    record_surveillance(cacq.engine, cacq.profiles, number, HELD)
    # CACQ 7.3.4.4: evaluation 2 months after the management audit; 7.9.1: report 1 month
    # after the audit's end, at the latest a month after the evaluation's last day
    assert _follow_ups(cacq.engine, date(2027, 5, 11)) == [
        ("service_feature", 1, date(2027, 5, 10), True), ("report", 1, date(2027, 6, 10), False)]
    item = next(i for i in due_list(cacq.engine, cacq.profiles, date(2027, 5, 11))
                if i.kind == "report")
    assert "[CACQ 7.9.1]" in item.rule and str(HELD) in item.rule


def test_archiving_the_report_later_clears_the_follow_ups_and_logs_its_lateness(cacq, today):
    number = cacq.issue(TWO_SITES)[0].number
    today(HELD)
    record_surveillance(cacq.engine, cacq.profiles, number, HELD)
    today(date(2027, 6, 20))
    late = {**REPORT, "end": HELD.isoformat(), "feature_date": "2027-04-20",
            "date": "2027-06-20"}
    n, kept, notice = record_surveillance_report(cacq, number, HELD, [late], "report.json",
                                                 actor="ivy")
    assert n == 1 and kept is not None and notice is not None  # the same surveillance
    assert _follow_ups(cacq.engine, date(2027, 6, 20)) == []
    with Session(cacq.engine) as s:
        attached = json.loads(s.exec(select(Event.data).where(
            Event.kind == "certificate.surveillance_report")).one())
        held = s.exec(select(Event).where(Event.kind == "certificate.surveillance")).all()
    assert len(held) == 1 and attached["report"] == kept.sha256
    (warning,) = attached["late"]
    assert "by 2027-05-20 [CACQ 7.9.1]" in warning
    # the next audit is the second surveillance
    (nxt,) = [i for i in due_list(cacq.engine, cacq.profiles, date(2027, 6, 20))
              if i.kind == "surveillance"]
    assert nxt.surveillance == 2


def test_a_report_is_attached_once(cacq, today):
    from certdesk.common.errors import InputError

    number = cacq.issue(TWO_SITES)[0].number
    today(date(2027, 4, 1))
    record_surveillance(cacq.engine, cacq.profiles, number, HELD)
    report = {**REPORT, "end": HELD.isoformat(), "date": "2027-03-20"}
    record_surveillance_report(cacq, number, HELD, [report], "report.json", actor="ivy")
    with raises_en(InputError, match="not after the last one"):
        record_surveillance_report(cacq, number, HELD, [report], "report.json", actor="ivy")


def test_a_body_whose_seed_sets_no_limit_lists_no_follow_ups(home, settings, pool, today):
    with Issuer(SHIPPED.get("xbht"), pool=pool) as xbht:
        number = xbht.issue(TWO_SITES)[0].number
        today(HELD)
        record_surveillance(xbht.engine, xbht.profiles, number, HELD)
        assert _follow_ups(xbht.engine, date(2027, 12, 1)) == []


def test_a_case_whose_report_is_dated_late_is_certified_with_the_warning_logged(cacq, today):
    # CACQ 7.9.1: the report within 1 month of the audit (ended 2026-10-14)
    today(date(2026, 11, 23))
    job = Build(cacq.profile, get_settings(), 1, date(2026, 11, 23))
    prepared = prepare(job, {**CASE, "report": {**CASE["report"], "date": "2026-11-16"}},
                       "case.json")
    (warning,) = prepared.warnings
    assert warning.startswith("case.json: report dated 2026-11-16 is late")
    assert "[CACQ 7.9.1]" in warning
    done = certify(cacq, prepared)
    assert done.warnings == prepared.warnings and done.as_dict()["warnings"] == [warning]
    with Session(cacq.engine) as s:
        decided = json.loads(s.exec(select(Event.data).where(
            Event.kind == "certification.decided")).one())
    assert decided["late"] == [warning]


def test_a_case_reported_in_time_has_no_warning(home):
    job = Build(SHIPPED.get("cacq"), get_settings(), 1, date(2026, 11, 23))
    assert prepare(job, CASE, "case.json").warnings == ()


def test_the_command_line_shows_a_late_reports_warning(cacq, home, today):
    from tests.conftest import run_cli

    number = cacq.issue(TWO_SITES)[0].number
    today(date(2027, 6, 20))
    path = home / "late-report.json"
    path.write_text(json.dumps({**REPORT, "end": HELD.isoformat(), "date": "2027-06-20"},
                               ensure_ascii=False), encoding="utf-8")
    out = run_cli("surveillance", number, "--held", HELD.isoformat(), "--report", str(path),
                  "--json", home=home)
    assert out.returncode == 0, out.stderr
    (warning,) = json.loads(out.stdout)["warnings"]
    assert "report dated 2027-06-20 is late" in warning and "[CACQ 7.9.1]" in warning
