"""Certificate dates, surveillance plans, suspension and close-out deadlines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certdesk.common.errors import InputError, RuleViolation
from certdesk.domain.dates import (
    PeriodEnd,
    add_months,
    add_working_days,
    certificate_dates,
    nc_deadline,
    period_end,
    surveillance_plan,
    suspension,
)
from certdesk.domain.spec import Audit
from tests.english import raises_en
from tests.shipped import SHIPPED, rules_of

D = date.fromisoformat
PROFILES = tuple(SHIPPED.ids())


def anniversary_rules(pid: str):
    rules = rules_of(pid).dates
    return replace(rules, cycle=replace(rules.cycle, period_end=PeriodEnd.ANNIVERSARY))


# -- validity --------------------------------------------------------------------------

@pytest.mark.parametrize("pid", PROFILES)
def test_an_initial_certificate_runs_three_years_to_the_day_before_the_anniversary(pid):
    result = certificate_dates(rules_of(pid).dates, Audit.INITIAL, D("2024-03-15"))
    assert (result.issue_date, result.effective_from, result.expiry_date) == (
        D("2024-03-15"), D("2024-03-15"), D("2027-03-14"))


@pytest.mark.parametrize(
    "issue,expiry",
    [("2024-02-29", "2027-02-28"), ("2024-03-01", "2027-02-28"), ("2024-02-28", "2027-02-27"),
     ("2025-03-01", "2028-02-29"), ("2023-12-31", "2026-12-30"), ("2024-01-01", "2026-12-31")],
)
def test_the_default_convention_handles_feb_29_and_year_ends(issue, expiry):
    result = certificate_dates(rules_of("cacq").dates, Audit.INITIAL, D(issue))
    assert result.expiry_date == D(expiry)


@pytest.mark.parametrize(
    "issue,expiry",
    [("2024-02-29", "2027-02-28"), ("2024-03-15", "2027-03-15"), ("2025-02-28", "2028-02-28")],
)
def test_the_anniversary_convention_ends_on_the_anniversary_or_the_month_end(issue, expiry):
    result = certificate_dates(anniversary_rules("cacq"), Audit.INITIAL, D(issue))
    assert result.expiry_date == D(expiry)


def test_the_issue_date_defaults_to_the_decision_date_and_may_be_later():
    result = certificate_dates(rules_of("xbht").dates, Audit.INITIAL, D("2024-03-15"),
                               issue=D("2024-03-20"))
    assert result.expiry_date == D("2027-03-19")
    assert result.effective_from == D("2024-03-20")


@pytest.mark.parametrize("pid,clause", [("cacq", "CACQ 8.2, 8.4"), ("xbht", "XBHT 7.8.2"),
                                        ("dni-sh", "DNI-SH 3")])
def test_an_issue_date_before_the_decision_is_refused_naming_the_clause(pid, clause):
    with raises_en(RuleViolation, match=f"before the decision date.*{clause}"):
        certificate_dates(rules_of(pid).dates, Audit.INITIAL, D("2024-03-15"),
                          issue=D("2024-03-14"))


def test_an_initial_decision_more_than_six_months_after_the_audit_is_refused():
    rules = rules_of("cacq").dates
    ok = certificate_dates(rules, Audit.INITIAL, D("2024-09-10"), audit_end=D("2024-03-10"))
    assert "CACQ 7.10.7" in ok.clauses
    with raises_en(RuleViolation, match=r"more than 6 months.*audit again.*CACQ 7\.10\.7"):
        certificate_dates(rules, Audit.INITIAL, D("2024-09-11"), audit_end=D("2024-03-10"))


# -- re-certification ------------------------------------------------------------------

@pytest.mark.parametrize(
    "previous,expiry",
    [("2027-03-14", "2030-03-14"), ("2028-02-29", "2031-02-28"), ("2037-02-28", "2040-02-29"),
     ("2026-12-31", "2029-12-31")],
)
def test_recertification_ends_three_years_after_the_previous_expiry(previous, expiry):
    result = certificate_dates(rules_of("cacq").dates, Audit.RECERTIFICATION, D("2026-11-10"),
                               previous_expiry=D(previous))
    assert result.expiry_date == D(expiry)
    assert result.effective_from == D("2026-11-10")
    assert not result.late_recertification


@pytest.mark.parametrize("pid", PROFILES)
def test_a_late_recertification_is_effective_from_its_decision_and_keeps_the_cycle(pid):
    result = certificate_dates(rules_of(pid).dates, Audit.RECERTIFICATION, D("2027-09-14"),
                               issue=D("2027-09-20"), previous_expiry=D("2027-03-14"))
    assert result.late_recertification
    assert result.effective_from == D("2027-09-14")
    assert result.issue_date == D("2027-09-20")
    assert result.expiry_date == D("2030-03-14")


@pytest.mark.parametrize("pid,clause", [("xbht", "XBHT 7.5.4, 7.7.3"),
                                        ("cacq", "CACQ 7.10.8, 8.5"),
                                        ("zpic", "default")])
def test_a_recertification_more_than_six_months_late_needs_a_new_initial_certification(
        pid, clause):
    with raises_en(RuleViolation, match=f"new initial certification is needed.*{clause}"):
        certificate_dates(rules_of(pid).dates, Audit.RECERTIFICATION, D("2027-09-15"),
                          previous_expiry=D("2027-03-14"))


@pytest.mark.parametrize(
    "audit,kwargs,match",
    [
        (Audit.RECERTIFICATION, {}, "needs --previous-expiry"),
        (Audit.INITIAL, {"previous_expiry": D("2027-01-01")}, "re-certification only"),
        (Audit.RECERTIFICATION, {"previous_expiry": D("2027-01-01"),
                                 "audit_end": D("2026-12-01")}, "initial certification only"),
        (Audit.INITIAL, {"audit_end": D("2024-04-01")}, "after the decision"),
        (Audit.SURVEILLANCE, {}, "initial and recertification"),
        (Audit.INITIAL, {"first_surveillance": D("2024-01-01")}, "before the issue date"),
    ],
)
def test_inconsistent_date_input_is_refused_with_a_clear_message(audit, kwargs, match):
    with raises_en(InputError, match=match):
        certificate_dates(rules_of("cacq").dates, audit, D("2024-03-15"), **kwargs)


# -- surveillance --------------------------------------------------------------------------

@pytest.mark.parametrize("pid", ["cacq", "dni-sh", "xbht"])
def test_surveillance_is_due_within_twelve_months_of_issue_then_twelve_more(pid):
    result = certificate_dates(rules_of(pid).dates, Audit.INITIAL, D("2024-03-01"),
                               issue=D("2024-03-15"))
    assert [s.due_by for s in result.surveillance] == [D("2025-03-14"), D("2026-03-14")]


def test_dni_spshfw_counts_surveillance_from_the_decision_date_and_allows_a_15_month_extension():
    result = certificate_dates(rules_of("dni-spshfw").dates, Audit.INITIAL, D("2024-03-01"),
                               issue=D("2024-03-15"))
    first, second = result.surveillance
    assert first.due_by == D("2025-02-28")
    assert second.due_by == D("2026-02-28")
    assert second.may_extend_to == D("2026-05-31")
    assert first.may_extend_to is None


def test_the_dni_extension_stays_inside_the_calendar_year():
    result = certificate_dates(rules_of("dni-spshfw").dates, Audit.INITIAL, D("2024-11-20"))
    assert result.surveillance[1].due_by == D("2026-11-19")
    assert result.surveillance[1].may_extend_to == D("2026-12-31")


def test_zpic_allows_fifteen_months_between_surveillances_but_one_per_calendar_year():
    spring = certificate_dates(rules_of("zpic").dates, Audit.INITIAL, D("2024-03-15"))
    assert [s.due_by for s in spring.surveillance] == [D("2025-03-14"), D("2026-06-14")]
    autumn = certificate_dates(rules_of("zpic").dates, Audit.INITIAL, D("2024-11-20"))
    assert [s.due_by for s in autumn.surveillance] == [D("2025-11-19"), D("2026-12-31")]
    assert "calendar year 2026" in autumn.surveillance[1].rule


def test_xbht_requires_the_second_surveillance_within_24_months_of_issue_even_after_a_late_first():
    xbht = surveillance_plan(rules_of("xbht").dates, D("2024-03-15"), first_held=D("2025-06-01"))
    assert xbht[1].due_by == D("2026-03-14")
    assert "24 months" in xbht[1].rule
    cacq = surveillance_plan(rules_of("cacq").dates, D("2024-03-15"), first_held=D("2025-06-01"))
    assert cacq[1].due_by == D("2026-06-01")


def test_a_known_first_surveillance_date_replans_the_second():
    plan = surveillance_plan(rules_of("cacq").dates, D("2024-03-15"), first_held=D("2024-12-10"))
    assert [s.due_by for s in plan] == [D("2025-03-14"), D("2025-12-10")]


# -- suspension and close-out ------------------------------------------------------------

@pytest.mark.parametrize("pid,usual,ends", [("zpic", 3, "2024-06-09"), ("cacq", 6, "2024-09-09"),
                                            ("dni-sh", 6, "2024-09-09"), ("xbht", 6, "2024-09-09")])
def test_a_suspension_lasts_the_body_usual_period_and_at_most_six_months(pid, usual, ends):
    result = suspension(rules_of(pid).dates, D("2024-03-10"))
    assert (result.months, result.ends, result.latest_end) == (usual, D(ends), D("2024-09-09"))


@pytest.mark.parametrize("pid", PROFILES)
def test_a_suspension_longer_than_the_maximum_is_refused(pid):
    with raises_en(RuleViolation, match="at most 6 months, not 7.*revocation"):
        suspension(rules_of(pid).dates, D("2024-03-10"), months=7)


def test_zpic_imposes_a_suspension_within_five_working_days_others_within_five_days():
    friday = D("2024-03-01")
    assert suspension(rules_of("zpic").dates, friday, verified=friday).impose_by == D("2024-03-08")
    assert suspension(rules_of("cacq").dates, friday, verified=friday).impose_by == D("2024-03-06")
    with raises_en(RuleViolation, match=r"5 working days.*by 2024-03-08.*ZPIC 7\.2"):
        suspension(rules_of("zpic").dates, D("2024-03-11"), verified=friday)


@pytest.mark.parametrize("months,verified,match", [
    (0, None, "at least 1"), (None, D("2024-04-01"), "after the suspension start")])
def test_bad_suspension_input_is_refused(months, verified, match):
    with raises_en(InputError, match=match):
        suspension(rules_of("cacq").dates, D("2024-03-10"), months=months, verified=verified)


@pytest.mark.parametrize(
    "pid,audit,due,clause",
    [
        ("cacq", Audit.INITIAL, "2024-09-10", "CACQ 7.8.4(1)"),
        ("cacq", Audit.SURVEILLANCE, "2024-06-10", "CACQ 7.8.4(2)"),
        ("dni-spshfw", Audit.SURVEILLANCE, "2024-05-10", "DNI 5.6.5"),
        ("dni-sh", Audit.SURVEILLANCE, "2024-05-10", "DNI-SH 5.6.5"),
        ("zpic", Audit.SURVEILLANCE, "2024-06-10", "default"),
    ],
)
def test_non_conformities_close_out_within_the_body_period(pid, audit, due, clause):
    result = nc_deadline(rules_of(pid).dates, audit, D("2024-03-10"))
    assert result.due_by == D(due)
    assert clause in result.clause


def test_recertification_non_conformities_close_before_the_current_expiry():
    rules = rules_of("xbht").dates
    result = nc_deadline(rules, Audit.RECERTIFICATION, D("2027-01-10"),
                         previous_expiry=D("2027-03-14"))
    assert (result.due_by, result.clause) == (D("2027-03-14"), "XBHT 7.5.4")
    with raises_en(InputError, match="needs --previous-expiry"):
        nc_deadline(rules, Audit.RECERTIFICATION, D("2027-01-10"))
    with raises_en(InputError, match="after the expiry"):
        nc_deadline(rules, Audit.RECERTIFICATION, D("2027-04-10"), previous_expiry=D("2027-03-14"))


# -- properties ----------------------------------------------------------------------------

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@given(issue=dates)
def test_validity_is_three_years_less_a_day_under_the_default_convention(issue):
    expiry = certificate_dates(rules_of("cacq").dates, Audit.INITIAL, issue).expiry_date
    assert expiry + timedelta(days=1) == add_months(issue, 36, roll_forward=True)
    assert 1094 <= (expiry - issue).days <= 1096


@given(previous=dates, pid=st.sampled_from(PROFILES))
def test_chained_recertifications_tile_the_calendar_without_gaps_or_overlap(previous, pid):
    rules = rules_of(pid).dates
    first = certificate_dates(rules, Audit.RECERTIFICATION, previous, previous_expiry=previous)
    second = certificate_dates(rules, Audit.RECERTIFICATION, first.expiry_date,
                               previous_expiry=first.expiry_date)
    # each cycle is a whole period starting the day after the last one ended
    assert first.expiry_date == period_end(previous + timedelta(days=1), 36,
                                           PeriodEnd.DAY_BEFORE_ANNIVERSARY)
    assert second.expiry_date == period_end(first.expiry_date + timedelta(days=1), 36,
                                            PeriodEnd.DAY_BEFORE_ANNIVERSARY)


@given(issue=dates, pid=st.sampled_from(PROFILES))
def test_every_surveillance_falls_inside_the_certificate_and_in_order(issue, pid):
    result = certificate_dates(rules_of(pid).dates, Audit.INITIAL, issue)
    due = [s.due_by for s in result.surveillance]
    assert issue < due[0] < due[1] < result.expiry_date


@given(start=dates, days=st.integers(0, 30))
def test_working_days_skip_weekends(start, days):
    end = add_working_days(start, days)
    assert end.weekday() < 5 or days == 0
    weekdays = sum((start + timedelta(d)).weekday() < 5 for d in range(1, (end - start).days + 1))
    assert weekdays == days
