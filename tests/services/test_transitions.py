"""Status changes: allowed transitions, refused ones (with the rule named), sub-certificates
following their main certificate, a signed notice archived for each change."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from certdesk.common.errors import RuleViolation
from certdesk.services.transitions import change_status
from certdesk.signing.keys import ca_certificate
from certdesk.signing.pdf import validate
from certdesk.store.models import Certificate, Record, VoidNumber
from tests.services.conftest import TWO_SITES

ORG = TWO_SITES


@pytest.fixture
def issued(issuer):
    return [c.number for c in issuer.issue(ORG)]


def _status(issuer, number):
    with Session(issuer.engine) as s:
        return s.exec(select(Certificate.status).where(Certificate.number == number)).one()


def test_suspending_a_main_certificate_suspends_its_sub_certificates(issuer, issued, today):
    main, *subs = issued
    today(date(2027, 1, 5))
    change = change_status(issuer, main, "suspend", "未按期接受监督审查", on=date(2027, 1, 5))
    assert change.affected == (main, *subs)
    assert {_status(issuer, n) for n in issued} == {"suspended"}


def test_each_change_archives_a_certified_notice_signed_by_the_body(issuer, issued):
    change = change_status(issuer, issued[0], "suspend", "未按期接受监督审查")
    data = change.notice_pdf.read_bytes()
    assert validate(data, [ca_certificate(issuer.settings)]).ok
    with Session(issuer.engine) as s:
        rec = s.exec(select(Record).where(Record.sha256 == change.notice_sha256)).one()
    assert rec.record_type == "notice" and rec.certificate_number == issued[0]


def test_restore_brings_a_suspended_certificate_back_to_valid(issuer, issued):
    change_status(issuer, issued[0], "suspend", "x")
    change_status(issuer, issued[0], "restore", "纠正措施已验证")
    assert _status(issuer, issued[0]) == "valid"
    assert _status(issuer, issued[1]) == "valid"


def test_a_revoked_certificate_cannot_be_restored_and_its_number_is_void(issuer, issued):
    change_status(issuer, issued[0], "revoke", "暂停期满未纠正")
    with pytest.raises(RuleViolation, match="编号永久作废"):
        change_status(issuer, issued[0], "restore", "x")
    with Session(issuer.engine) as s:
        voided = {v.number for v in s.exec(select(VoidNumber))}
    assert set(issued) <= voided


def test_a_sub_certificate_cannot_be_restored_while_its_main_is_suspended(issuer, issued):
    change_status(issuer, issued[0], "suspend", "x")
    with pytest.raises(RuleViolation, match="主证书"):
        change_status(issuer, issued[1], "restore", "x")


def test_a_site_can_be_withdrawn_alone(issuer, issued):
    change_status(issuer, issued[2], "cancel", "场所关闭")
    assert _status(issuer, issued[2]) == "cancelled"
    assert _status(issuer, issued[0]) == "valid"


def test_an_expired_certificate_cannot_be_suspended(issuer, issued, today):
    today(date(2030, 1, 1))
    with pytest.raises(RuleViolation, match="过期"):
        change_status(issuer, issued[0], "suspend", "x", on=date(2030, 1, 1))


def test_restoring_a_valid_certificate_is_refused_naming_the_rule(issuer, issued):
    with pytest.raises(RuleViolation, match=r"只有暂停的证书可以恢复"):
        change_status(issuer, issued[0], "restore", "x")


def test_a_status_change_needs_a_reason(issuer, issued):
    with pytest.raises(RuleViolation, match="须填写原因"):
        change_status(issuer, issued[0], "suspend", "  ")
