"""Initial certification as one case: every step archived and signed, the certificate
issued only after a decision that the rules allow; a refused case stores nothing."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from certdesk.common.errors import AlreadyHeld, InputError, RuleViolation
from certdesk.common.settings import get_settings
from certdesk.documents.kinds import REFUSED, Build
from certdesk.services.certification import certify, prepare
from certdesk.store.models import Certificate, Event, Record
from tests.documents.support import pdftotext as pdftotext_
from tests.english import raises_en
from tests.shipped import SHIPPED

REPO = Path(__file__).resolve().parents[2]
CASE = json.loads((REPO / "examples/certification/case.json").read_text(encoding="utf-8"))
TODAY = date(2026, 11, 23)
MAIN = "027326FWF0001R000"


def case(**changes) -> dict:
    """The example case with ``step={field: value}`` changes (None removes a field)."""
    c = copy.deepcopy(CASE)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(c.get(key), dict):
            for k, v in value.items():
                if v is None:
                    c[key].pop(k, None)
                else:
                    c[key][k] = v
        else:
            c[key] = value
    return c


def prepared(profile: str = "xbht", record: dict | None = None):
    job = Build(SHIPPED.get(profile), get_settings(), 1, TODAY)
    return prepare(job, CASE if record is None else record, "case.json")


def counts(issuer) -> dict[str, int]:
    with Session(issuer.engine) as s:
        return {"records": s.exec(select(func.count()).select_from(Record)).one(),
                "certificates": s.exec(select(func.count()).select_from(Certificate)).one(),
                "numbers": s.exec(select(func.count()).select_from(Event)
                                  .where(Event.kind == "number.drawn")).one()}


# -- the whole case --------------------------------------------------------------------------

def test_an_approved_case_archives_every_step_and_issues_main_and_sub_certificates(issuer):
    done = certify(issuer, prepared())
    assert done.approved and done.outcome == "批准认证注册"
    assert [r.record_type for r in done.records] == [
        "programme", "plan", "report", "nc_report", "decision"]
    assert [c.number for c in done.certificates] == [
        "027326FWF0001R000", "027326FWF0001R000-1", "027326FWF0001R000-2",
        "027326FWF0001R000-3"]
    with Session(issuer.engine) as s:
        rows = s.exec(select(Record).order_by(Record.id)).all()
        main = s.exec(select(Certificate).where(Certificate.number == "027326FWF0001R000")).one()
        decided = s.exec(select(Event).where(Event.kind == "certification.decided")).one()
    # The steps are filed under the main certificate, so they are kept as long as it is.
    assert {r.certificate_number for r in rows if r.record_type != "certificate"} == {
        "027326FWF0001R000"}
    assert main.grade == "五星级" and main.decision_date == date(2026, 11, 20)
    assert main.issue_date == date(2026, 11, 23)
    assert decided.subject == "027326FWF0001R000"
    assert json.loads(decided.data)["makers"] == ["孙丽", "周强"]


def test_every_step_is_a_signed_pdf_that_pdfsig_accepts(issuer):
    done = certify(issuer, prepared())
    for kept in done.records:
        out = subprocess.run(["pdfsig", str(kept.pdf)], capture_output=True, text=True).stdout
        assert "Signature is Valid." in out, kept.filename


def test_the_decision_record_states_the_report_score_and_grade_the_rules_computed(issuer):
    done = certify(issuer, prepared())
    decision = next(k for k in done.records if k.record_type == "decision")
    text = subprocess.run(["pdftotext", "-layout", str(decision.pdf), "-"],
                          capture_output=True, text=True).stdout
    report = next(k for k in done.records if k.record_type == "report")
    assert report.filename.split("-北京")[0] in text  # the report's reference
    assert "96.3" in text and "五星级" in text and "XBHT 7.5.1" in text


def test_an_auditor_among_the_decision_makers_stores_nothing_and_draws_no_number(issuer):
    before = counts(issuer)
    with pytest.raises(RuleViolation, match=r"刘洋 audited.*\[XBHT 7\.5\.1\]"):
        certify(issuer, prepared(record=case(decision={"decision_makers": ["孙丽", "刘洋"]})))
    assert counts(issuer) == before


def test_a_failing_score_is_archived_as_a_refusal_and_no_certificate_is_issued(issuer):
    sheet = copy.deepcopy(CASE["report"]["score_sheet"])
    sheet["deductions"] = [f"特别扣分 {i}" for i in range(1, 6)]  # XBHT fails at 5
    done = certify(issuer, prepared(record=case(report={"score_sheet": sheet})))
    assert not done.approved and done.outcome == REFUSED and not done.certificates
    assert [r.record_type for r in done.records][-1] == "decision"
    assert counts(issuer) == {"records": 5, "certificates": 0, "numbers": 0}
    with Session(issuer.engine) as s:
        decided = s.exec(select(Event).where(Event.kind == "certification.decided")).one()
    assert decided.subject == f"client:{CASE['uscc']}"


def test_an_organisation_holding_a_valid_certificate_cannot_be_certified_again(issuer):
    certify(issuer, prepared())
    before = counts(issuer)
    with pytest.raises(AlreadyHeld, match="已持有有效证书 027326FWF0001R000，未重复发证"):
        certify(issuer, prepared())
    assert counts(issuer) == before


# -- checks made before anything is stored ----------------------------------------------------

def test_the_plan_carries_the_man_days_the_programme_computed(home):
    p = prepared()
    programme, plan = p.steps[0].rendition.context, p.steps[1].rendition.context
    assert plan["audit"]["man_days"] == programme["audits"][0]["man_days"]


def test_a_reviewer_who_audited_is_refused(home):
    with pytest.raises(RuleViolation, match=r"张伟 audited.*review.*\[CACQ 7\.10\.3\]"):
        prepared("cacq", case(decision={"reviewer": "张伟"}))


def test_a_decision_before_the_audit_ended_is_refused(home):
    with raises_en(InputError, match=r"a decision cannot precede the audit"):
        prepared("zpic", case(decision={"decision_date": "2026-10-13",
                                        "review_date": "2026-10-13"}))


@pytest.mark.parametrize("profile, clause", [("cacq", "CACQ 7.10.7"), ("xbht", "XBHT 7.5.3"),
                                             ("zpic", "default (CACQ 7.10.7)")])
def test_an_initial_decision_more_than_six_months_after_the_audit_is_refused(home, profile,
                                                                             clause):
    # The audit ended 2026-10-14: six months after it run through 2027-04-14.
    assert prepared(profile, case(decision={"decision_date": "2027-04-14",
                                            "issue_date": "2027-04-14"})).approved
    late = case(decision={"decision_date": "2027-04-15", "issue_date": "2027-04-15"})
    with raises_en(RuleViolation, match=rf"more than 6 months.*\[{re.escape(clause)}"):
        prepared(profile, late)


def test_the_certificate_cannot_be_dated_before_the_decision(issuer):
    early = case(decision={"issue_date": "2026-11-19"})
    before = counts(issuer)
    with pytest.raises(RuleViolation):
        certify(issuer, prepared(record=early))
    assert counts(issuer) == before


def test_a_step_restating_the_organisation_is_refused(home):
    with pytest.raises(InputError, match=r"'plan.name' 只在案卷开头填写一次"):
        prepared(record=case(plan={"name": "别的公司"}))


def test_an_unknown_field_in_a_step_names_the_step(home):
    with pytest.raises(InputError, match=r"case.json：decision：未知字段 approver"):
        prepared(record=case(decision={"approver": "孙丽"}))


# -- the command ---------------------------------------------------------------------------

def test_certify_prints_json_for_scripts(cli, keyed_home, tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(CASE, ensure_ascii=False), encoding="utf-8")
    out = cli("certify", "-p", "xbht", str(path), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["cases"][0]["approved"] and len(data["cases"][0]["certificates"]) == 4
    assert data["failed"] == []


def test_certify_reports_a_broken_case_in_one_line_and_goes_on_with_the_others(
        cli, keyed_home, tmp_path):
    bad = case(decision={"decision_makers": ["张伟"]})
    other = case(name="上海好服务有限公司", uscc="91310000MA1FL3XU6F")
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([bad, other], ensure_ascii=False), encoding="utf-8")
    out = cli("certify", "-p", "xbht", str(path), "--json")
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert [c["organisation"] for c in data["cases"]] == ["上海好服务有限公司"]
    assert data["failed"][0]["case"] == "cases.json: case 1"
    assert "张伟 audited" in data["failed"][0]["reason"]


@pytest.mark.parametrize("name, text, message", [
    ("case.json", "{\"name\": ", "malformed JSON"),
    ("case.csv", "name,uscc\n", "a case file is JSON"),
])
def test_certify_rejects_a_bad_file_with_one_line(cli, tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = cli("certify", "-p", "xbht", str(path))
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


# -- surveillance with its report ------------------------------------------------------------

SURVEILLANCE_REPORT = json.loads(
    (REPO / "examples/certification/surveillance-report.json").read_text(encoding="utf-8"))


def test_a_surveillance_report_is_archived_with_the_surveillance_it_records(issuer, today):
    from certdesk.services.certification import record_surveillance_report

    certify(issuer, prepared())
    today(date(2027, 6, 1))
    n, kept, notice = record_surveillance_report(issuer, MAIN, date(2027, 6, 1),
                                                 [SURVEILLANCE_REPORT], "report.json", actor="ivy")
    assert n == 1 and kept.record_type == "report"
    with Session(issuer.engine) as s:
        row = s.exec(select(Record).where(Record.sha256 == kept.sha256)).one()
        held = s.exec(select(Event).where(Event.kind == "certificate.surveillance")).one()
    assert row.certificate_number == MAIN and held.actor == "ivy"
    assert json.loads(held.data)["report"] == kept.sha256
    text = subprocess.run(["pdftotext", "-layout", str(kept.pdf), "-"], capture_output=True,
                          text=True).stdout
    assert "监督审查" in text and CASE["name"] in text
    # XBHT 7.8.2(6) 注: the certificate is used together with the maintenance notice
    notice_text = "".join(pdftotext_(notice.pdf).split())
    assert "保持认证注册资格通知书" in notice_text and MAIN in notice_text
    assert f"{MAIN}-1" in notice_text and "须与认证证书一并使用" in notice_text
    with Session(issuer.engine) as s:
        row = s.exec(select(Record).where(Record.sha256 == notice.sha256)).one()
    assert (row.record_type, row.certificate_number) == ("notice", MAIN)


def test_a_failing_surveillance_report_records_nothing(issuer, today):
    from certdesk.services.certification import record_surveillance_report

    certify(issuer, prepared())
    today(date(2027, 6, 1))
    before = counts(issuer)
    failing = {**SURVEILLANCE_REPORT, "score_sheet": {
        **CASE["report"]["score_sheet"], "deductions": [f"特别扣分 {i}" for i in range(5)]}}
    with pytest.raises(RuleViolation, match="监督审查报告不支持保持.*应暂停该证书"):
        record_surveillance_report(issuer, MAIN, date(2027, 6, 1), [failing], "report.json",
                                   actor="ivy")
    assert counts(issuer) == before
    with Session(issuer.engine) as s:
        assert s.exec(select(Event).where(Event.kind == "certificate.surveillance")).all() == []


def test_a_surveillance_report_restating_the_holder_is_refused(issuer, today):
    from certdesk.services.certification import record_surveillance_report

    certify(issuer, prepared())
    today(date(2027, 6, 1))
    with pytest.raises(InputError, match="'name' 取自证书"):
        record_surveillance_report(issuer, MAIN, date(2027, 6, 1),
                                   [{**SURVEILLANCE_REPORT, "name": "别的公司"}], "report.json",
                                   actor="ivy")


def test_surveillance_with_a_report_from_the_command_line(cli, keyed_home, tmp_path, today):
    case_path, report_path = tmp_path / "case.json", tmp_path / "report.json"
    case_path.write_text(json.dumps(CASE, ensure_ascii=False), encoding="utf-8")
    report_path.write_text(json.dumps(SURVEILLANCE_REPORT, ensure_ascii=False),
                           encoding="utf-8")
    assert cli("certify", "-p", "xbht", str(case_path)).returncode == 0
    today(date(2027, 6, 1))
    out = cli("surveillance", MAIN, "--held", "2027-06-01", "--report", str(report_path),
              "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["surveillance"] == 1 and data["report"]["record_type"] == "report"


# -- non-conformities closed before granting [CACQ 7.8.5, 7.10.6(2); XBHT 7.5.2.2] ---------------

def _nc(**fields) -> list[dict]:
    nc = {**CASE["nonconformities"][0], **fields}
    return [{k: v for k, v in nc.items() if v is not None}]


# The team recommends postponing while a severe NC is open; the decision says why it grants.
GRANT = {"reason": "严重不符合的纠正措施已验证有效"}


def test_a_severe_nc_without_verified_corrective_action_refuses_the_grant(home):
    with raises_en(RuleViolation, match=r"NC-01 is severe.*verified_on.*\[XBHT 7\.5\.2\.2\]"):
        prepared(record=case(nonconformities=_nc(severity="严重"), decision=GRANT))
    with pytest.raises(RuleViolation, match=r"\[CACQ 7\.8\.5, 7\.10\.6\(2\)\]"):
        prepared("cacq", case(nonconformities=_nc(severity="严重"), decision=GRANT))


def test_a_severe_nc_verified_between_the_audit_and_the_decision_allows_the_grant(home):
    done = prepared(record=case(nonconformities=_nc(severity="严重", verified_on="2026-11-10"),
                                decision=GRANT))
    assert done.approved
    assert done.findings[0].verified_on == date(2026, 11, 10)


def test_a_severe_nc_verified_after_the_decision_is_refused(home):
    with raises_en(RuleViolation, match="after the decision"):
        prepared(record=case(nonconformities=_nc(severity="严重", verified_on="2026-11-21"),
                             decision=GRANT))


def test_a_minor_nc_needs_its_corrective_action_accepted_before_granting(home):
    with raises_en(RuleViolation, match="corrective_action"):
        prepared(record=case(nonconformities=_nc(corrective_action=None)))


def test_a_refusal_does_not_wait_for_open_nonconformities(home):
    refused = case(nonconformities=_nc(severity="严重"),
                   decision={"outcome": REFUSED, "reason": "严重不符合未关闭"})
    assert not prepared(record=refused).approved
