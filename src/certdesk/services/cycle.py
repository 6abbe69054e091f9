"""The certification cycle after issue: re-issue (换证), re-certification, surveillance
records, the due list and the sweep that applies the calendar's consequences.

The sweep is idempotent and cron-friendly: overdue surveillance suspends (with a signed
notice), a suspension past its end revokes, a certificate past its expiry is logged as
expired once. Running it twice on the same day changes nothing the second time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import exists, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from certdesk.common import clock
from certdesk.common.errors import InputError, NotFound, RuleViolation
from certdesk.common.i18n import N_, Msg
from certdesk.documents.context import CertificateFacts
from certdesk.documents.render import render_docx
from certdesk.domain.coverage import (
    audited_products,
    products_owed,
    site_coverage,
    visited_sites,
)
from certdesk.domain.dates import (
    DateRules,
    add_months,
    check_recert_audit,
    recert_application_due,
)
from certdesk.domain.followup import owed_after
from certdesk.domain.guards import not_after_today, sweep_day
from certdesk.domain.numbering import parse
from certdesk.domain.profiles import Profile, Profiles
from certdesk.domain.sampling import sample_size
from certdesk.domain.scope import change_site_scopes
from certdesk.domain.spec import Audit
from certdesk.domain.status import ENDED, HOLDING, STATUS_LABELS, CertStatus, effective_status
from certdesk.domain.text import clean_text
from certdesk.services.inputs import OrganisationInput, SiteInput
from certdesk.services.issuing import IssuedCertificate, IssuePreview, Issuer
from certdesk.services.publisher import Publisher, body_signature
from certdesk.services.successor import replaced_note
from certdesk.services.transitions import change_status
from certdesk.store import events
from certdesk.store.db import session_scope
from certdesk.store.models import (
    REPORT_PENDING,
    Certificate,
    Event,
    Organisation,
    Surveillance,
)
from certdesk.store.state import (
    add_surveillance,
    archive_report,
    next_surveillance,
    surveillances,
)


def main_certificate(s: Session, number: str) -> Certificate:
    number = str(parse(number))
    cert = s.exec(select(Certificate).where(Certificate.number == number)).first()
    if cert is None:
        raise NotFound(N_("无此证书 {number}"), number=number)
    if cert.main_number:
        raise RuleViolation(N_("{number} 是分证书：请对其主证书 {main} 操作，分证书随之变更"),
                            number=number, main=cert.main_number)
    return cert


def _sites(cert: Certificate) -> tuple[dict, ...]:
    return tuple(json.loads(cert.sites_json or "[]"))


# -- re-certification ----------------------------------------------------------------------

def recertify(issuer: Issuer, number: str, decision: date, *, issue: date | None = None,
              grade: str | None = None, scope: str | None = None,
              audit_end: date | None = None, dry_run: bool = False,
              ) -> list[IssuedCertificate] | IssuePreview:
    """Re-certify a main certificate: R+1, dates from the previous expiry, old superseded.

    Refused when the previous certificate is revoked, cancelled or already superseded, and
    when the decision comes more than the late window after expiry [XBHT 7.7.3]; where the
    body requires the audit before expiry, a late decision needs ``audit_end`` by it
    [CACQ 7.6.2, 7.10.8].
    ``dry_run`` returns the preview (the number that would be drawn); nothing stored.
    """
    grade = clean_text(grade.strip(), "grade") if grade else None
    scope = clean_text(scope.strip(), "scope") if scope else None
    with Session(issuer.engine) as s:
        prev = main_certificate(s, number)
        org = s.get_one(Organisation, prev.organisation_id)
    if prev.profile != issuer.profile.id:
        raise RuleViolation(N_("{number} 属于认证方案配置 {profile}"), number=prev.number,
                            profile=repr(prev.profile))
    if prev.status in ENDED:
        raise RuleViolation(N_("证书 {number} 不能再认证：证书状态为{status}{replaced} "
                               "[XBHT 7.7, A.4]"), number=prev.number,
                            status=Msg(STATUS_LABELS[prev.status][0]),
                            replaced=replaced_note(prev))
    check_recert_audit(issuer.profile.rules.dates, prev.expiry_date, decision, audit_end)
    org_input = OrganisationInput(
        name=org.name, uscc=org.uscc, registered_address=org.registered_address,
        scope=scope or prev.scope, decision_date=decision, grade=grade or prev.grade,
        issue_date=issue,
        sites=tuple(SiteInput(x["address"], x["scope"], x.get("temporary", False),
                              x.get("name", "")) for x in _sites(prev)),
        products=tuple(json.loads(prev.products_json or "[]")))
    if dry_run:
        return issuer.preview(org_input, previous=prev)
    return issuer.issue(org_input, previous=prev)


# -- re-issue within validity ---------------------------------------------------------------

@dataclass(frozen=True)
class Changes:
    name: str | None = None
    registered_address: str | None = None
    scope: str | None = None
    grade: str | None = None
    site_scopes: tuple[tuple[int, str], ...] = ()
    """(site position as printed, new scope) per site whose scope changes."""
    removed_sites: tuple[int, ...] = ()
    """Positions of the sites leaving the certificate (their sub-certificates are cancelled)."""

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ()}


def _position(sub: Certificate, sites: tuple[dict, ...]) -> int:
    """A sub-certificate's site: by its address (positions shift once a site is removed),
    else by its sub number."""
    same = [k for k, s in enumerate(sites, start=1) if s.get("address") == sub.site_address]
    return same[0] if len(same) == 1 else (sub.sub or 0)


@dataclass(frozen=True)
class ReissuePreview:
    """What ``reissue`` would do (a dry run): nothing signed or stored."""

    number: str
    on: date
    changes: Changes
    certificates: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"dry_run": True, "number": self.number, "on": self.on,
                "changes": self.changes.as_dict(), "certificates": list(self.certificates)}


def reissue(issuer: Issuer, number: str, changes: Changes, reason: str, *,
            on: date | None = None, dry_run: bool = False,
            ) -> list[IssuedCertificate] | ReissuePreview:
    """Re-issue a valid certificate with changed details: same number and validity, the
    re-issue date printed, the previous PDFs superseded [XBHT A.3; DNI 6.4-6.6].

    A scope change names every site's new scope or removes the site
    (``domain.scope.change_site_scopes``); the sub-certificates are re-issued with their
    sites' scopes and a removed site's sub-certificate is cancelled, all in one transaction."""
    today = clock.today()
    on = on or today
    not_after_today(on, "换证日期 re-issue date", today)
    if not changes.as_dict():
        raise InputError(N_("没有要变更的内容：请给出 --name、--address、--scope、--grade、"
                            "--site-scope 或 --remove-site"))
    if not reason.strip():
        raise InputError(N_("换发证书须填写理由"))
    reason = clean_text(reason.strip(), "reason")
    cleaned: dict[str, Any] = {k: clean_text(v.strip(), k)
                               for k, v in changes.as_dict().items() if isinstance(v, str)}
    changes = replace(changes, **cleaned)
    with Session(issuer.engine) as s:
        main = main_certificate(s, number)
        subs = list(s.exec(select(Certificate).where(Certificate.main_number == main.number)
                           .order_by(col(Certificate.sub))))
        org = s.get_one(Organisation, main.organisation_id)
    if main.profile != issuer.profile.id:
        raise RuleViolation(N_("{number} 属于认证方案配置 {profile}"), number=main.number,
                            profile=repr(main.profile))
    status = effective_status(main.status, main.expiry_date, on, issued=main.issue_date)
    if status != CertStatus.VALID:
        raise RuleViolation(N_("证书 {number} 不能换证：证书状态为{status}{replaced}；"
                               "只有有效期内的有效证书可以换证 [XBHT A.3]"), number=main.number,
                            status=Msg(STATUS_LABELS[status][0]), replaced=replaced_note(main))
    if on < main.issue_date:
        raise RuleViolation(N_("换证日期 {on} 早于发证日期 {issued}"), on=on,
                            issued=main.issue_date)
    if changes.grade:
        grades = issuer.profile.rules.scoring.grade_names
        if changes.grade not in grades:
            raise InputError(N_("等级 {grade} 不在 {grades} 之列"), grade=repr(changes.grade),
                             grades=" / ".join(grades))
    old_sites = _sites(main)
    new_scope = changes.scope if changes.scope and changes.scope != main.scope else None
    plan = change_site_scopes(old_sites, new_scope, dict(changes.site_scopes),
                              changes.removed_sites)
    sites = plan.sites
    facts = CertificateFacts(
        number=main.number, main_number=None, holder_name=changes.name or main.holder_name,
        uscc=org.uscc, registered_address=changes.registered_address or org.registered_address,
        scope=changes.scope or main.scope, grade=changes.grade or main.grade,
        issue_date=main.issue_date, expiry_date=main.expiry_date, sites=sites,
        reissue_date=on)
    live = [sub for sub in subs if sub.status in HOLDING]
    withdrawn = [sub for sub in live if _position(sub, old_sites) in plan.removed]
    all_facts = [facts]
    for sub in live:
        k = _position(sub, old_sites)
        if k in plan.removed:
            continue
        site: dict[str, Any]
        site = (sites[plan.kept.index(k)] if k in plan.kept else
                {"address": sub.site_address, "scope": sub.scope})
        all_facts.append(replace(facts, number=sub.number, main_number=main.number,
                                 scope=site["scope"], site=site))
    profile = issuer.profile
    if dry_run:
        for f in all_facts[:2]:  # template errors show in the preview
            render_docx(*issuer.context_for(f, None))
        return ReissuePreview(main.number, on, changes, tuple(f.number for f in all_facts))
    spec = body_signature(profile, "认证证书（换证）")
    produced = [(f, *issuer.certificate_pdf(f, spec)) for f in all_facts]
    out = []
    with session_scope(issuer.engine) as s:
        org_row = s.get_one(Organisation, org.id)
        org_row.name = facts.holder_name
        org_row.registered_address = facts.registered_address
        s.add(org_row)
        for f, pdf, url in produced:
            sha = issuer.keep(s, pdf, record_type="certificate",
                              filename=f"{f.number}-换证{on:%Y%m%d}.pdf", profile=profile,
                              organisation_id=org.id, certificate_number=f.number,
                              actor=issuer.actor)
            row = s.exec(select(Certificate).where(Certificate.number == f.number)).one()
            previous_sha = row.pdf_sha256
            row.holder_name, row.scope, row.grade = f.holder_name, f.scope, f.grade
            row.reissue_date, row.pdf_sha256 = on, sha
            row.sites_json = json.dumps(list(f.sites), ensure_ascii=False)
            s.add(row)
            events.append(s, "certificate.reissued", f.number, {
                "reason": reason, "changes": changes.as_dict(), "on": on,
                "sha256": sha, "previous_sha256": previous_sha}, issuer.actor,
                profiles=issuer.profiles)
            out.append(IssuedCertificate(f.number, f.main_number,
                                         issuer.out_path(f"{f.number}.pdf"), url, sha))
        for sub in withdrawn:  # the site left the certificate: its sub-certificate with it
            row = s.exec(select(Certificate).where(Certificate.number == sub.number)).one()
            why = f"换证（{on}）：场所移出认证范围 — {reason}"
            events.append(s, "certificate.cancel", sub.number, {
                "from": row.status, "to": CertStatus.CANCELLED, "reason": why, "on": on,
                "reissue_of": main.number}, issuer.actor, profiles=issuer.profiles)
            row.status, row.status_reason = CertStatus.CANCELLED, why
            s.add(row)
    issuer.export_all([(f"{f.number}.pdf", pdf) for f, pdf, _url in produced])
    return out


# -- surveillance ----------------------------------------------------------------------------

def surveillances_held(s: Session, number: str) -> list[date]:
    return [row.held_on for row in surveillances(s, number)]


def late_logged(engine: Engine, number: str, surveillance: int) -> tuple[str, ...]:
    """The time limits the report of ``number``'s ``surveillance``-th audit missed, as
    logged with it [CACQ 7.3.4.4, 7.9.1] — for the command line and the desk to show."""
    with Session(engine) as s:
        rows = s.exec(select(Event.data).where(
            Event.subject == number, col(Event.kind).in_(
                ("certificate.surveillance", "certificate.surveillance_report")))
            .order_by(col(Event.seq).desc()))
        for data in rows:
            entry = json.loads(data)
            if entry["number"] == surveillance:
                return tuple(entry.get("late", ()))
    return ()


def reports_pending(held: list[Surveillance]) -> list[tuple[int, date]]:
    """(number, held on) of each surveillance held (``surveillances``) whose report is not
    archived yet."""
    return [(row.number, row.held_on) for row in held if row.report == REPORT_PENDING]


@dataclass(frozen=True)
class DueItem:
    number: str
    holder: str
    profile: str
    surveillance: int
    due_by: date
    overdue: bool
    rule: str
    kind: str = "surveillance"
    """``surveillance`` (the ``surveillance``-th audit), ``recertification`` (the
    application for it, ``surveillance`` 0), or what the ``surveillance``-th audit, held,
    still owes: ``service_feature`` (its evaluation) and ``report`` [CACQ 7.3.4.4, 7.9.1];
    ``coverage`` when the cycle's surveillances are done and left products uncovered
    (due by the expiry: the re-certification audit, or a reduced scope)."""
    warning: str = ""
    """Sites the cycle's surveillances have still to cover, where the body requires it."""
    status: CertStatus = CertStatus.VALID
    """The certificate's status on the reference date (a not-yet-valid one is listed too:
    its surveillance is planned from the issue date)."""

    def as_dict(self) -> dict:
        return {"number": self.number, "holder": self.holder, "profile": self.profile,
                "kind": self.kind, "surveillance": self.surveillance, "due_by": self.due_by,
                "overdue": self.overdue, "rule": self.rule, "warning": self.warning,
                "status": self.status}


def coverage_warning(profile: Profile, cert: Certificate, visits: list[list[int]]) -> str:
    """What the cycle's surveillances still owe in site coverage [XBHT 7.2.2.9.2]."""
    spec = profile.rules.sampling
    sites = _sites(cert)
    if not spec.surveillance_coverage_clause or len(sites) < 2:
        return ""
    remaining = profile.rules.dates.surveillance.count - len(visits)
    per_visit = sample_size(spec, Audit.SURVEILLANCE, len(sites)).sample
    return site_coverage(len(sites), visits, remaining, per_visit,
                         spec.surveillance_coverage_clause).warning()


def products_of(cert: Certificate) -> tuple[str, ...]:
    return tuple(json.loads(cert.products_json or "[]"))


def product_warning(profile: Profile, cert: Certificate, visits: list[list[str]]) -> str:
    """What the cycle's surveillances still owe in products and services [CACQ 7.5.5,
    DNI 5.6.1, ZPIC 5.4]; empty where the body does not ask or none were listed."""
    clause = profile.rules.sampling.product_coverage_clause
    products = products_of(cert)
    if not clause or not products:
        return ""
    remaining = profile.rules.dates.surveillance.count - len(visits)
    return products_owed(products, visits, remaining, clause)


def recert_application(rules: DateRules, cert: Certificate, on: date) -> DueItem | None:
    """The re-certification application, listed from a month before it is due until the
    certificate expires [CACQ 7.6.1, DNI 5.7.1, ZPIC 6.1]."""
    due = recert_application_due(rules, cert.expiry_date)
    if due is None or on < add_months(due, -1, roll_forward=False) or on > cert.expiry_date:
        return None
    return DueItem(cert.number, cert.holder_name, cert.profile, 0, due, on > due,
                   f"再认证申请：有效期满（{cert.expiry_date}）前 "
                   f"{rules.cycle.recert_application_months} 个月 "
                   f"[{rules.cycle.recert_application_clause}]", "recertification")


def follow_ups(profile: Profile, cert: Certificate, pending: list[tuple[int, date]],
               on: date) -> list[DueItem]:
    """What the surveillances held without their report still owe, where the body sets a
    time limit: the service-feature evaluation and the report [CACQ 7.3.4.4, 7.9.1]."""
    return [DueItem(cert.number, cert.holder_name, cert.profile, n, owed.due_by,
                    on > owed.due_by, f"第{n}次监督审查（{held_on}）{owed.label()}", owed.kind)
            for n, held_on in pending
            for owed in owed_after(profile.rules.follow_up, profile.rules.dates,
                                   Audit.SURVEILLANCE, held_on)]


def next_due(rules: DateRules, cert: Certificate, held: list[date],
             on: date) -> DueItem | None:
    """The next surveillance not yet held, or None when the cycle's are all done."""
    step = next_surveillance(rules, cert, held)
    if step is None:
        return None
    return DueItem(cert.number, cert.holder_name, cert.profile, step.number, step.due_by,
                   on > step.due_by, step.rule)


def record_surveillance(engine: Engine, profiles: Profiles, number: str, held_on: date, *,
                        actor: str = "issuer",
                        keep: Callable[[Session, Certificate], str] | None = None,
                        sites: tuple[int, ...] = (), products: str = "",
                        late: tuple[str, ...] = (), dry_run: bool = False) -> int:
    """Record that the next surveillance audit of ``number`` was held (and passed).

    With ``keep``, the day of the last surveillance recorded without its report archives
    the report for it (``certificate.surveillance_report``) instead of a new surveillance;
    ``late`` (the time limits its report missed [CACQ 7.3.4.4, 7.9.1]) is logged with it.

    ``keep`` archives the audit's report in the same transaction, once the surveillance is
    known to be allowed, and returns its sha256 (logged with the surveillance). ``sites``:
    the sites visited (numbered as on the certificate), for the cycle's coverage.
    ``products``: the products and services it covered, by name or number in the
    certificate's list (``1,3`` or ``空调、冰箱``).
    ``dry_run`` checks and returns the surveillance's number without recording it."""
    not_after_today(held_on, "监督审查日期 surveillance date", clock.today())
    with session_scope(engine) as s:
        cert = main_certificate(s, number)
        status = effective_status(cert.status, cert.expiry_date, held_on,
                                  issued=cert.issue_date)
        if status not in HOLDING:
            raise RuleViolation(N_("证书 {number} 不能记录监督审查：证书状态为{status}{replaced}"),
                                number=cert.number, status=Msg(STATUS_LABELS[status][0]),
                                replaced=replaced_note(cert))
        if held_on < cert.issue_date:
            raise InputError(N_("监督审查日期 {on} 早于发证日期 {issued}"), on=held_on,
                             issued=cert.issue_date)
        rows = surveillances(s, cert.number)
        held = [row.held_on for row in rows]
        if keep and held and held_on == held[-1] and \
                (len(held), held_on) in reports_pending(rows):
            if not dry_run:  # the report of a surveillance recorded without it
                events.append(s, "certificate.surveillance_report", cert.number,
                              {"held_on": held_on, "number": len(held), "report": keep(s, cert),
                               **({"late": list(late)} if late else {})}, actor)
                archive_report(s, cert.number, len(held))
            return len(held)
        if held and held_on <= held[-1]:
            raise InputError(N_("监督审查日期 {on} 不晚于上一次 {last}"), on=held_on,
                             last=held[-1])
        rules = profiles.get(cert.profile).rules.dates
        if next_due(rules, cert, held, held_on) is None:
            raise RuleViolation(N_("证书 {number} 本周期的监督审查已全部完成，下一次审核是再认证"),
                                number=cert.number)
        visited = visited_sites(len(_sites(cert)), sites)
        covered = audited_products(products_of(cert), products) if products else ()
        if dry_run:
            return len(held) + 1
        report = {"report": keep(s, cert)} if keep else {}
        event = events.append(s, "certificate.surveillance", cert.number,
                              {"held_on": held_on, "number": len(held) + 1, **report,
                               **({"sites": list(visited)} if visited else {}),
                               **({"products": list(covered)} if covered else {}),
                               **({"late": list(late)} if late else {})}, actor)
        add_surveillance(s, rules, cert, event, held_on, visited, covered,
                         reported=keep is not None)
        return len(held) + 1


def _due_items(s: Session, profile: Profile, cert: Certificate, on: date) -> list[DueItem]:
    """One certificate's lines of the due list: its next surveillance (with what the cycle
    still owes in sites and products), the re-certification application, and what the
    surveillances held still owe."""
    status = effective_status(cert.status, cert.expiry_date, on, issued=cert.issue_date)
    if status == CertStatus.EXPIRED:
        return []
    held = surveillances(s, cert.number)
    rules = profile.rules.dates
    item = next_due(rules, cert, [row.held_on for row in held], on)
    owed = product_warning(profile, cert, [json.loads(row.products_json) for row in held])
    if item is not None:
        item = replace(item, status=status, warning="；".join(w for w in (
            coverage_warning(profile, cert, [json.loads(row.sites_json) for row in held]),
            owed) if w))
    elif owed:  # the cycle's surveillances are done and left products uncovered
        item = DueItem(cert.number, cert.holder_name, cert.profile, 0, cert.expiry_date,
                       False, owed, "coverage", owed, status)
    application = recert_application(rules, cert, on)
    return [*(i for i in (item, application) if i is not None),
            *follow_ups(profile, cert, reports_pending(held), on)]


def due_list(engine: Engine, profiles: Profiles, on: date,
             profile: str | None = None) -> list[DueItem]:
    with Session(engine) as s:
        query = select(Certificate).where(col(Certificate.main_number).is_(None),
                                          col(Certificate.status).in_(HOLDING))
        if profile:
            query = query.where(Certificate.profile == profile)
        items = [i for cert in s.exec(query.order_by(col(Certificate.number)))
                 for i in _due_items(s, profiles.get(cert.profile), cert, on)]
    return sorted(items, key=lambda i: (i.due_by, i.number))


# -- the sweep --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepAction:
    number: str
    action: str
    reason: str

    def as_dict(self) -> dict:
        return {"number": self.number, "action": self.action, "reason": self.reason}


def sweep(publisher: Publisher, on: date | None = None, *,
          actor: str = "sweep", dry_run: bool = False,
          on_done: Callable[[SweepAction], None] | None = None) -> list[SweepAction]:
    """Apply the calendar as of ``on`` (today; another day only as a ``dry_run`` preview,
    which returns the actions without taking them). ``on_done``: told after each action.

    The state comes from the certificates' columns in one query (with the count of
    surveillances held and whether the expiry is logged), not from the log's entries."""
    today = clock.today()
    on = on or today
    sweep_day(on, today, dry_run=dry_run)
    held = (select(func.count()).select_from(Surveillance)
            .where(Surveillance.certificate_number == Certificate.number).scalar_subquery())
    expiry_logged = exists().where(col(Event.subject) == Certificate.number,
                                   col(Event.kind) == "certificate.expired")
    with Session(publisher.engine) as s:
        mains = s.exec(select(Certificate, held, expiry_logged).where(
            Certificate.main_number.is_(None),  # type: ignore[union-attr]
            Certificate.status.in_(HOLDING))  # type: ignore[attr-defined]
            .order_by(Certificate.number)).all()
        plan = [a for cert, count, logged in mains
                if (a := _main_action(cert, count, logged, on)) is not None]
        # Sub-certificates suspended on their own, unless their main is revoked now anyway.
        revoked = {a.number for a in plan if a.action == "revoke"}
        subs = s.exec(select(Certificate).where(
            Certificate.main_number.is_not(None),  # type: ignore[union-attr]
            Certificate.status == CertStatus.SUSPENDED,
            Certificate.suspended_until < on).order_by(Certificate.number))  # type: ignore[operator]
        plan += [SweepAction(sub.number, "revoke", f"暂停期满（{sub.suspended_until}）未恢复")
                 for sub in subs if sub.main_number not in revoked
                 and effective_status(sub.status, sub.expiry_date, on,
                                      issued=sub.issue_date) == CertStatus.SUSPENDED]
    if dry_run:
        return plan
    for act in plan:
        if act.action == "expire":
            with session_scope(publisher.engine) as s:
                events.append(s, "certificate.expired", act.number, {"on": on}, actor,
                              profiles=publisher.profiles)
        else:
            change_status(publisher, act.number, act.action, act.reason, actor=actor, on=on)
        if on_done:
            on_done(act)
    return plan


def _main_action(cert: Certificate, held: int, expiry_logged: bool,
                 on: date) -> SweepAction | None:
    """What the calendar does to main certificate ``cert`` on ``on`` (``held``:
    surveillances held so far), if anything."""
    status = effective_status(cert.status, cert.expiry_date, on, issued=cert.issue_date)
    due = cert.next_surveillance_due
    if status == CertStatus.EXPIRED:
        if not expiry_logged:
            return SweepAction(cert.number, "expire", f"validity ended {cert.expiry_date}")
    elif status == CertStatus.VALID and due is not None and on > due:
        return SweepAction(cert.number, "suspend",
                           f"第{held + 1}次监督审查逾期（应于{due}前完成）")
    elif (status == CertStatus.SUSPENDED and cert.suspended_until is not None
          and on > cert.suspended_until):
        return SweepAction(cert.number, "revoke", f"暂停期满（{cert.suspended_until}）未恢复")
    return None
