"""Dates of the certification cycle: validity, re-certification, surveillance, suspension
and non-conformity close-out [CACQ 7.5, 7.8.4, 7.10, 8.2-8.5; DNI 5.6; ZPIC 5, 7.2;
XBHT 7.5-7.8].

Pure: a profile's ``rules.toml`` sections and dates in, dates out. Every body difference
(anchor of the surveillance clock, intervals, limits, the period convention) is data.

Periods follow one profile setting, ``cycle.period_end``:

* ``day_before_anniversary`` (default): a period of N months that starts on day D ends on
  the day before D's N-month anniversary (issued 2024-03-15 -> valid to 2027-03-14); an
  anniversary that does not exist (Feb 29, the 31st) rolls to the 1st of the next month
  first, so a certificate issued on 2024-02-29 ends on 2027-02-28.
* ``anniversary``: the period ends on the anniversary itself; a missing day becomes the
  month's last day (Civil Code art. 202), so 2024-02-29 -> 2027-02-28.

A period "from" a validity start (issue or decision date) includes that day; a period
"after" an event (end of an audit, expiry) starts on the next day under the default
convention, so both readings agree on "six months after 2027-03-14" = 2027-09-14.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from certdesk.common.errors import ConfigError, InputError, RuleViolation
from certdesk.common.i18n import N_
from certdesk.domain.spec import Audit, RuleText, build, section

# -- the period convention ------------------------------------------------------------

class PeriodEnd(StrEnum):
    DAY_BEFORE_ANNIVERSARY = "day_before_anniversary"
    ANNIVERSARY = "anniversary"


def add_months(start: date, months: int, *, roll_forward: bool) -> date:
    """``start`` moved by whole months; a missing day rolls to the 1st of the next month
    (``roll_forward``) or stays on the month's last day."""
    year, month0 = divmod(start.month - 1 + months, 12)
    year += start.year
    last = calendar.monthrange(year, month0 + 1)[1]
    if start.day <= last:
        return date(year, month0 + 1, start.day)
    end_of_month = date(year, month0 + 1, last)
    return end_of_month + timedelta(days=1) if roll_forward else end_of_month


def period_end(start: date, months: int, convention: PeriodEnd) -> date:
    """Last day of a period of ``months`` that starts on (and includes) ``start``."""
    if convention is PeriodEnd.DAY_BEFORE_ANNIVERSARY:
        return add_months(start, months, roll_forward=True) - timedelta(days=1)
    return add_months(start, months, roll_forward=False)


def start_after(day: date, convention: PeriodEnd) -> date:
    """First day of a period that follows ``day`` (an audit end, an expiry)."""
    return day + timedelta(days=1) if convention is PeriodEnd.DAY_BEFORE_ANNIVERSARY else day


# -- specs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CycleSpec:
    validity_years: int
    period_end: PeriodEnd
    clause: str
    initial_decision_months: int
    initial_decision_clause: str
    late_recert_months: int
    late_recert_clause: str
    recert_application_months: int = 0
    """The organisation applies for re-certification this many months before expiry (0:
    the body sets no time); the due list shows it from a month before."""
    recert_application_clause: str = ""
    recert_audit_before_expiry: bool = False
    """The re-certification audit must end by the previous expiry, even when the decision
    comes in the late window (CACQ 7.6.2, 7.10.8)."""
    recert_audit_clause: str = ""


@dataclass(frozen=True)
class SurveillanceLimit:
    """The ``number``-th surveillance must start within ``months`` of the anchor date."""

    number: int
    months: int
    clause: str


@dataclass(frozen=True)
class SurveillanceSpec:
    anchor: str
    """``issue`` or ``decision``: the date the surveillance clock starts from."""
    first_within_months: int
    interval_months: int
    count: int
    calendar_year: bool
    """At least one surveillance per calendar year, the re-certification year excepted."""
    clause: str
    extension_months: int | None = None
    """On written request a later surveillance may be held up to this many months after
    the previous one (still within its calendar year)."""
    limits: tuple[SurveillanceLimit, ...] = ()

    def __post_init__(self) -> None:
        if self.anchor not in ("issue", "decision"):
            raise ValueError(f"anchor must be 'issue' or 'decision', not {self.anchor!r}")


@dataclass(frozen=True)
class SuspensionSpec:
    usual_months: int
    max_months: int
    impose_within_days: int
    working_days: bool
    """Count ``impose_within_days`` as working days (Mon-Fri; public holidays are not known)."""
    clause: str
    restore_clause: str
    """Where the body allows restoring only inside the period and revokes after it."""
    revoke_clause: str = ""
    """Where the body revokes within ``impose_within_days`` of verification."""
    late: str = "warn"
    """A suspension or revocation imposed after its deadline: ``warn`` (it is applied, the
    lateness logged and shown) or ``refuse``."""

    def __post_init__(self) -> None:
        if self.late not in ("warn", "refuse"):
            raise ValueError(f"late must be 'warn' or 'refuse', not {self.late!r}")


@dataclass(frozen=True)
class CloseOut:
    clause: str
    months: int | None = None
    before_expiry: bool = False

    def __post_init__(self) -> None:
        if (self.months is None) == (not self.before_expiry):
            raise ValueError("a close-out rule needs exactly one of months / before_expiry")


@dataclass(frozen=True)
class DateRules:
    profile: str
    cycle: CycleSpec
    surveillance: SurveillanceSpec
    suspension: SuspensionSpec
    nc_closeout: Mapping[Audit, CloseOut]


def date_rules(text: RuleText) -> DateRules:
    """The date rules of a body profile (parsed once, when the profile loads)."""
    cycle = build(CycleSpec, section(text, "cycle"), text.where("cycle"), period_end=PeriodEnd)
    surveillance = build(
        SurveillanceSpec, section(text, "surveillance"), text.where("surveillance"),
        limits=lambda rows: tuple(
            build(SurveillanceLimit, r, f"{text.where('surveillance')} limits") for r in rows),
    )
    suspension = build(SuspensionSpec, section(text, "suspension"), text.where("suspension"))
    nc_data = section(text, "nc_closeout")
    where = text.where("nc_closeout")
    missing = [a.value for a in Audit if a.value not in nc_data]
    if missing:
        raise ConfigError(f"{where}: no rule for {', '.join(missing)}")
    nc = {a: build(CloseOut, nc_data[a.value], f"{where} {a.value}") for a in Audit}
    return DateRules(text.profile, cycle, surveillance, suspension, nc)


# -- validity and re-certification -----------------------------------------------------

@dataclass(frozen=True)
class SurveillanceDue:
    number: int
    due_by: date
    rule: str
    may_extend_to: date | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {"number": self.number, "due_by": self.due_by.isoformat(), "rule": self.rule}
        if self.may_extend_to:
            data["may_extend_to"] = self.may_extend_to.isoformat()
        return data


@dataclass(frozen=True)
class CertificateDates:
    audit: Audit
    decision_date: date
    issue_date: date
    effective_from: date
    expiry_date: date
    surveillance: tuple[SurveillanceDue, ...]
    late_recertification: bool
    clauses: tuple[str, ...]
    period_end: PeriodEnd

    def as_dict(self) -> dict[str, Any]:
        return {
            "audit": self.audit.value,
            "decision_date": self.decision_date.isoformat(),
            "issue_date": self.issue_date.isoformat(),
            "effective_from": self.effective_from.isoformat(),
            "expiry_date": self.expiry_date.isoformat(),
            "surveillance_due": [s.due_by.isoformat() for s in self.surveillance],
            "surveillance": [s.as_dict() for s in self.surveillance],
            "late_recertification": self.late_recertification,
            "period_end": self.period_end.value,
            "clauses": list(self.clauses),
        }


def check_decision_date(rules: DateRules, audit: Audit, audit_end: date, decision: date) -> str:
    """A decision follows the audit it decides on and, for an initial certification, comes
    within the body's months of the on-site audit; returns the clause that was applied."""
    cyc = rules.cycle
    if audit_end > decision:
        raise InputError(N_("审核结束日期 {audit_end} 晚于认证决定日期 {decision}：认证决定不能早于"
                            "其所依据的审核"), audit_end=audit_end, decision=decision)
    if audit is not Audit.INITIAL:
        return cyc.clause
    latest = period_end(start_after(audit_end, cyc.period_end), cyc.initial_decision_months,
                        cyc.period_end)
    if decision > latest:
        raise RuleViolation(
            N_("初次认证决定日期 {decision} 晚于现场审核结束日 {audit_end} 超过 {months} 个月"
               "（最晚 {latest}）：须重新审核后再作决定 [{clause}]"),
            decision=decision, months=cyc.initial_decision_months, audit_end=audit_end,
            latest=latest, clause=cyc.initial_decision_clause)
    return cyc.initial_decision_clause


def certificate_dates(
    rules: DateRules,
    audit: Audit,
    decision: date,
    *,
    issue: date | None = None,
    previous_expiry: date | None = None,
    audit_end: date | None = None,
    first_surveillance: date | None = None,
) -> CertificateDates:
    """Issue, effective and expiry dates and the surveillance plan of a new certificate.

    ``issue`` defaults to the decision date. Re-certification needs ``previous_expiry``;
    ``audit_end`` (initial only) checks the decision deadline after the on-site audit;
    ``first_surveillance`` (the date it was actually held) re-plans the second one.
    """
    cyc = rules.cycle
    conv = cyc.period_end
    issue = decision if issue is None else issue
    if issue < decision:
        raise RuleViolation(
            N_("发证日期 {issue} 早于认证决定日期 {decision}：证书不能在认证决定之前签发 "
               "[{clause}]"),
            issue=issue, decision=decision, clause=cyc.clause)
    clauses = [cyc.clause]
    late = False
    if audit is Audit.INITIAL:
        if previous_expiry is not None:
            raise InputError(N_("--previous-expiry 仅适用于再认证"))
        if audit_end is not None:
            clauses.append(check_decision_date(rules, audit, audit_end, decision))
        effective = issue
        expiry = period_end(issue, 12 * cyc.validity_years, conv)
    elif audit is Audit.RECERTIFICATION:
        if previous_expiry is None:
            raise InputError(N_("再认证需要 --previous-expiry（现有证书的到期日）"))
        if audit_end is not None:
            raise InputError(N_("--audit-end 仅适用于初次认证"))
        next_start = start_after(previous_expiry, conv)
        expiry = period_end(next_start, 12 * cyc.validity_years, conv)
        late = decision > previous_expiry
        if late:
            latest = period_end(next_start, cyc.late_recert_months, conv)
            if decision > latest:
                raise RuleViolation(
                    N_("再认证决定日期 {decision} 晚于证书到期日 {expiry} 超过 {months} 个月"
                       "（最晚 {latest}）：须重新进行初次认证 [{clause}]"),
                    decision=decision, months=cyc.late_recert_months, expiry=previous_expiry,
                    latest=latest, clause=cyc.late_recert_clause)
            clauses.append(cyc.late_recert_clause)
        # A late re-certificate is effective from its decision; the old one lapsed at expiry.
        effective = decision if late else issue
    else:
        raise InputError(N_("只有初次认证和再认证审核才有证书日期"))
    anchor = decision if rules.surveillance.anchor == "decision" else issue
    plan = surveillance_plan(rules, anchor, first_held=first_surveillance)
    clauses.append(rules.surveillance.clause)
    return CertificateDates(audit, decision, issue, effective, expiry, plan, late,
                            tuple(clauses), conv)


def recert_application_due(rules: DateRules, expiry: date) -> date | None:
    """The day ``recert_application_months`` before ``expiry`` (None: no such time limit)."""
    months = rules.cycle.recert_application_months
    return add_months(expiry, -months, roll_forward=False) if months else None


def check_recert_audit(rules: DateRules, previous_expiry: date, decision: date,
                       audit_end: date | None) -> None:
    """The re-certification audit precedes its decision and, where the body requires it,
    ends by the previous expiry; a late decision then needs the audit date to show it."""
    cyc = rules.cycle
    if audit_end is not None and audit_end > decision:
        raise InputError(N_("审核结束日期 {audit_end} 晚于认证决定日期 {decision}：认证决定不能早于"
                            "其所依据的审核"), audit_end=audit_end, decision=decision)
    if not cyc.recert_audit_before_expiry or decision <= previous_expiry:
        return  # a decision by the expiry follows an audit that ended by it too
    late_window = period_end(start_after(previous_expiry, cyc.period_end),
                             cyc.late_recert_months, cyc.period_end)
    if decision > late_window:
        return  # refused by certificate_dates: beyond the late window altogether
    if audit_end is None:
        raise InputError(N_("认证决定日期 {decision} 晚于证书到期日 {expiry}：请给出再认证审核的"
                            "最后一天（--audit-end），该日不得晚于到期日 [{clause}]"),
                         decision=decision, expiry=previous_expiry, clause=cyc.recert_audit_clause)
    if audit_end > previous_expiry:
        raise RuleViolation(
            N_("再认证审核于 {audit_end} 结束，晚于证书到期日 {expiry}：不能再认证，须重新进行"
               "初次认证 [{clause}]"),
            audit_end=audit_end, expiry=previous_expiry, clause=cyc.recert_audit_clause)


def surveillance_plan(
    rules: DateRules, anchor: date, *, first_held: date | None = None
) -> tuple[SurveillanceDue, ...]:
    """Latest date for each surveillance of a cycle whose clock starts on ``anchor``.

    The first is due within ``first_within_months``; each later one within
    ``interval_months`` of the previous (its actual date when known, else its latest date),
    no later than the end of calendar year ``anchor.year + n`` when the calendar-year rule
    applies, and never past a profile limit counted from the anchor.
    """
    spec = rules.surveillance
    conv = rules.cycle.period_end
    if first_held is not None and first_held < anchor:
        raise InputError(N_("首次监督审核日期 {first_held} 早于发证日期 {anchor}")
                         if spec.anchor == "issue" else
                         N_("首次监督审核日期 {first_held} 早于认证决定日期 {anchor}"),
                         first_held=first_held, anchor=anchor)
    plan: list[SurveillanceDue] = []
    previous: date | None = None
    for n in range(1, spec.count + 1):
        year_end = date(anchor.year + n, 12, 31) if spec.calendar_year else date.max
        extended = None
        if previous is None:
            due = period_end(anchor, spec.first_within_months, conv)
            rule = f"within {spec.first_within_months} months of the {spec.anchor} date"
        else:
            after = start_after(previous, conv)
            due = period_end(after, spec.interval_months, conv)
            rule = f"within {spec.interval_months} months of surveillance {n - 1}"
            if spec.extension_months:
                extended = min(period_end(after, spec.extension_months, conv), year_end)
        if due > year_end:
            due, rule = year_end, f"{rule}, in calendar year {year_end.year}"
        for limit in (lim for lim in spec.limits if lim.number == n):
            cap = period_end(anchor, limit.months, conv)
            if cap < due:
                due, rule = cap, f"within {limit.months} months of the {spec.anchor} date"
            if extended is not None:
                extended = min(extended, cap)
        if extended is not None and extended <= due:
            extended = None
        plan.append(SurveillanceDue(n, due, rule, extended))
        previous = first_held if (n == 1 and first_held is not None) else due
    return tuple(plan)


# -- suspension and non-conformity close-out --------------------------------------------

def add_working_days(start: date, days: int) -> date:
    """``start`` + ``days`` working days (Mon-Fri; public holidays are not known)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def imposition_deadline(spec: SuspensionSpec, verified: date) -> date:
    """Last day to suspend (or revoke) after the ground was verified on ``verified``."""
    return (add_working_days(verified, spec.impose_within_days) if spec.working_days
            else verified + timedelta(days=spec.impose_within_days))


@dataclass(frozen=True)
class Suspension:
    start: date
    months: int
    ends: date
    latest_end: date
    impose_by: date | None
    clause: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "months": self.months,
            "ends": self.ends.isoformat(),
            "latest_end": self.latest_end.isoformat(),
            "revoke_if_unresolved_after": self.latest_end.isoformat(),
            "impose_by": self.impose_by.isoformat() if self.impose_by else None,
            "clause": self.clause,
        }


def suspension(
    rules: DateRules, start: date, *, months: int | None = None, verified: date | None = None
) -> Suspension:
    """A suspension from ``start`` for ``months`` (default: the body's usual period).

    Longer than the maximum is refused; ``verified`` (the day the ground was verified)
    gives the last day the suspension may be imposed on.
    """
    spec = rules.suspension
    conv = rules.cycle.period_end
    months = spec.usual_months if months is None else months
    if months < 1:
        raise InputError(N_("暂停期 {months} 个月：至少为 1 个月"), months=months)
    if months > spec.max_months:
        raise RuleViolation(N_("暂停期最长 {most} 个月，不能为 {months} 个月；期满仍未解决的应撤销"
                               "证书 [{clause}]"), most=spec.max_months, months=months,
                            clause=spec.clause)
    impose_by = None
    if verified is not None:
        if verified > start:
            raise InputError(N_("核实日期 {verified} 晚于暂停开始日期 {start}"),
                             verified=verified, start=start)
        impose_by = imposition_deadline(spec, verified)
        if start > impose_by:
            raise RuleViolation(
                N_("暂停开始日期 {start} 已逾期：须在核实后 {n} 个工作日内实施，最晚 {by} "
                   "[{clause}]")
                if spec.working_days else
                N_("暂停开始日期 {start} 已逾期：须在核实后 {n} 天内实施，最晚 {by} [{clause}]"),
                start=start, n=spec.impose_within_days, by=impose_by, clause=spec.clause)
    return Suspension(start, months, period_end(start, months, conv),
                      period_end(start, spec.max_months, conv), impose_by, spec.clause)


@dataclass(frozen=True)
class CloseOutDeadline:
    audit: Audit
    due_by: date
    rule: str
    clause: str

    def as_dict(self) -> dict[str, Any]:
        return {"audit": self.audit.value, "due_by": self.due_by.isoformat(),
                "rule": self.rule, "clause": self.clause}


def nc_deadline(
    rules: DateRules, audit: Audit, audit_end: date, *, previous_expiry: date | None = None
) -> CloseOutDeadline:
    """Last day to close out (verify) the non-conformities of an audit."""
    spec = rules.nc_closeout[audit]
    if spec.before_expiry:
        if previous_expiry is None:
            raise InputError(N_("{audit} 审核的不符合项关闭期限需要 --previous-expiry"),
                             audit=audit.value)
        if previous_expiry < audit_end:
            raise InputError(N_("审核结束日期 {audit_end} 晚于证书到期日 {expiry}"),
                             audit_end=audit_end, expiry=previous_expiry)
        return CloseOutDeadline(audit, previous_expiry, "before the current certificate expires",
                                spec.clause)
    assert spec.months is not None, "a close-out rule has months or before_expiry"
    conv = rules.cycle.period_end
    due = period_end(start_after(audit_end, conv), spec.months, conv)
    return CloseOutDeadline(audit, due, f"within {spec.months} months of the audit end",
                            spec.clause)
