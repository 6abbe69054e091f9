"""What the builders of ``documents.kinds`` decide, as typed values.

A builder reads a record and decides: the programme its man-days and samples, the plan
its team, the report its verdict, the decision its outcome. Later steps read these values
(the certification case passes the programme's man-days to the plan, the plan's leader and
the report's verdict to the decision) instead of the formatted template context, which
each kind makes from its result in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from certdesk.documents.context import cn_date
from certdesk.domain.mandays import ManDays
from certdesk.domain.sampling import Sample
from certdesk.domain.scoring import SheetResult, Verdict
from certdesk.domain.spec import Audit

LEADER_ROLE = "组长"
CONCLUSIONS = ("同意推荐认证注册", "推迟推荐认证注册", "拒绝推荐认证注册")  # DNI 5.3.3.6
REFUSED = "不予认证注册"


@dataclass(frozen=True)
class Doc:
    """Title, reference and date of a record, and who prepared it."""

    title: str
    reference: str
    on: date
    prepared_by: str

    def context(self) -> dict[str, Any]:
        return {"title": self.title, "reference": self.reference, "date": cn_date(self.on),
                "prepared_by": self.prepared_by}


@dataclass(frozen=True)
class Member:
    """One member of an audit team."""

    role: str
    name: str
    registration: str = ""
    code: str = ""
    employer: str = ""

    @property
    def leads(self) -> bool:
        return self.role.startswith(LEADER_ROLE)

    def context(self) -> dict[str, str]:
        return {"role": self.role, "name": self.name, "registration": self.registration,
                "code": self.code, "employer": self.employer}


@dataclass(frozen=True)
class Team:
    members: tuple[Member, ...]

    @property
    def leader(self) -> Member | None:
        return next((m for m in self.members if m.leads), None)

    @property
    def others(self) -> tuple[str, ...]:
        """The names of the members besides the leader."""
        leader = self.leader
        return tuple(m.name for m in self.members if leader is None or m.name != leader.name)

    def context(self) -> list[dict[str, str]]:
        return [m.context() for m in self.members]


@dataclass(frozen=True)
class PlannedAudit:
    """One audit of a programme's cycle, with its man-days and sample."""

    audit: Audit
    name: str
    due: str
    man_days: ManDays
    sample: Sample | None
    site_visits: int
    mode: str
    focus: str


@dataclass(frozen=True)
class Programme:
    """The audit programme of a cycle (审核方案)."""

    doc: Doc
    org: dict[str, str]
    scope: str
    people: int
    company: str
    products: int | None
    service_items: int | None
    cycle: Audit
    first_audit: date
    anchor: date
    sites: tuple[dict[str, Any], ...]
    eligible: int
    """Sites taking part in sampling (the central office may not)."""
    audits: tuple[PlannedAudit, ...]
    clauses: tuple[str, ...]
    product_names: tuple[str, ...] = ()
    """The products and services by name, when the record lists them (the surveillances
    then cover them in turn)."""

    @property
    def first(self) -> PlannedAudit:
        return self.audits[0]


@dataclass(frozen=True)
class Plan:
    """The audit plan (审查计划)."""

    doc: Doc
    org: dict[str, str]
    audit: dict[str, Any]
    team: Team
    sites: tuple[dict[str, Any], ...]
    schedule: tuple[dict[str, str], ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    """The audit report (审查报告) and the verdict of its score sheet."""

    doc: Doc
    org: dict[str, str]
    audit: dict[str, Any]
    team: Team
    sites: tuple[dict[str, Any], ...]
    sampling: str
    implementation: str
    deviations: str
    sheet: dict[str, Any]
    scored: SheetResult
    nonconformities: tuple[dict[str, str], ...]
    conclusion: str
    opinion: str

    @property
    def verdict(self) -> Verdict:
        return self.scored.verdict

    @property
    def clause(self) -> str:
        return score_clause(self.scored)


def score_clause(scored: SheetResult) -> str:
    """The clause a score sheet's verdict rests on first (named when it fails)."""
    return [*scored.verdict.clauses, scored.points_clause][0]


@dataclass(frozen=True)
class Decision:
    """The certification decision (认证决定记录) and the verdict it rests on."""

    doc: Doc
    org: dict[str, str]
    scope: str
    audit: Audit
    start: date
    end: date
    leader: str
    team: tuple[str, ...]
    report_reference: str
    conclusion: str
    sites: tuple[dict[str, Any], ...]
    reviewer: str
    review_date: date
    review_opinion: str
    verdict: Verdict
    outcome: str
    makers: tuple[str, ...]
    on: date
    reason: str
    differs: bool
    """The decision goes against the audit team's conclusion (``reason`` says why)."""
    certificate_number: str
    independence_clause: str

    @property
    def approved(self) -> bool:
        return self.outcome != REFUSED

