"""Retention periods per profile at their boundaries (pure function, table-tested)."""

from __future__ import annotations

from datetime import date

import pytest

from certdesk.domain.profiles import RetentionSpec
from certdesk.store.retention import (
    CertificateTerm,
    Closure,
    add_years,
    earliest_retain_until,
    retention,
)
from tests.shipped import SHIPPED

D = date.fromisoformat


def cert(issue: str, expiry: str, ended_on: str | None = None,
         ended_by: str | None = None) -> CertificateTerm:
    return CertificateTerm("N", D(issue), D(expiry), D(ended_on) if ended_on else None,
                           ended_by)


@pytest.mark.parametrize(("day", "years", "expected"), [
    ("2026-05-10", 2, "2028-05-10"),
    ("2024-02-29", 2, "2026-02-28"),  # no 29 February: the month's last day
    ("2024-02-29", 4, "2028-02-29"),
    ("2023-12-31", 6, "2029-12-31"),
])
def test_a_period_ends_on_the_corresponding_day_or_the_months_last(day, years, expected):
    assert add_years(D(day), years) == D(expected)


AFTER_END = ["cacq", "xbht", "dni-spshfw", "dni-sh"]


@pytest.mark.parametrize("profile", AFTER_END)
@pytest.mark.parametrize(("on", "due"), [
    ("2030-05-10", False),  # the expiry day itself
    ("2032-05-10", False),  # two years on: the last day to keep
    ("2032-05-11", True),   # the day after
])
def test_records_are_kept_two_years_after_expiry(profile, on, due):
    r = retention(SHIPPED.get(profile).retention, "report", [cert("2027-05-11", "2030-05-10")])
    assert (r.anchor_kind, r.anchor, r.retain_until) == ("expiry", D("2030-05-10"),
                                                        D("2032-05-10"))
    assert r.due(D(on)) is due


@pytest.mark.parametrize(("ended_by", "on", "due"), [
    ("revocation", "2030-03-01", False),
    ("revocation", "2030-03-02", True),
    ("cancellation", "2030-03-02", True),
])
def test_a_revocation_or_cancellation_starts_the_two_years_earlier(ended_by, on, due):
    r = retention(SHIPPED.get("cacq").retention, "contract",
                  [cert("2027-05-11", "2030-05-10", "2028-03-01", ended_by)])
    assert (r.anchor_kind, r.retain_until) == (ended_by, D("2030-03-01"))
    assert r.due(D(on)) is due
    assert "CACQ 11.1" in r.why and ended_by in r.why


def test_an_expiry_on_29_february_is_kept_until_28_february():
    r = retention(SHIPPED.get("cacq").retention, "plan", [cert("2021-03-01", "2024-02-29")])
    assert r.retain_until == D("2026-02-28")
    assert not r.due(D("2026-02-28")) and r.due(D("2026-03-01"))


@pytest.mark.parametrize("profile", ["xbht", "dni-spshfw", "dni-sh"])
def test_bodies_whose_seed_names_no_period_use_cacqs_rule_marked_as_a_default(profile):
    r = retention(SHIPPED.get(profile).retention, "report", [cert("2027-05-11", "2030-05-10")])
    assert r.seed_default and "certdesk default" in r.why and "CACQ 11.1" in r.clause


@pytest.mark.parametrize(("on", "due"), [
    ("2033-05-10", False),  # 6 years after issue: the last day
    ("2033-05-11", True),
])
def test_zpic_keeps_the_cycle_plus_one_full_cycle_six_years_from_issue(on, due):
    r = retention(SHIPPED.get("zpic").retention, "report", [cert("2027-05-10", "2030-05-09")])
    assert (r.anchor_kind, r.anchor, r.retain_until) == ("issue", D("2027-05-10"),
                                                        D("2033-05-10"))
    assert r.due(D(on)) is due and "ZPIC 10.2" in r.why


def test_zpic_revocation_does_not_shorten_the_cycles():
    spec = SHIPPED.get("zpic").retention
    r = retention(spec, "report", [cert("2027-05-10", "2030-05-09", "2027-09-01", "revocation")])
    assert r.retain_until == D("2033-05-10")


def test_the_cap_limits_a_cycles_rule_that_would_run_longer():
    spec = RetentionSpec(rule="cycles", cycles=3, cycle_years=3, cap_years=6, clause="X")
    r = retention(spec, "report", [cert("2024-02-29", "2027-02-28")])
    assert r.retain_until == D("2030-02-28")  # 6, not 9, years; no 29 February in 2030


def test_a_refused_application_is_kept_confidentially_for_its_own_period():
    spec = SHIPPED.get("xbht").retention
    r = retention(spec, "application", [], Closure("refused", D("2026-01-15")))
    assert r.confidential and r.retain_until == D("2029-01-15")
    assert "XBHT 7.2.4" in r.why and not r.due(D("2029-01-15")) and r.due(D("2029-01-16"))


def test_a_record_with_neither_certificate_nor_refusal_is_never_due():
    r = retention(SHIPPED.get("cacq").retention, "application", [])
    assert r.retain_until is None and not r.due(D("2100-01-01"))


def test_a_client_level_record_is_kept_as_long_as_its_longest_certificate():
    r = retention(SHIPPED.get("cacq").retention, "application",
                  [cert("2020-01-01", "2022-12-31"), cert("2023-01-01", "2025-12-31")])
    assert r.retain_until == D("2027-12-31")


def test_a_disposal_certificate_is_kept_for_good():
    r = retention(SHIPPED.get("cacq").retention, "disposal_certificate",
                  [cert("2000-01-01", "2002-12-31")])
    assert r.retain_until is None and not r.due(D("2100-01-01"))


@pytest.mark.parametrize(("certs", "expected"), [
    ([cert("2026-01-01", "2028-12-31")], "2028-11-23"),  # revoked today: today + 2 years
    ([cert("2020-01-01", "2022-12-31")], "2024-12-31"),  # already expired: its own end
    ([], "2028-11-23"),  # nothing decided: min(refused 3 years, revoked 2 years)
])
def test_the_object_lock_never_outlasts_the_earliest_possible_end(certs, expected):
    spec = SHIPPED.get("cacq").retention
    assert earliest_retain_until(spec, "report", certs, None, D("2026-11-23")) == D(expected)


@pytest.mark.parametrize(("recorded", "until", "kind"), [
    ("2026-11-29", "2028-11-29", "recording of the revocation (effective 2026-11-18)"),
    ("2026-11-18", "2028-11-18", "revocation"),  # recorded the day it took effect
    ("2030-01-01", "2031-11-17", "expiry"),  # recorded after expiry: expiry came first
])
def test_a_back_dated_revocation_counts_from_the_day_it_was_recorded(recorded, until, kind):
    term = CertificateTerm("N", D("2026-11-18"), D("2029-11-17"), D("2026-11-18"), "revocation",
                           D(recorded))
    kept = retention(SHIPPED.get("cacq").retention, "certificate", [term])
    assert (kept.retain_until, kept.anchor_kind) == (D(until), kind)
