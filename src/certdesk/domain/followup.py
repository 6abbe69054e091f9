"""Time limits after an audit has been held: the service-feature evaluation (暗访、公开测评)
"最迟不得迟于初次认证或再认证的服务管理审核后的 3 个月内…或在监督审核服务管理审核完成后的
2 个月内" [CACQ 7.3.4.4], and the report "在审核结束 1 个月内提交" [CACQ 7.9.1].

Reading: the audit ends with its last evaluation activity — 7.9.1 asks for the report once
"所有的评价活动" are complete — so the report's month runs from the later of the management
audit's end and the service-feature evaluation. Pure: the ``[follow_up]`` section of a
profile's ``rules.toml`` (a body whose seed sets no such limit leaves it out) and the dates in;
the due dates, or a late date's warning (``late = "warn"``) or refusal (``"refuse"``) out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from certdesk.common.errors import InputError, RuleViolation
from certdesk.common.i18n import N_
from certdesk.domain.dates import DateRules, PeriodEnd, period_end, start_after
from certdesk.domain.spec import Audit, RuleText, build

FEATURE = "service_feature"
REPORT = "report"


@dataclass(frozen=True)
class FollowUpSpec:
    report_months: int | None = None
    """Months from the audit's end to submit its report (None: no limit)."""
    report_clause: str = ""
    feature_months: Mapping[str, int] = field(default_factory=dict)
    """Per audit kind, months after the management audit for the service-feature
    evaluation; an audit kind left out has no limit."""
    feature_clause: str = ""
    late: str = "warn"

    def __post_init__(self) -> None:
        if self.late not in ("warn", "refuse"):
            raise ValueError(f"late must be warn or refuse, not {self.late!r}")
        unknown = set(self.feature_months) - {a.value for a in Audit}
        if unknown:
            raise ValueError(f"feature_months: unknown audit kind(s) {', '.join(sorted(unknown))}")
        for months in (self.report_months, *self.feature_months.values()):
            if months is not None and (not isinstance(months, int) or months < 1):
                raise ValueError(f"months must be a whole number ≥ 1, not {months!r}")
        if self.report_months and not self.report_clause:
            raise ValueError("report_months needs report_clause")
        if self.feature_months and not self.feature_clause:
            raise ValueError("feature_months needs feature_clause")

    @property
    def active(self) -> bool:
        return bool(self.report_months or self.feature_months)


@dataclass(frozen=True)
class FollowUp:
    """One thing still owed after an audit, and by when."""

    kind: str
    """``service_feature`` or ``report``."""
    due_by: date
    clause: str

    def label(self) -> str:
        what = "服务特性测评" if self.kind == FEATURE else "审查报告提交"
        return f"{what}：应于 {self.due_by} 前 [{self.clause}]"


def follow_up_rules(text: RuleText) -> FollowUpSpec:
    """``[follow_up]`` of a profile's rules (parsed once, when the profile loads)."""
    return build(FollowUpSpec, text.data.get("follow_up") or {}, text.where("follow_up"))


def _months_after(day: date, months: int, convention: PeriodEnd) -> date:
    """Last day of ``months`` counted from the day after ``day`` (as for NC close-out)."""
    return period_end(start_after(day, convention), months, convention)


def feature_due(spec: FollowUpSpec, audit: Audit, management_end: date,
                convention: PeriodEnd) -> FollowUp | None:
    months = spec.feature_months.get(audit.value)
    if not months:
        return None
    return FollowUp(FEATURE, _months_after(management_end, months, convention),
                    spec.feature_clause)


def report_due(spec: FollowUpSpec, audit_end: date, convention: PeriodEnd) -> FollowUp | None:
    if not spec.report_months:
        return None
    return FollowUp(REPORT, _months_after(audit_end, spec.report_months, convention),
                    spec.report_clause)


def owed_after(spec: FollowUpSpec, dates: DateRules, audit: Audit,
               management_end: date) -> tuple[FollowUp, ...]:
    """What an audit held on ``management_end`` still owes while nothing is recorded: the
    service-feature evaluation, and the report — due a month after the latest day the
    evaluation may take place, since the audit ends with it."""
    convention = dates.cycle.period_end
    feature = feature_due(spec, audit, management_end, convention)
    report = report_due(spec, feature.due_by if feature else management_end, convention)
    return tuple(x for x in (feature, report) if x is not None)


def check_follow_up(spec: FollowUpSpec, dates: DateRules, audit: Audit, management_end: date, *,
                    feature_on: date | None, report_on: date | None) -> tuple[str, ...]:
    """The recorded dates of an audit's service-feature evaluation and report against the
    body's limits: a date out of order is an ``InputError``; a late one is returned as a
    warning, or refused where the profile says ``late = "refuse"``."""
    convention = dates.cycle.period_end
    audit_end = max(management_end, feature_on) if feature_on else management_end
    if report_on is not None and report_on < audit_end:
        raise InputError(N_("报告日期 {report_on} 早于审核结束日期（{audit_end}）：审核报告应在"
                            "全部评价活动之后"), report_on=report_on, audit_end=audit_end)
    late = []
    feature = feature_due(spec, audit, management_end, convention)
    if feature and feature_on and feature_on > feature.due_by:
        late.append(f"service-feature evaluation on {feature_on} is late: due within "
                    f"{spec.feature_months[audit.value]} month(s) of the management audit "
                    f"({management_end}), by {feature.due_by} [{feature.clause}]")
    report = report_due(spec, audit_end, convention)
    if report and report_on and report_on > report.due_by:
        late.append(f"report dated {report_on} is late: due within {spec.report_months} "
                    f"month(s) of the audit's end ({audit_end}), by {report.due_by} "
                    f"[{report.clause}]")
    if late and spec.late == "refuse":
        raise RuleViolation("; ".join(late))
    return tuple(late)
