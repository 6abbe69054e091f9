"""The re-certification audit ends by the previous expiry where the body requires it
[CACQ 7.6.2 "应在认证证书到期前完成", 7.10.8]; XBHT 7.7.3 lets the re-certification be
completed within 6 months after expiry."""

from __future__ import annotations

from datetime import date

import pytest

from certdesk.common.errors import InputError, RuleViolation
from certdesk.domain.dates import check_recert_audit
from tests.english import raises_en
from tests.shipped import rules_of

EXPIRY = date(2029, 3, 14)


def test_cacq_refuses_a_late_decision_on_an_audit_held_after_expiry():
    with raises_en(RuleViolation, match=r"after the expiry.*\[CACQ 7\.6\.2, 7\.10\.8\]"):
        check_recert_audit(rules_of("cacq").dates, EXPIRY, date(2029, 5, 1), date(2029, 4, 2))


def test_cacq_accepts_a_late_decision_on_an_audit_held_before_expiry():
    check_recert_audit(rules_of("cacq").dates, EXPIRY, date(2029, 5, 1), date(2029, 3, 10))


def test_a_late_cacq_decision_must_state_when_its_audit_ended():
    with raises_en(InputError, match="--audit-end"):
        check_recert_audit(rules_of("cacq").dates, EXPIRY, date(2029, 5, 1), None)


def test_a_decision_by_the_expiry_needs_no_audit_date():
    check_recert_audit(rules_of("cacq").dates, EXPIRY, date(2029, 3, 1), None)


def test_xbht_allows_the_audit_after_expiry_within_its_late_window():
    check_recert_audit(rules_of("xbht").dates, EXPIRY, date(2029, 5, 1), date(2029, 4, 2))


@pytest.mark.parametrize("pid", ["cacq", "xbht"])
def test_the_audit_cannot_end_after_its_decision(pid):
    with raises_en(InputError, match="cannot precede the audit"):
        check_recert_audit(rules_of(pid).dates, EXPIRY, date(2029, 3, 1), date(2029, 3, 2))
