"""Date guards (pure): what a date given for an event being recorded may be."""

from __future__ import annotations

from datetime import date

import pytest

from certdesk.common.errors import RuleViolation
from certdesk.domain.guards import (
    Backdating,
    StatusSpec,
    not_after_today,
    status_change_day,
    sweep_day,
)
from tests.shipped import SHIPPED, rules_of

TODAY = date(2026, 11, 29)
SPEC = StatusSpec(max_backdate_days=5, clause="default")
ISSUED = date(2026, 3, 15)


def change(on: date, reason: str | None = None) -> Backdating | None:
    return status_change_day(on, TODAY, earliest=ISSUED, earliest_what="发证日期",
                             spec=SPEC, backdate_reason=reason)


def test_a_date_after_today_is_refused_naming_what_and_the_rule():
    not_after_today(TODAY, "决定日期", TODAY)
    with pytest.raises(RuleViolation, match=r"^决定日期 2062-11-20 晚于今天 2026-11-29.*"
                                            r"dates\.no_future"):
        not_after_today(date(2062, 11, 20), "决定日期", TODAY)


def test_the_sweep_acts_for_today_and_previews_any_other_day():
    sweep_day(TODAY, TODAY, dry_run=False)
    sweep_day(date(2028, 6, 1), TODAY, dry_run=True)
    for day in (date(2028, 6, 1), date(2026, 1, 1)):
        with pytest.raises(RuleViolation, match=r"--dry-run.*sweep\.today_only"):
            sweep_day(day, TODAY, dry_run=False)


def test_a_status_change_today_is_not_back_dated():
    assert change(TODAY) is None


def test_a_status_change_lies_between_the_issue_date_and_today():
    with pytest.raises(RuleViolation, match=r"早于发证日期 2026-03-15.*status\.window"):
        change(date(2026, 3, 14), "补记")
    with pytest.raises(RuleViolation, match=r"dates\.no_future"):
        change(date(2026, 11, 30))
    assert change(ISSUED, "补记") == Backdating(259, "补记", TODAY)


def test_back_dating_within_the_limit_needs_no_reason_but_is_marked():
    assert change(date(2026, 11, 24)) == Backdating(5, None, TODAY)
    assert change(date(2026, 11, 24)).as_event() == {
        "backdated": True, "backdated_days": 5, "recorded_on": TODAY}


def test_back_dating_beyond_the_limit_needs_a_reason():
    with pytest.raises(RuleViolation, match=r"超过补记期限 5 天.*--backdate-reason.*"
                                            r"status\.max_backdate_days; default"):
        change(date(2026, 11, 23), "   ")
    assert change(date(2026, 11, 23), "录入延误").as_event()["backdate_reason"] == "录入延误"


@pytest.mark.parametrize("profile", SHIPPED.ids())
def test_every_profile_sets_its_back_dating_limit_and_marks_it_unverified(profile):

    assert rules_of(profile).status.max_backdate_days >= 0
    assert "status.max_backdate_days" in SHIPPED.get(profile).body.unverified
