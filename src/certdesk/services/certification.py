"""Initial certification as one case: programme → plan → report (with NC reports) →
decision → certificate and sub-certificates.

A case file states the facts once (the organisation, its sites, the audit team, the score
sheet, the decision makers); every document is built from them with the figures of the
rules engine, so the plan carries the programme's man-days, the decision the report's score
and grade, and the certificate the decision's date and grade. Every step is checked before
anything is stored — an auditor among the decision makers, a decision before the audit
ended, a failing score recommended for registration — so a refused case leaves no number
drawn and no record archived. A decision that refuses registration is archived with the
other records, and no certificate is issued. Format: docs/lifecycle.md.

A surveillance audit's report goes the same way (``record_surveillance_report``): built
from the certificate's facts and the report record, archived with the surveillance only
when it passes and recommends keeping the certification.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar, overload

from sqlmodel import Session, col, select

from certdesk.common import clock
from certdesk.common.batch import reason
from certdesk.common.errors import CertdeskError, InputError, RuleViolation
from certdesk.common.i18n import N_, Said, shown
from certdesk.documents.context import cn_date
from certdesk.documents.kinds import Build, Rendition, decision_rendition, kind
from certdesk.documents.records import Fields
from certdesk.documents.results import CONCLUSIONS, Decision, Plan, Programme, Report
from certdesk.domain.coverage import product_names
from certdesk.domain.dates import nc_deadline
from certdesk.domain.followup import check_follow_up
from certdesk.domain.guards import not_after_today
from certdesk.domain.nonconformity import Finding, check_closed_for_grant
from certdesk.domain.profiles import Profile
from certdesk.domain.spec import Audit
from certdesk.domain.status import HOLDING
from certdesk.services.cycle import main_certificate, record_surveillance
from certdesk.services.inputs import OrganisationInput, SiteInput
from certdesk.services.issuing import IssuedCertificate, IssuePreview, Issuer, Kept
from certdesk.services.publisher import Publisher, body_signature
from certdesk.store.blobs import sha256_hex
from certdesk.store.models import Certificate, Organisation

STEPS = ("programme", "plan", "report", "nonconformities", "decision")
CASE_FIELDS = frozenset({"name", "uscc", "registered_address", "scope", "sites", "products",
                         *STEPS})
NC_FIELDS = {"number", "clause", "description", "severity", "auditor", "site", "department",
             "auditee", "date", "reference", "prepared_by"}
REPORT_NC = ("number", "clause", "description", "severity")
CLOSE_OUT = {"corrective_action", "verified_on"}
"""How a case NC was closed before the decision (logged with it, not printed on the NC report)."""
RECORD_TYPES = {"programme": "programme", "plan": "plan", "report": "report",
                "nonconformity": "nc_report", "decision": "decision"}
"""Document kind → archive record type [CACQ 11.2]."""


@dataclass(frozen=True)
class Step:
    kind: str
    rendition: Rendition

    @property
    def record_type(self) -> str:
        return RECORD_TYPES[self.kind]


@dataclass(frozen=True)
class Prepared:
    """A case checked end to end and ready to sign: nothing is stored yet."""

    organisation: OrganisationInput
    steps: tuple[Step, ...]
    approved: bool
    outcome: str
    makers: tuple[str, ...]
    score: Decimal
    grade: str | None
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()
    """Time limits the case missed where the body warns [CACQ 7.3.4.4, 7.9.1]."""


@dataclass(frozen=True)
class Certified:
    name: str
    uscc: str
    approved: bool
    outcome: str
    decision_date: date
    records: tuple[Kept, ...]
    certificates: tuple[IssuedCertificate, ...]
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"organisation": self.name, "uscc": self.uscc, "approved": self.approved,
                "outcome": self.outcome, "decision_date": self.decision_date.isoformat(),
                "records": [r.as_dict() for r in self.records],
                "certificates": [c.as_dict() for c in self.certificates],
                "warnings": list(self.warnings)}


def _at(where: str, part: str) -> Said:
    """A part of a case (``programme``, ``sites[2]``: its JSON key), named after the case's
    place in the reader's language."""
    return Said(N_("{where}：{part}"), where=where, part=part)


def _named(where: str, make: Callable[[], Rendition]) -> Rendition:
    try:
        return make()
    except CertdeskError as exc:
        if str(exc).startswith(where):
            raise
        raise type(exc)(N_("{where}：{error}"), where=where, error=exc) from None  # name the step


def _one(job: Build, kind_id: str, record: Mapping[str, Any], where: str) -> Rendition:
    def make() -> Rendition:
        [rendition] = kind(kind_id).contexts(job, record, where)
        return rendition

    return _named(where, make)


Result = TypeVar("Result")


def _result(rendition: Rendition, cls: type[Result]) -> Result:
    """The typed result a step's builder decided (what later steps read)."""
    if not isinstance(rendition.result, cls):
        raise TypeError(f"{rendition.stem}: built no {cls.__name__}")
    return rendition.result


def _signed(publisher: Publisher, profile: Profile, kind_id: str,
            rendition: Rendition) -> bytes:
    """The rendition as a PDF/A record carrying the body's certification signature."""
    ctx = rendition.context
    spec = body_signature(profile, (ctx["doc"] if "doc" in ctx else ctx["notice"])["title"])
    return publisher.signed_pdf(profile.template_path(kind_id), rendition.context,
                                rendition.stem, spec)


def prepare(job: Build, case: Any, where: str) -> Prepared:
    """Build and check every document of ``case``; raises with the first rule broken."""
    f = Fields(case, where, set(CASE_FIELDS))
    org = {k: f.text(k) for k in ("name", "uscc", "registered_address", "scope")}
    sites = list(case.get("sites") or [])
    products = product_names(case.get("products") or [], _at(where, "products"))
    shared = {"sites": sites} | ({"products": list(products)} if products else {})
    team = f.mapping("plan").get("team")

    def step(key: str) -> dict[str, Any]:
        section = dict(f.mapping(key))
        for inherited in (*org, *shared):
            if inherited in section:
                raise f.fail(f"{key}.{inherited}", N_("只在案卷开头填写一次"))
        return section

    programme = _one(job, "programme", {**org, **shared, "cycle": "initial",
                                        **step("programme")}, _at(where, "programme"))
    first = _result(programme, Programme).first
    plan_fields = step("plan")
    plan_fields.setdefault("man_days", first.man_days.man_days)
    plan_fields.setdefault("mode", first.mode)
    plan = _one(job, "plan", {**org, "sites": sites, "audit": "initial", **plan_fields},
                _at(where, "plan"))
    audit = {k: plan_fields[k] for k in ("start", "end", "man_days", "mode")
             if plan_fields.get(k) not in (None, "")}
    crew = _result(plan, Plan).team
    leader = crew.leader.name if crew.leader else ""  # the plan refuses a team without one

    ncs = [Fields(n, _at(where, f"nonconformities[{i}]"), NC_FIELDS | CLOSE_OUT)
           for i, n in enumerate(case.get("nonconformities") or [], start=1)]
    report_fields = step("report")
    if first.sample:
        eligible = _result(programme, Programme).eligible
        report_fields.setdefault("sampling", f"{eligible} 个场所中抽取 {first.sample.sample} 个"
                                             f"（{job.profile.rules.sampling.clause}）")
    report = _one(job, "report", {
        **org, "sites": sites, "audit": "initial", **audit, "team": team,
        "nonconformities": [{k: n.data[k] for k in REPORT_NC if k in n.data} for n in ncs],
        **report_fields}, _at(where, "report"))
    reported = _result(report, Report)
    audit_end = plan_fields.get("end") or plan_fields["start"]
    stated_report = Fields(report_fields, _at(where, "report"))
    rules = job.profile.rules
    late = check_follow_up(rules.follow_up, rules.dates, Audit.INITIAL,
                           date.fromisoformat(str(audit_end)),
                           feature_on=stated_report.date("feature_date", False),
                           report_on=stated_report.date("date", False))
    nc_reports = [_one(job, "nonconformity", {
        "name": org["name"], "uscc": org["uscc"], "registered_address": org["registered_address"],
        "audit": "initial", "audit_end": audit_end, "leader": leader, "auditor": leader,
        **{k: v for k, v in n.data.items() if k not in CLOSE_OUT}}, n.where) for n in ncs]

    decision_fields = step("decision")
    stated = Fields(decision_fields, _at(where, "decision"))
    decided, issue_date = stated.date("decision_date"), stated.date("issue_date", False)
    decision_fields.pop("issue_date", None)  # the certificate's, not the decision record's
    for graded in ("score", "deductions", "feature_result"):
        if graded in decision_fields:
            raise f.fail(f"decision.{graded}", N_("取自评价报告的评分表，请勿填写"))
    decision_record = {
        **org, "sites": sites, "audit": "initial", "start": plan_fields["start"],
        "end": audit_end, "leader": leader, "team": list(crew.others),
        "report_reference": reported.doc.reference, "team_conclusion": reported.conclusion,
        **decision_fields}
    decision = _named(_at(where, "decision"), lambda: decision_rendition(
        job, decision_record, _at(where, "decision"), reported.verdict))
    decided_result = _result(decision, Decision)
    verdict = decided_result.verdict
    findings = tuple(Finding(n.where, n.text("number"), n.text("severity", "轻微"),
                             n.text("corrective_action", "") or None,
                             n.date("verified_on", False)) for n in ncs)
    if decided_result.approved:
        end = date.fromisoformat(str(audit_end))
        check_closed_for_grant(
            findings, audit_end=end, decision=decided,
            deadline=nc_deadline(job.profile.rules.dates, Audit.INITIAL, end).due_by,
            clause=job.profile.rules.decision.nc_clause)
    certificate_sites = [Fields(s, _at(where, f"sites[{i}]")) for i, s in enumerate(sites, 1)]
    organisation = OrganisationInput(
        name=org["name"], uscc=org["uscc"], registered_address=org["registered_address"],
        scope=org["scope"], decision_date=decided,
        grade=verdict.grade if job.profile.scheme.graded else None, issue_date=issue_date,
        sites=tuple(SiteInput(s.text("address"), s.text("scope", org["scope"]),
                              s.flag("temporary"), s.text("name", ""))
                    for s in certificate_sites), products=products)
    steps = (Step("programme", programme), Step("plan", plan), Step("report", report),
             *(Step("nonconformity", r) for r in nc_reports), Step("decision", decision))
    return Prepared(organisation, steps, decided_result.approved, decided_result.outcome,
                    decided_result.makers, verdict.score, verdict.grade, findings,
                    # the late notes are English, as logged: their place is said with them
                    tuple(f"{shown(where, 'en')}: {w}" for w in late))


@dataclass(frozen=True)
class CasePreview:
    """What ``certify`` would do (a dry run): the records it would archive and, when the
    decision approves, the certificates' next numbers; nothing signed, drawn or stored."""

    name: str
    uscc: str
    approved: bool
    outcome: str
    decision_date: date
    records: tuple[tuple[str, str], ...]
    """(record type, file name) per step."""
    certificates: IssuePreview | None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"dry_run": True, "organisation": self.name, "uscc": self.uscc,
                "approved": self.approved, "outcome": self.outcome,
                "decision_date": self.decision_date.isoformat(),
                "records": [{"record_type": r, "filename": f} for r, f in self.records],
                "certificates": self.certificates.as_dict() if self.certificates else None,
                "warnings": list(self.warnings)}


def certify(issuer: Issuer, prepared: Prepared, *, dry_run: bool = False,
            after: int = 0) -> Certified | CasePreview:
    """Sign every step's record, then issue (approved) or file them (refused) — the records
    and the certificates in one transaction. ``dry_run`` stops before signing and returns
    the preview (``after``: earlier approved previews of the batch, for the next number)."""
    profile = issuer.profile
    org = prepared.organisation
    not_after_today(org.decision_date, "决定日期 decision date", clock.today())
    if prepared.approved:
        issuer.refuse_held(org)
    if dry_run:
        return CasePreview(org.name, org.uscc, prepared.approved, prepared.outcome,
                           org.decision_date,
                           tuple((st.record_type, f"{st.rendition.stem}.pdf")
                                 for st in prepared.steps),
                           issuer.preview(org, after=after) if prepared.approved else None,
                           prepared.warnings)

    def produce(st: Step) -> tuple[str, str, bytes]:
        return (st.record_type, f"{st.rendition.stem}.pdf",
                _signed(issuer, profile, st.kind, st.rendition))

    with ThreadPoolExecutor(max_workers=issuer.pool.size, thread_name_prefix="certify") as ex:
        documents = list(ex.map(produce, prepared.steps))
    decision = {"outcome": prepared.outcome, "makers": list(prepared.makers),
                "score": prepared.score, "grade": prepared.grade,
                "decision_date": org.decision_date,
                "nonconformities": [{"number": f.number, "severity": f.severity,
                                     "corrective_action": f.corrective_action,
                                     "verified_on": f.verified_on}
                                    for f in prepared.findings],
                **({"late": list(prepared.warnings)} if prepared.warnings else {})}
    if prepared.approved:
        certificates, kept = issuer.issue_decided(org, records=documents, decision=decision)
    else:
        certificates, kept = [], issuer.file(org, documents, decision)
    return Certified(org.name, org.uscc, prepared.approved, prepared.outcome, org.decision_date,
                     tuple(kept), tuple(certificates), prepared.warnings)


R = TypeVar("R", Certified, CasePreview, Certified | CasePreview)
OnDone = Callable[[str, Certified | CasePreview | None, str | None], None]


@dataclass
class CaseResults(Generic[R]):
    certified: list[R]
    """Previews with ``dry_run``, else the decisions made."""
    failed: list[tuple[str, str]]
    """(where, one-line reason) per case that stored nothing."""


@overload
def certify_cases(issuer: Issuer, cases: list[Any], source: str, *, today: date | None = None,
                  on_done: OnDone | None = None,
                  dry_run: Literal[False] = False) -> CaseResults[Certified]: ...
@overload
def certify_cases(issuer: Issuer, cases: list[Any], source: str, *, today: date | None = None,
                  on_done: OnDone | None = None,
                  dry_run: Literal[True]) -> CaseResults[CasePreview]: ...
@overload
def certify_cases(issuer: Issuer, cases: list[Any], source: str, *, today: date | None = None,
                  on_done: OnDone | None = None,
                  dry_run: bool) -> CaseResults[Certified | CasePreview]: ...


def certify_cases(issuer: Issuer, cases: list[Any], source: str, *, today: date | None = None,
                  on_done: OnDone | None = None, dry_run: bool = False) -> CaseResults[Any]:
    """Certify each case of a file in turn; a case that breaks a rule is reported and the
    others go on. A single case's error is raised as it is (it is the command's error)."""
    results: CaseResults[Certified | CasePreview] = CaseResults([], [])
    for i, case in enumerate(cases, start=1):
        where = (Said(N_("{source}：第 {n} 份案卷"), source=source, n=i) if len(cases) > 1
                 else source)
        job = Build(issuer.profile, issuer.settings, i, today or clock.today())
        try:
            after = sum(1 for c in results.certified
                        if isinstance(c, CasePreview) and c.certificates)
            done = certify(issuer, prepare(job, case, where), dry_run=dry_run, after=after)
        except CertdeskError as exc:
            if len(cases) == 1:
                raise
            why = reason(exc)
            results.failed.append((where, why))
            if on_done:
                on_done(where, None, why)
            continue
        results.certified.append(done)
        if on_done:
            on_done(where, done, None)
    return results


# -- surveillance with its report ---------------------------------------------------------------

def record_surveillance_report(publisher: Publisher, number: str, held_on: date,
                               records: list[Any], where: str, *, actor: str,
                               today: date | None = None,
                               sites: tuple[int, ...] = (), products: str = "",
                               dry_run: bool = False,
                               ) -> tuple[int, Kept | None, Kept | None]:
    """Render the surveillance audit's report (the certificate supplies organisation, scope
    and sites), sign it and archive it with the surveillance record — only when the report
    passes and recommends keeping the certification; otherwise nothing is stored and the
    certificate is for suspension. The maintenance notice (保持认证注册资格通知书, XBHT
    7.8.2(6) 注; DNI's 确认证书, 6.3.2 1)) is signed and archived with them; returns the
    surveillance's number, the report and the notice. ``dry_run`` checks the report, the
    notice and the surveillance and returns no records: nothing signed or stored."""
    not_after_today(held_on, "监督审查日期 surveillance date", clock.today())
    with Session(publisher.engine) as s:
        cert = main_certificate(s, number)
        org = s.get(Organisation, cert.organisation_id)
        profile = publisher.profiles.get(cert.profile)
        covered = [{"number": c.number, "scope": c.scope, "expiry_date": c.expiry_date.isoformat()}
                   for c in s.exec(select(Certificate).where(
                       (Certificate.number == cert.number)
                       | (Certificate.main_number == cert.number),
                       col(Certificate.status).in_(HOLDING))
                       .order_by(col(Certificate.number)))]
        facts = {"name": cert.holder_name, "uscc": org.uscc if org else "",
                 "registered_address": org.registered_address if org else "",
                 "scope": cert.scope, "audit": "surveillance", "start": held_on.isoformat(),
                 "sites": [{"name": site.get("name", ""), "address": site["address"],
                            "scope": site["scope"]}
                           for site in json.loads(cert.sites_json or "[]")]}
    if len(records) != 1:
        raise InputError(N_("{where}：应有一份报告记录，实有 {n} 份"), where=where, n=len(records))
    record = records[0]
    f = Fields(record, where)
    for fact in ("name", "uscc", "registered_address", "scope"):
        if f.has(fact):
            raise f.fail(fact, N_("取自证书 {number}，请勿填写"), number=cert.number)
    if f.has("audit") and f.text("audit") not in ("surveillance", "监督", "监督审查"):
        raise f.fail("audit", N_("应为监督审查：这是监督审查报告"))
    late = check_follow_up(profile.rules.follow_up, profile.rules.dates, Audit.SURVEILLANCE,
                           f.date("end", False) or held_on,
                           feature_on=f.date("feature_date", False),
                           report_on=f.date("date", False))
    job = Build(profile, publisher.settings, 1, today or clock.today())
    report = _one(job, "report", {**facts, **{k: v for k, v in record.items() if k != "audit"}},
                  where)
    reported = _result(report, Report)
    verdict = reported.verdict
    if not verdict.passed or reported.conclusion != CONCLUSIONS[0]:
        why = "; ".join(verdict.reasons) or reported.conclusion
        raise RuleViolation(N_("{where}：监督审查报告不支持保持 {number}（{why}）：应暂停该证书 "
                               "[{clause}]"), where=where, number=cert.number, why=why,
                            clause=reported.clause)
    notice = _one(job, "maintenance_notice", {
        "name": facts["name"], "uscc": facts["uscc"], "certificates": covered,
        "reason": f"监督审查（{cn_date(held_on)}）合格，审查组推荐保持认证注册",
        "date": held_on.isoformat()}, _at(where, "maintenance notice"))
    if dry_run:
        return record_surveillance(publisher.engine, publisher.profiles, number, held_on,
                                   sites=sites, products=products, keep=lambda s, c: "",
                                   dry_run=True), None, None
    signed = [(record_type, f"{r.stem}.pdf", _signed(publisher, profile, kind_id, r))
              for record_type, kind_id, r in (("report", "report", report),
                                              ("notice", "maintenance_notice", notice))]

    def keep(s: Session, cert: Certificate) -> str:
        shas = [publisher.keep(s, pdf, record_type=record_type, filename=filename,
                               profile=profile, organisation_id=cert.organisation_id,
                               certificate_number=cert.number, actor=actor)
                for record_type, filename, pdf in signed]
        return shas[0]  # the report's, logged with the surveillance

    n = record_surveillance(publisher.engine, publisher.profiles, number, held_on, actor=actor,
                            keep=keep, sites=sites, products=products, late=late)
    kept = [Kept(record_type, filename, sha256_hex(pdf), publisher.export(filename, pdf))
            for record_type, filename, pdf in signed]
    return n, kept[0], kept[1]
