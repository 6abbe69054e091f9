"""The cycle after issue: re-issue, re-certification, surveillance, due list and sweep —
one test per transition, one per refusal, and the whole cycle checked step by step."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import Session, select

from certdesk.common.errors import InputError, RuleViolation
from certdesk.services.cycle import (
    Changes,
    due_list,
    recertify,
    record_surveillance,
    reissue,
    sweep,
)
from certdesk.services.inputs import OrganisationInput
from certdesk.services.transitions import change_status
from certdesk.services.verification import verify_pdf
from certdesk.store.models import Certificate, Event
from tests.conftest import run_cli
from tests.documents.support import pdftotext
from tests.english import raises_en
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED

ORG = TWO_SITES


@pytest.fixture
def main(issuer):
    return issuer.issue(ORG)[0].number


def _row(issuer, number) -> Certificate:
    with Session(issuer.engine) as s:
        return s.exec(select(Certificate).where(Certificate.number == number)).one()


def test_the_full_cycle_keeps_numbers_dates_and_public_status_right(issuer, main, today):
    assert main == "027326FWF0001R000"
    first = _row(issuer, main)
    assert (first.issue_date, first.expiry_date) == (date(2026, 3, 15), date(2029, 3, 14))
    # surveillance 1 held in time: nothing to sweep
    today(date(2027, 2, 1))
    record_surveillance(issuer.engine, issuer.profiles, main, date(2027, 2, 1))
    today(date(2027, 6, 1))
    assert sweep(issuer, date(2027, 6, 1)) == []
    # surveillance 2 missed: the sweep suspends main and subs, with a notice
    today(date(2028, 3, 20))
    actions = sweep(issuer, date(2028, 3, 20))
    assert [(a.number, a.action) for a in actions] == [(main, "suspend")]
    assert {_row(issuer, n).status for n in (main, f"{main}-1", f"{main}-2")} == {"suspended"}
    assert sweep(issuer, date(2028, 3, 20)) == []  # idempotent
    # corrected: restored
    today(date(2028, 4, 2))
    record_surveillance(issuer.engine, issuer.profiles, main, date(2028, 4, 2))
    today(date(2028, 4, 10))
    change_status(issuer, main, "restore", "监督审查已完成", on=date(2028, 4, 10))
    assert _row(issuer, main).status == "valid"
    # re-certified on time: R1, new sequence for the new year, ends previous expiry + 3 y
    today(date(2029, 2, 20))
    new = recertify(issuer, main, date(2029, 2, 20))
    numbers = [c.number for c in new]
    assert numbers == ["027329FWF0001R100", "027329FWF0001R100-1", "027329FWF0001R100-2"]
    second = _row(issuer, numbers[0])
    assert (second.effective_from, second.expiry_date) == (date(2029, 2, 20), date(2032, 3, 14))
    assert _row(issuer, main).status == "superseded"
    assert _row(issuer, f"{main}-2").status == "superseded"


def test_a_late_recertification_within_six_months_is_effective_from_its_decision(issuer, main,
                                                                                  today):
    today(date(2029, 6, 1))
    new = recertify(issuer, main, date(2029, 6, 1))
    row = _row(issuer, new[0].number)
    assert row.effective_from == date(2029, 6, 1)
    assert row.expiry_date == date(2032, 3, 14)


def test_recertification_seven_months_after_expiry_is_refused(issuer, main, today):
    today(date(2029, 10, 20))
    with raises_en(RuleViolation, match="new initial certification"):
        recertify(issuer, main, date(2029, 10, 20))


def test_a_revoked_certificate_cannot_be_recertified(issuer, main, today):
    today(date(2026, 6, 1))
    change_status(issuer, main, "revoke", "x", on=date(2026, 6, 1))
    today(date(2029, 2, 20))
    with pytest.raises(RuleViolation, match="证书状态为撤销"):
        recertify(issuer, main, date(2029, 2, 20))


def test_reissue_keeps_number_and_validity_and_supersedes_the_old_pdf(issuer, main, settings,
                                                                      today):
    old = (settings.out_dir / f"{main}.pdf").read_bytes()
    today(date(2027, 5, 6))
    new = reissue(issuer, main, Changes(name="测试家电服务（集团）有限公司"), "名称变更",
                  on=date(2027, 5, 6))
    assert [c.number for c in new] == [main, f"{main}-1", f"{main}-2"]
    row = _row(issuer, main)
    assert row.holder_name == "测试家电服务（集团）有限公司"
    assert (row.issue_date, row.expiry_date, row.reissue_date) == (
        date(2026, 3, 15), date(2029, 3, 14), date(2027, 5, 6))
    assert verify_pdf(old, settings, issuer.engine, date(2027, 6, 1)).status == "superseded"
    fresh = new[0].pdf.read_bytes()
    assert verify_pdf(fresh, settings, issuer.engine, date(2027, 6, 1)).verdict == "genuine"


def test_reissue_of_a_sub_certificate_is_refused(issuer, main):
    with pytest.raises(RuleViolation, match="是分证书"):
        reissue(issuer, f"{main}-1", Changes(scope="x"), "y")


def test_reissue_with_nothing_to_change_is_refused(issuer, main):
    with pytest.raises(InputError, match="没有要变更的内容"):
        reissue(issuer, main, Changes(), "y")


def test_the_due_list_shows_the_next_surveillance_and_flags_overdue(issuer, main, today):
    items = due_list(issuer.engine, issuer.profiles, date(2027, 4, 1))
    assert [(i.number, i.surveillance, i.due_by, i.overdue) for i in items] == [
        (main, 1, date(2027, 3, 14), True)]
    today(date(2027, 3, 1))
    record_surveillance(issuer.engine, issuer.profiles, main, date(2027, 3, 1))
    items = due_list(issuer.engine, issuer.profiles, date(2027, 4, 1))
    assert (items[0].surveillance, items[0].overdue) == (2, False)


def test_a_surveillance_before_the_last_one_is_refused(issuer, main, today):
    today(date(2027, 3, 1))
    record_surveillance(issuer.engine, issuer.profiles, main, date(2027, 3, 1))
    with pytest.raises(InputError, match="不晚于上一次"):
        record_surveillance(issuer.engine, issuer.profiles, main, date(2027, 2, 1))


def test_the_sweep_revokes_when_a_suspension_runs_out_and_logs_expiry_once(issuer, main,
                                                                           today):
    today(date(2026, 6, 1))
    change_status(issuer, main, "suspend", "x", on=date(2026, 6, 1))
    today(date(2026, 12, 2))
    actions = sweep(issuer, date(2026, 12, 2))
    assert [(a.number, a.action) for a in actions] == [(main, "revoke")]
    assert _row(issuer, main).status == "revoked"
    other = issuer.issue(OrganisationInput(
        name="另一家公司", uscc="91440300MA5FQ1R27X", registered_address="深圳",
        scope="通信设备的维修", decision_date=date(2026, 3, 10), grade="达标级"))[0].number
    today(date(2027, 1, 1))
    record_surveillance(issuer.engine, issuer.profiles, other, date(2027, 1, 1))
    today(date(2027, 12, 1))
    record_surveillance(issuer.engine, issuer.profiles, other, date(2027, 12, 1))
    today(date(2029, 3, 11))
    assert [a.action for a in sweep(issuer, date(2029, 3, 11))] == ["expire"]
    today(date(2029, 3, 12))
    assert sweep(issuer, date(2029, 3, 12)) == []
    with Session(issuer.engine) as s:
        kinds = [e.kind for e in s.exec(select(Event).where(Event.subject == other))]
    assert kinds.count("certificate.expired") == 1


def test_a_reduced_scope_must_name_each_sites_scope_and_nothing_changes_until_it_does(issuer,
                                                                                    main, today):
    today(date(2027, 5, 6))
    # CACQ 8.4.1 9), DNI 6.5.3 3), XBHT 7.8.2(6)b: no site keeps an activity no longer covered
    with raises_en(RuleViolation, match="give site 1, 2 its new scope"):
        reissue(issuer, main, Changes(scope="家用电器的维修（不含安装）"), "缩小范围",
                on=date(2027, 5, 6))
    assert _row(issuer, main).reissue_date is None


def test_a_scope_reduction_reissues_the_subs_and_cancels_a_removed_sites_sub(issuer, main,
                                                                             today):
    today(date(2027, 6, 1))
    new = reissue(issuer, main, Changes(scope="家用电器的维修（不含安装）",
                                        site_scopes=((1, "家用电器的维修（不含安装）"),),
                                        removed_sites=(2,)),
                  "缩小认证范围：停止安装服务", on=date(2027, 5, 6))
    assert [c.number for c in new] == [main, f"{main}-1"]
    sub1, sub2 = _row(issuer, f"{main}-1"), _row(issuer, f"{main}-2")
    assert sub1.scope == "家用电器的维修（不含安装）" and sub1.reissue_date == date(2027, 5, 6)
    assert sub2.status == "cancelled" and "场所移出认证范围" in sub2.status_reason
    assert [s["address"] for s in json.loads(_row(issuer, main).sites_json)] == ["北京市朝阳区一号"]
    text = "".join(pdftotext(new[0].pdf).split())
    assert "天津市和平区二号" not in text and "家用电器的安装" not in text
    # a later re-issue still finds site 1's sub-certificate by its address
    again = reissue(issuer, main, Changes(grade="四星级"), "等级变更", on=date(2027, 6, 1))
    assert [c.number for c in again] == [main, f"{main}-1"]


def test_cli_reissue_takes_site_scopes_and_removed_sites(issuer, main, home, today):
    today(date(2027, 5, 6))
    bad = run_cli("reissue", main, "-r", "x", "--site-scope", "one=维修", home=home)
    assert bad.returncode != 0 and "expected K=SCOPE" in bad.stderr
    ok = run_cli("reissue", main, "-r", "缩小认证范围", "--scope", "家用电器的维修（不含安装）",
                 "--site-scope", "1=家用电器的维修（不含安装）", "--remove-site", "2",
                 "--on", "2027-05-06", "--json", home=home)
    assert ok.returncode == 0, ok.stderr
    assert [c["number"] for c in json.loads(ok.stdout)["certificates"]] == [main, f"{main}-1"]
    assert _row(issuer, f"{main}-2").status == "cancelled"


def test_the_due_list_reminds_of_the_recertification_application(keyed_home, settings,
                                                                    office_or_fake):
    # CACQ 7.6.1 / DNI 5.7.1 / ZPIC 6.1: apply three months before expiry (XBHT sets no time)
    from certdesk.services.issuing import Issuer

    with Issuer(SHIPPED.get("cacq"), pool=office_or_fake) as cacq:
        number = cacq.issue(ORG)[0].number  # expires 2029-03-14

    def applications(on):
        return [(i.due_by, i.overdue) for i in due_list(cacq.engine, cacq.profiles, on)
                if i.kind == "recertification"]

    assert applications(date(2028, 11, 13)) == []
    assert applications(date(2028, 11, 14)) == [(date(2028, 12, 14), False)]
    assert applications(date(2028, 12, 15)) == [(date(2028, 12, 14), True)]
    item = next(i for i in due_list(cacq.engine, cacq.profiles, date(2028, 12, 15))
                if i.number == number and i.kind == "recertification")
    assert "CACQ 7.6.1" in item.rule


def test_the_due_list_names_the_sites_the_last_surveillance_must_cover(issuer, main, home,
                                                                        today):
    today(date(2027, 12, 1))
    # XBHT 7.2.2.9.2: the two surveillances together cover every site
    res = run_cli("surveillance", main, "--held", "2027-03-01", "--sites", "1", home=home)
    assert res.returncode == 0, res.stderr
    (item,) = [i for i in due_list(issuer.engine, issuer.profiles, date(2027, 4, 1))
               if i.number == main]
    assert item.surveillance == 2
    assert item.warning == "本周期最后一次监督审查须覆盖尚未审查的场所 2 [XBHT 7.2.2.9.2]"
    bad = run_cli("surveillance", main, "--held", "2027-12-01", "--sites", "3", home=home)
    assert bad.returncode != 0 and "site 3 does not exist" in bad.stderr
