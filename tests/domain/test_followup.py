"""Time limits after an audit: the service-feature evaluation within 3 months of an initial or
re-certification management audit, 2 months of a surveillance one [CACQ 7.3.4.4]; the report
within 1 month of the audit's end, its last evaluation activity [CACQ 7.9.1]."""

from __future__ import annotations

from datetime import date

import pytest

from certdesk.common.errors import ConfigError, InputError, RuleViolation
from certdesk.domain.dates import DateRules
from certdesk.domain.followup import FollowUpSpec, check_follow_up, owed_after
from certdesk.domain.spec import Audit, build
from tests.english import raises_en
from tests.shipped import SHIPPED, rules_of

AUDIT_END = date(2026, 10, 14)


def limits(pid: str) -> tuple[FollowUpSpec, DateRules]:
    """A shipped profile's follow-up limits and the dates they count by."""
    rules = rules_of(pid)
    return rules.follow_up, rules.dates


def test_a_surveillance_owes_its_feature_evaluation_in_two_months_and_its_report_a_month_later():
    # CACQ 7.3.4.4: "在监督审核服务管理审核完成后的 2 个月内"; 7.9.1: report 1 month after
    feature, report = owed_after(*limits("cacq"), Audit.SURVEILLANCE, date(2027, 3, 10))
    assert (feature.kind, feature.due_by, feature.clause) == (
        "service_feature", date(2027, 5, 10), "CACQ 7.3.4.4")
    assert (report.kind, report.due_by, report.clause) == ("report", date(2027, 6, 10),
                                                           "CACQ 7.9.1")


@pytest.mark.parametrize("audit", [Audit.INITIAL, Audit.RECERTIFICATION])
def test_initial_and_recertification_feature_evaluations_have_three_months(audit):
    # CACQ 7.3.4.4: "最迟不得迟于初次认证或再认证的服务管理审核后的 3 个月内"
    feature, _ = owed_after(*limits("cacq"), audit, AUDIT_END)
    assert feature.due_by == date(2027, 1, 14)


@pytest.mark.parametrize("pid", sorted(set(SHIPPED.ids()) - {"cacq"}))
def test_bodies_whose_seed_sets_no_follow_up_limit_owe_nothing(pid):
    assert not rules_of(pid).follow_up.active
    assert owed_after(*limits(pid), Audit.SURVEILLANCE, AUDIT_END) == ()
    assert check_follow_up(*limits(pid), Audit.INITIAL, AUDIT_END, feature_on=date(2027, 9, 1),
                           report_on=date(2027, 12, 1)) == ()


def test_a_report_within_a_month_of_the_audit_is_in_time():
    assert check_follow_up(*limits("cacq"), Audit.INITIAL, AUDIT_END, feature_on=None,
                           report_on=date(2026, 11, 14)) == ()


def test_a_report_more_than_a_month_after_the_audit_is_warned_of_with_its_clause():
    (warning,) = check_follow_up(*limits("cacq"), Audit.INITIAL, AUDIT_END, feature_on=None,
                                 report_on=date(2026, 11, 15))
    assert "by 2026-11-14 [CACQ 7.9.1]" in warning


def test_the_reports_month_runs_from_a_later_feature_evaluation():
    # CACQ 7.9.1: the report follows "所有的评价活动"; the audit ends with the last one
    assert check_follow_up(*limits("cacq"), Audit.INITIAL, AUDIT_END, feature_on=date(2026, 12, 20),
                           report_on=date(2027, 1, 20)) == ()


def test_a_late_feature_evaluation_is_warned_of_with_its_clause():
    (warning,) = check_follow_up(*limits("cacq"), Audit.SURVEILLANCE, date(2027, 3, 10),
                                 feature_on=date(2027, 5, 11), report_on=None)
    assert "service-feature evaluation on 2027-05-11 is late" in warning
    assert "by 2027-05-10 [CACQ 7.3.4.4]" in warning


def test_a_report_dated_before_the_audit_ended_is_refused():
    with raises_en(InputError, match="before the audit ended"):
        check_follow_up(*limits("cacq"), Audit.INITIAL, AUDIT_END, feature_on=date(2026, 11, 1),
                        report_on=date(2026, 10, 20))


def test_a_profile_set_to_refuse_refuses_a_late_report():
    strict = FollowUpSpec(report_months=1, report_clause="CACQ 7.9.1", late="refuse")
    with raises_en(RuleViolation, match=r"report dated 2026-12-01 is late.*CACQ 7\.9\.1"):
        check_follow_up(strict, rules_of("cacq").dates, Audit.INITIAL, AUDIT_END, feature_on=None,
                        report_on=date(2026, 12, 1))


@pytest.mark.parametrize("data, match", [
    ({"late": "ignore"}, "late must be warn or refuse"),
    ({"feature_months": {"stage2": 3}, "feature_clause": "x"}, "unknown audit kind"),
    ({"report_months": 0, "report_clause": "x"}, "whole number"),
    ({"report_months": 1}, "needs report_clause"),
    ({"days": 30}, "unknown key"),
])
def test_malformed_follow_up_data_is_a_config_error(data, match):
    with pytest.raises(ConfigError, match=match):
        build(FollowUpSpec, data, "rules.toml [follow_up]")
