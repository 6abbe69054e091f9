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

from sqlmodel import Session, select

from archive import events
from archive.db import session_scope
from archive.models import Certificate, Event, Organisation
from common.errors import InputError, NotFound, RuleViolation
from docgen.context import CertificateFacts
from lifecycle.inputs import OrganisationInput, SiteInput
from lifecycle.issuing import IssuedCertificate, Issuer
from lifecycle.publisher import Publisher, body_signature
from lifecycle.transitions import change_status
from numbering.grammar import parse
from rules.dates import date_rules, surveillance_plan
from rules.scoring import scoring_rules
from rules.status import effective_status
from rules.text import clean_text
from templates.profiles import load_profile


def main_certificate(s: Session, number: str) -> Certificate:
    number = str(parse(number))
    cert = s.exec(select(Certificate).where(Certificate.number == number)).first()
    if cert is None:
        raise NotFound(f"no certificate {number}")
    if cert.main_number:
        raise RuleViolation(f"{number} is a sub-certificate: act on its main certificate "
                            f"{cert.main_number}; sub-certificates follow it")
    return cert


def _sites(cert: Certificate) -> tuple[dict, ...]:
    return tuple(json.loads(cert.sites_json or "[]"))


# -- re-certification ----------------------------------------------------------------------

def recertify(issuer: Issuer, number: str, decision: date, *, issue: date | None = None,
              grade: str | None = None, scope: str | None = None) -> list[IssuedCertificate]:
    """Re-certify a main certificate: R+1, dates from the previous expiry, old superseded.

    Refused when the previous certificate is revoked, cancelled or already superseded, and
    when the decision comes more than the late window after expiry [XBHT 7.7.3].
    """
    grade = clean_text(grade.strip(), "grade") if grade else None
    scope = clean_text(scope.strip(), "scope") if scope else None
    with Session(issuer.engine) as s:
        prev = main_certificate(s, number)
        org = s.get(Organisation, prev.organisation_id)
    if prev.profile != issuer.profile.id:
        raise RuleViolation(f"{prev.number} belongs to profile {prev.profile!r}")
    if prev.status in ("revoked", "cancelled", "superseded"):
        raise RuleViolation(f"cannot re-certify {prev.number}: it is {prev.status} "
                            "[XBHT 7.7, A.4]")
    org_input = OrganisationInput(
        name=org.name, uscc=org.uscc, registered_address=org.registered_address,
        scope=scope or prev.scope, decision_date=decision, grade=grade or prev.grade,
        issue_date=issue,
        sites=tuple(SiteInput(x["address"], x["scope"], x.get("temporary", False))
                    for x in _sites(prev)))
    return issuer.issue(org_input, previous=prev)


# -- re-issue within validity ---------------------------------------------------------------

@dataclass(frozen=True)
class Changes:
    name: str | None = None
    registered_address: str | None = None
    scope: str | None = None
    grade: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def reissue(issuer: Issuer, number: str, changes: Changes, reason: str, *,
            on: date | None = None) -> list[IssuedCertificate]:
    """Re-issue a valid certificate with changed details: same number and validity, the
    re-issue date printed, the previous PDFs superseded [XBHT A.3; DNI 6.4-6.6]."""
    on = on or date.today()
    if not changes.as_dict():
        raise InputError("nothing to change: give --name, --address, --scope or --grade")
    if not reason.strip():
        raise InputError("a reason is required to re-issue a certificate")
    reason = clean_text(reason.strip(), "reason")
    changes = Changes(**{k: clean_text(v.strip(), k) for k, v in changes.as_dict().items()})
    with Session(issuer.engine) as s:
        main = main_certificate(s, number)
        subs = list(s.exec(select(Certificate).where(Certificate.main_number == main.number)
                           .order_by(Certificate.sub)))
        org = s.get(Organisation, main.organisation_id)
    status = effective_status(main.status, main.expiry_date, on, issued=main.issue_date)
    if status != "valid":
        raise RuleViolation(f"cannot re-issue {main.number}: it is {status}; only a valid "
                            "certificate is re-issued within its validity [XBHT A.3]")
    if on < main.issue_date:
        raise RuleViolation(f"re-issue date {on} is before the issue date {main.issue_date}")
    if changes.grade:
        grades = scoring_rules(main.profile).grade_names
        if changes.grade not in grades:
            raise InputError(f"grade {changes.grade!r} is not one of {' / '.join(grades)}")
    sites = _sites(main)
    facts = CertificateFacts(
        number=main.number, main_number=None, holder_name=changes.name or main.holder_name,
        uscc=org.uscc, registered_address=changes.registered_address or org.registered_address,
        scope=changes.scope or main.scope, grade=changes.grade or main.grade,
        issue_date=main.issue_date, expiry_date=main.expiry_date, sites=sites,
        reissue_date=on)
    all_facts = [facts] + [
        replace(facts, number=sub.number, main_number=main.number, scope=sub.scope,
                site=sites[sub.sub - 1] if sub.sub and sub.sub <= len(sites) else
                {"address": sub.site_address, "scope": sub.scope})
        for sub in subs if sub.status in ("valid", "suspended")]
    profile = load_profile(main.profile)
    spec = body_signature(profile, "认证证书（换证）")
    produced = [(f, *issuer.certificate_pdf(f, spec)) for f in all_facts]
    out = []
    with session_scope(issuer.engine) as s:
        org_row = s.get(Organisation, org.id)
        org_row.name = facts.holder_name
        org_row.registered_address = facts.registered_address
        s.add(org_row)
        for f, pdf, url in produced:
            sha = issuer.keep(s, pdf, record_type="certificate",
                              filename=f"{f.number}-换证{on:%Y%m%d}.pdf", profile=profile.id,
                              organisation_id=org.id, certificate_number=f.number,
                              actor=issuer.actor)
            row = s.exec(select(Certificate).where(Certificate.number == f.number)).one()
            previous_sha = row.pdf_sha256
            row.holder_name, row.scope, row.grade = f.holder_name, f.scope, f.grade
            row.reissue_date, row.pdf_sha256 = on, sha
            s.add(row)
            events.append(s, "certificate.reissued", f.number, {
                "reason": reason, "changes": changes.as_dict(), "on": on,
                "sha256": sha, "previous_sha256": previous_sha}, issuer.actor)
            out.append(IssuedCertificate(f.number, f.main_number,
                                         issuer.export(f"{f.number}.pdf", pdf), url, sha))
    return out


# -- surveillance ----------------------------------------------------------------------------

def surveillances_held(s: Session, number: str) -> list[date]:
    rows = s.exec(select(Event).where(Event.subject == number,
                                      Event.kind == "certificate.surveillance")
                  .order_by(Event.seq))
    return [date.fromisoformat(json.loads(e.data)["held_on"]) for e in rows]


@dataclass(frozen=True)
class DueItem:
    number: str
    holder: str
    profile: str
    surveillance: int
    due_by: date
    overdue: bool
    rule: str
    status: str = "valid"
    """The certificate's status on the reference date (a not-yet-valid one is listed too:
    its surveillance is planned from the issue date)."""

    def as_dict(self) -> dict:
        return {"number": self.number, "holder": self.holder, "profile": self.profile,
                "surveillance": self.surveillance, "due_by": self.due_by,
                "overdue": self.overdue, "rule": self.rule, "status": self.status}


def next_due(cert: Certificate, held: list[date], on: date) -> DueItem | None:
    """The next surveillance not yet held, or None when the cycle's are all done."""
    rules = date_rules(cert.profile)
    anchor = cert.decision_date if rules.surveillance.anchor == "decision" else cert.issue_date
    plan = surveillance_plan(rules, anchor, first_held=held[0] if held else None)
    for step in plan[len(held):]:
        return DueItem(cert.number, cert.holder_name, cert.profile, step.number, step.due_by,
                       on > step.due_by, step.rule)
    return None


def record_surveillance(engine, number: str, held_on: date, *, actor: str = "issuer",
                        keep: Callable[[Session, Certificate], str] | None = None) -> int:
    """Record that the next surveillance audit of ``number`` was held (and passed).

    ``keep`` archives the audit's report in the same transaction, once the surveillance is
    known to be allowed, and returns its sha256 (logged with the surveillance)."""
    with session_scope(engine) as s:
        cert = main_certificate(s, number)
        status = effective_status(cert.status, cert.expiry_date, held_on,
                                  issued=cert.issue_date)
        if status not in ("valid", "suspended"):
            raise RuleViolation(f"cannot record a surveillance for {cert.number}: it is {status}")
        if held_on < cert.issue_date:
            raise InputError(f"surveillance {held_on} is before the issue date {cert.issue_date}")
        held = surveillances_held(s, cert.number)
        if held and held_on <= held[-1]:
            raise InputError(f"surveillance {held_on} is not after the last one {held[-1]}")
        if next_due(cert, held, held_on) is None:
            raise RuleViolation(f"{cert.number} has no surveillance left in this cycle; "
                                "the next audit is the re-certification")
        report = {"report": keep(s, cert)} if keep else {}
        events.append(s, "certificate.surveillance", cert.number,
                      {"held_on": held_on, "number": len(held) + 1, **report}, actor)
        return len(held) + 1


def due_list(engine, on: date, profile: str | None = None) -> list[DueItem]:
    with Session(engine) as s:
        query = select(Certificate).where(Certificate.main_number.is_(None),
                                          Certificate.status.in_(("valid", "suspended")))
        if profile:
            query = query.where(Certificate.profile == profile)
        items = []
        for cert in s.exec(query.order_by(Certificate.number)):
            status = effective_status(cert.status, cert.expiry_date, on,
                                      issued=cert.issue_date)
            if status == "expired":
                continue
            item = next_due(cert, surveillances_held(s, cert.number), on)
            if item is not None:
                items.append(replace(item, status=status))
    return sorted(items, key=lambda i: (i.due_by, i.number))


# -- the sweep --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepAction:
    number: str
    action: str
    reason: str

    def as_dict(self) -> dict:
        return {"number": self.number, "action": self.action, "reason": self.reason}


def _suspended_until(s: Session, number: str) -> date | None:
    data = events.latest_data(s, number, "certificate.suspend")
    until = data.get("until") if data else None
    return date.fromisoformat(until) if until else None


def sweep(publisher: Publisher, on: date | None = None, *,
          actor: str = "sweep") -> list[SweepAction]:
    on = on or date.today()
    plan: list[SweepAction] = []
    with Session(publisher.engine) as s:
        mains = s.exec(select(Certificate).where(
            Certificate.main_number.is_(None),
            Certificate.status.in_(("valid", "suspended"))).order_by(Certificate.number)).all()
        for cert in mains:
            status = effective_status(cert.status, cert.expiry_date, on, issued=cert.issue_date)
            if status == "expired":
                logged = s.exec(select(Event.seq).where(Event.subject == cert.number,
                                                        Event.kind == "certificate.expired"))
                if logged.first() is None:
                    plan.append(SweepAction(cert.number, "expire",
                                            f"validity ended {cert.expiry_date}"))
            elif status == "valid":
                item = next_due(cert, surveillances_held(s, cert.number), on)
                if item is not None and item.overdue:
                    plan.append(SweepAction(
                        cert.number, "suspend",
                        f"第{item.surveillance}次监督审查逾期（应于{item.due_by}前完成）"))
            elif status == "suspended" and (until := _suspended_until(s, cert.number)) \
                    is not None and on > until:
                plan.append(SweepAction(cert.number, "revoke",
                                        f"暂停期满（{until}）未恢复"))
    for act in plan:
        if act.action == "expire":
            with session_scope(publisher.engine) as s:
                events.append(s, "certificate.expired", act.number, {"on": on}, actor)
        else:
            change_status(publisher, act.number, act.action, act.reason, actor=actor, on=on)
    return plan
