"""The suspension period as stored and enforced: restoring after it has run out is refused
in every body (the seeds revoke instead: CACQ 9.1.3, 9.2.1(3); DNI/DNI-SH 6.8.2 1);
ZPIC 7.2.2, 7.3.1 7); XBHT 8.2.2, 8.3(3)); a per-case period (CACQ 8.1.2 in 9.1, DNI
6.7.2 3), ZPIC 7.2.3) drives both the restore check and the sweep."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import Session, select

from certdesk.common.errors import InputError, RuleViolation
from certdesk.services.cycle import sweep
from certdesk.services.inputs import OrganisationInput
from certdesk.services.issuing import Issuer
from certdesk.services.transitions import change_status
from certdesk.store.models import Certificate, Event
from tests.conftest import run_cli
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED, rules_of


def _org(pid: str) -> OrganisationInput:
    graded = SHIPPED.get(pid).scheme.graded
    return OrganisationInput(
        name="暂停测试服务有限公司", uscc="91110105MA01XB8H2N", registered_address="北京市朝阳区",
        scope="家用电器的维修", decision_date=date(2026, 3, 10),
        grade=rules_of(pid).scoring.grade_names[-1] if graded else None)


def _row(engine, number) -> Certificate:
    with Session(engine) as s:
        return s.exec(select(Certificate).where(Certificate.number == number)).one()


@pytest.mark.parametrize("pid", SHIPPED.ids())
def test_restoring_after_the_suspension_period_is_refused_in_every_body(pid, keyed_home, settings,
                                                                          office_or_fake, today):
    with Issuer(SHIPPED.get(pid), pool=office_or_fake) as issuer:
        number = issuer.issue(_org(pid))[0].number
        today(date(2027, 1, 10))
        change_status(issuer, number, "suspend", "未按期接受监督审查", on=date(2027, 1, 10))
        with pytest.raises(RuleViolation, match="revoke") as err:
            today(date(2027, 8, 1))
            change_status(issuer, number, "restore", "纠正措施已验证", on=date(2027, 8, 1))
        assert _row(issuer.engine, number).status == "suspended"
        assert rules_of(pid).dates.suspension.restore_clause in str(err.value)


def test_a_restoration_dated_before_its_suspension_is_refused(issuer, today):
    number = issuer.issue(_org("xbht"))[0].number
    today(date(2027, 1, 10))
    change_status(issuer, number, "suspend", "x", on=date(2027, 1, 10))
    with pytest.raises(RuleViolation, match="status.window"):
        change_status(issuer, number, "restore", "x", on=date(2027, 1, 9))


def test_the_suspension_period_is_stored_on_the_certificate_and_its_subs(issuer, today):
    main, *subs = [c.number for c in issuer.issue(TWO_SITES)]
    today(date(2027, 1, 10))
    change_status(issuer, main, "suspend", "x", on=date(2027, 1, 10), months=2)
    for n in (main, *subs):
        row = _row(issuer.engine, n)
        assert (row.suspended_on, row.suspended_until) == (date(2027, 1, 10), date(2027, 3, 9))
    today(date(2027, 3, 9))
    change_status(issuer, main, "restore", "纠正措施已验证", on=date(2027, 3, 9))
    assert _row(issuer.engine, main).suspended_until is None


def test_the_sweep_revokes_at_the_end_of_a_per_case_period(issuer, today):
    number = issuer.issue(_org("xbht"))[0].number
    today(date(2027, 1, 10))
    change_status(issuer, number, "suspend", "x", on=date(2027, 1, 10), months=2)
    today(date(2027, 3, 9))
    assert sweep(issuer, date(2027, 3, 9)) == []
    today(date(2027, 3, 10))
    assert [a.action for a in sweep(issuer, date(2027, 3, 10))] == ["revoke"]
    assert _row(issuer.engine, number).status == "revoked"


def test_cli_suspend_takes_months_and_a_late_restore_fails_in_one_line(issuer, home, today):
    number = issuer.issue(_org("xbht"))[0].number
    today(date(2027, 1, 10))
    too_long = run_cli("status", number, "suspend", "-r", "x", "--on", "2027-01-10",
                       "--months", "7", home=home)
    assert too_long.returncode != 0 and "at most 6 months" in too_long.stderr
    today(date(2027, 1, 10))
    ok = run_cli("status", number, "suspend", "-r", "x", "--on", "2027-01-10", "--months",
                 "3", "--json", home=home)
    assert ok.returncode == 0, ok.stderr
    assert _row(issuer.engine, number).suspended_until == date(2027, 4, 9)
    today(date(2027, 4, 10))
    late = run_cli("status", number, "restore", "-r", "x", "--on", "2027-04-10", home=home)
    assert late.returncode != 0
    assert len(late.stderr.strip().splitlines()) == 1
    assert "XBHT 8.2.2, 8.3(3)" in late.stderr and "revoke" in late.stderr
    assert json.loads(ok.stdout)["status"] == "suspended"


def test_a_late_suspension_is_applied_with_the_lateness_logged_and_shown(issuer, today):
    # XBHT 8.2.1: suspend within 5 days of verification; the profile warns (late = "warn")
    number = issuer.issue(_org("xbht"))[0].number
    today(date(2027, 1, 10))
    change = change_status(issuer, number, "suspend", "x", on=date(2027, 1, 10),
                           verified=date(2027, 1, 2))
    assert change.status == "suspended"
    assert "by 2027-01-07" in change.late and "XBHT 8.2.1" in change.late
    with Session(issuer.engine) as s:
        data = json.loads(s.exec(select(Event.data).where(
            Event.subject == number, Event.kind == "certificate.suspend")).one())
    assert data["late"] == change.late and data["verified"] == "2027-01-02"
    today(date(2027, 2, 5))
    on_time = change_status(issuer, number, "revoke", "x", on=date(2027, 2, 5),
                            verified=date(2027, 2, 1))
    assert on_time.late is None


def test_verified_applies_to_suspend_and_revoke_only(issuer, today):
    number = issuer.issue(_org("xbht"))[0].number
    with pytest.raises(InputError, match="--verified"):
        change_status(issuer, number, "cancel", "x", verified=date(2027, 1, 2))


def test_a_sub_suspended_on_its_own_is_revoked_when_its_period_runs_out(issuer, today):
    main, sub1, sub2 = [c.number for c in issuer.issue(TWO_SITES)]
    today(date(2027, 1, 10))
    change_status(issuer, sub1, "suspend", "场所整改", on=date(2027, 1, 10), months=1)
    today(date(2027, 1, 20))
    change_status(issuer, main, "suspend", "x", on=date(2027, 1, 20))
    # the main comes back; the site whose own period ran out stays suspended ...
    today(date(2027, 2, 15))
    change_status(issuer, main, "restore", "纠正措施已验证", on=date(2027, 2, 15))
    assert [_row(issuer.engine, n).status for n in (main, sub1, sub2)] == [
        "valid", "suspended", "valid"]
    # ... and the sweep revokes it alone
    today(date(2027, 2, 16))
    actions = sweep(issuer, date(2027, 2, 16))
    assert [(a.number, a.action) for a in actions] == [(sub1, "revoke")]
    assert [_row(issuer.engine, n).status for n in (main, sub1, sub2)] == [
        "valid", "revoked", "valid"]
    today(date(2027, 2, 16))
    assert sweep(issuer, date(2027, 2, 16)) == []
