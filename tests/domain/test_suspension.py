"""Restoration only inside the suspension period, for every body: once the period has run
out every seed revokes [CACQ 9.1.3, 9.2.1(3); DNI/DNI-SH 6.8.2 1), 6.9.1; ZPIC 7.2.2,
7.3.1 7); XBHT 8.2.2, 8.3(3)], and a restoration cannot precede the suspension it ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from certdesk.common.errors import RuleViolation
from certdesk.domain.dates import suspension
from certdesk.domain.suspension import check_imposition, check_restoration
from tests.shipped import SHIPPED, rules_of

CLAUSES = {"cacq": "CACQ 9.1.3", "dni-spshfw": "DNI 6.8.2 1)", "dni-sh": "DNI-SH 6.8.2 1)",
           "zpic": "ZPIC 7.2.2, 7.3.1 7)", "xbht": "XBHT 8.2.2, 8.3(3)"}


def test_every_profile_names_its_restoration_clause():
    assert set(SHIPPED.ids()) == set(CLAUSES)
    for pid, clause in CLAUSES.items():
        assert clause in rules_of(pid).dates.suspension.restore_clause


@pytest.mark.parametrize("pid", sorted(CLAUSES))
def test_restoring_after_the_suspension_period_ran_out_is_refused_naming_the_clause(pid):
    spec = rules_of(pid).dates.suspension
    period = suspension(rules_of(pid).dates, date(2027, 1, 10))
    with pytest.raises(RuleViolation, match="revoke") as err:
        check_restoration(spec, "N1", date(2027, 8, 1), suspended_on=period.start,
                          suspended_until=period.ends)
    assert CLAUSES[pid] in str(err.value)


@pytest.mark.parametrize("pid", sorted(CLAUSES))
def test_restoring_on_the_last_day_of_the_period_is_allowed(pid):
    period = suspension(rules_of(pid).dates, date(2027, 1, 10))
    check_restoration(rules_of(pid).dates.suspension, "N1", period.ends,
                      suspended_on=period.start, suspended_until=period.ends)


def test_a_restoration_dated_before_the_suspension_is_refused():
    spec = rules_of("cacq").dates.suspension
    with pytest.raises(RuleViolation, match="恢复不能早于它所结束的暂停"):
        check_restoration(spec, "N1", date(2027, 1, 9), suspended_on=date(2027, 1, 10),
                          suspended_until=date(2027, 7, 9))


def test_a_per_case_period_shorter_than_the_maximum_ends_the_restoration_window_earlier():
    # CACQ 8.1.2 (printed in 9.1): the body sets the period by the cause, at most 6 months.
    period = suspension(rules_of("cacq").dates, date(2027, 1, 10), months=2)
    assert period.ends == date(2027, 3, 9)
    with pytest.raises(RuleViolation, match="暂停期已于 2027-03-09 届满"):
        check_restoration(rules_of("cacq").dates.suspension, "N1", date(2027, 3, 10),
                          suspended_on=period.start, suspended_until=period.ends)

def test_a_profile_set_to_refuse_refuses_a_late_revocation():
    spec = replace(rules_of("zpic").dates.suspension, late="refuse")
    # ZPIC 7.3.1: 5 working days: verified Friday 2027-01-08 -> by Friday 2027-01-15
    assert check_imposition(spec, "revoke", date(2027, 1, 15), date(2027, 1, 8)) is None
    with pytest.raises(RuleViolation, match=r"by 2027-01-15 \[ZPIC 7\.3\.1\]"):
        check_imposition(spec, "revoke", date(2027, 1, 16), date(2027, 1, 8))

