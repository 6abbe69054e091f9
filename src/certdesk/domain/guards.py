"""Date guards: which dates a person may give for an event that is being recorded.

A records desk records what happened; it does not schedule it. So a decision, issue,
surveillance or re-certification date is never after today, the calendar sweep acts for
today only (other days are a preview), and a status change lies between the certificate's
issue date (or its previous status change) and today. Recording a status change later than
the profile's ``[status] max_backdate_days`` needs a stated reason and is logged as
back-dated.

Pure: dates and profile settings in, a ``RuleViolation`` naming the rule out. "Today" is
passed in (``common.clock.today`` is its one source).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from certdesk.common.errors import RuleViolation
from certdesk.common.i18n import N_, Msg
from certdesk.domain.spec import RuleText, build, section

NO_FUTURE = "日期不晚于今天 dates.no_future"
SWEEP_TODAY = "日历检查只对今天执行 sweep.today_only"
STATUS_WINDOW = "状态变更日期区间 status.window"
MAX_BACKDATE = "状态变更补记期限 status.max_backdate_days"


@dataclass(frozen=True)
class StatusSpec:
    """``[status]`` of a profile's ``rules.toml``."""

    max_backdate_days: int
    clause: str

    def __post_init__(self) -> None:
        if self.max_backdate_days < 0:
            raise ValueError("max_backdate_days must be 0 or more")


def status_rules(text: RuleText) -> StatusSpec:
    """``[status]`` of a profile's rules (parsed once, when the profile loads)."""
    return build(StatusSpec, section(text, "status"), text.where("status"))


def not_after_today(day: date, what: str, today: date) -> None:
    """``what`` (e.g. "决定日期 decision date") happened on ``day``: not after today."""
    if day > today:
        raise RuleViolation(N_("{what} {day} 晚于今天 {today}：只能记录已经发生的事 [{clause}]"),
                            what=Msg(what), day=day, today=today, clause=NO_FUTURE)


def sweep_day(on: date, today: date, *, dry_run: bool) -> None:
    """The sweep suspends and revokes as of ``on``: only today, other days only previewed."""
    if on != today and not dry_run:
        raise RuleViolation(N_("日历检查日期 {on} 不是今天 {today}：其他日期只能用 --dry-run "
                               "预览 [{clause}]"), on=on, today=today, clause=SWEEP_TODAY)


@dataclass(frozen=True)
class Backdating:
    """A status change recorded on ``recorded_on``, ``days`` after the day it takes effect
    (retention counts from the later of the two: ``store.retention``)."""

    days: int
    reason: str | None
    recorded_on: date

    def as_event(self) -> dict[str, object]:
        return {"backdated": True, "backdated_days": self.days,
                "recorded_on": self.recorded_on,
                **({"backdate_reason": self.reason} if self.reason else {})}


def status_change_day(on: date, today: date, *, earliest: date, earliest_what: str,
                      spec: StatusSpec, backdate_reason: str | None) -> Backdating | None:
    """Check the effective date of a status change; None when it is today.

    ``earliest`` is the certificate's issue date or its previous status change (named by
    ``earliest_what``); a change further back than ``spec.max_backdate_days`` needs
    ``backdate_reason``."""
    not_after_today(on, "状态变更日期 status change date", today)
    if on < earliest:
        raise RuleViolation(N_("状态变更日期 {on} 早于{what} {earliest}：变更只能在此之后生效 "
                               "[{clause}]"), on=on, what=Msg(earliest_what),
                            earliest=earliest, clause=STATUS_WINDOW)
    days = (today - on).days
    if days == 0:
        return None
    reason = (backdate_reason or "").strip() or None
    if days > spec.max_backdate_days and reason is None:
        raise RuleViolation(N_("状态变更日期 {on} 比今天早 {days} 天，超过补记期限 {limit} 天："
                               "请用 --backdate-reason 说明为何补记 [{clause}]"), on=on,
                            days=days, limit=spec.max_backdate_days,
                            clause=f"{MAX_BACKDATE}; {spec.clause}")
    return Backdating(days, reason, today)
