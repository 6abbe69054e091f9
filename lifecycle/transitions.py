"""Status changes of a certificate: suspend, restore, revoke, cancel.

Each change is checked against the allowed transitions, applied to the certificate and
(for a main certificate) to its sub-certificates, announced by a signed notice that is
archived, and written to the event log — all in one transaction after the notice exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import select

from archive import events
from archive.db import session_scope
from archive.models import Certificate, Organisation
from common.errors import NotFound, RuleViolation
from docgen.context import CNCA_NOTICE, body_context, cn_date, full_scope
from docgen.notices import WORDING, Wording
from lifecycle.publisher import Publisher
from numbering.allocate import void
from numbering.grammar import parse
from rules.dates import date_rules, suspension
from rules.status import effective_status
from rules.text import clean_text
from signing.pdf import SignatureSpec
from templates.profiles import load_profile


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[str]
    to: str
    notice: Wording
    """What the signed notice says, and the clauses that allow the change."""


TRANSITIONS: dict[str, Transition] = {
    "suspend": Transition(frozenset({"valid"}), "suspended", WORDING["suspension"]),
    "restore": Transition(frozenset({"suspended"}), "valid", WORDING["restoration"]),
    # A certificate not yet in force can still be withdrawn before its issue date.
    "revoke": Transition(frozenset({"valid", "suspended", "not_yet_valid"}), "revoked",
                         WORDING["revocation"]),
    "cancel": Transition(frozenset({"valid", "suspended", "not_yet_valid"}), "cancelled",
                         WORDING["cancellation"]),
}


@dataclass(frozen=True)
class StatusChange:
    number: str
    action: str
    status: str
    affected: tuple[str, ...]
    notice_pdf: Path
    notice_sha256: str

    def as_dict(self) -> dict:
        return {"number": self.number, "action": self.action, "status": self.status,
                "affected": list(self.affected), "notice_pdf": str(self.notice_pdf),
                "notice_sha256": self.notice_sha256}


def _refuse(action: str, cert: Certificate, status: str, t: Transition) -> RuleViolation:
    if status == "revoked":
        why = "a revoked certificate's number is void forever [XBHT A.5]"
    elif status == "expired":
        why = f"it expired on {cert.expiry_date}"
    else:
        why = f"{action} applies only to {', '.join(sorted(t.allowed_from))} certificates"
    return RuleViolation(f"cannot {action} {cert.number}: it is {status}; {why} "
                         f"[{t.notice.clause}]")


def change_status(publisher: Publisher, number: str, action: str, reason: str, *,
                  actor: str = "issuer", on: date | None = None,
                  months: int | None = None) -> StatusChange:
    """Apply ``action`` to certificate ``number`` on day ``on`` (default today).

    ``months`` is the suspension period (default: the body's usual period, never more than
    its maximum); the end date is printed on the notice and drives the sweep's revocation.
    """
    t = TRANSITIONS.get(action)
    if t is None:
        raise RuleViolation(f"unknown action {action!r} (one of {', '.join(TRANSITIONS)})")
    if not reason.strip():
        raise RuleViolation(f"a reason is required to {action} a certificate")
    reason = clean_text(reason.strip(), "reason")
    number = str(parse(number))
    on = on or date.today()
    with session_scope(publisher.engine) as s:
        cert = s.exec(select(Certificate).where(Certificate.number == number)).first()
        if cert is None:
            raise NotFound(f"no certificate {number}")
        status = effective_status(cert.status, cert.expiry_date, on, issued=cert.issue_date)
        if status not in t.allowed_from:
            raise _refuse(action, cert, status, t)
        if cert.main_number and t.to == "valid":
            main = s.exec(select(Certificate).where(Certificate.number == cert.main_number)).one()
            main_status = effective_status(main.status, main.expiry_date, on,
                                           issued=main.issue_date)
            if main_status != "valid":
                raise RuleViolation(
                    f"cannot {action} {number}: its main certificate {main.number} is "
                    f"{main_status}; a sub-certificate is valid only with it [CACQ 8.4.2(6)]")
        subs = [] if cert.main_number else list(s.exec(
            select(Certificate).where(Certificate.main_number == number)
            .order_by(Certificate.sub)))
        affected = [cert, *(c for c in subs if c.status in t.allowed_from)]
        org = s.get(Organisation, cert.organisation_id)
    profile = load_profile(cert.profile)
    until = None
    if action == "suspend":
        until = suspension(date_rules(profile.id), on, months=months).ends
    elif months is not None:
        raise RuleViolation("--months applies to suspension only")
    ref = f"{profile.body.short_name}-{action.upper()}-{on:%Y%m%d}-{number}"
    context = {
        "body": body_context(profile),
        "org": {"name": org.name, "uscc": org.uscc},
        "notice": {"title": t.notice.title, "reference": ref,
                   "body": t.notice.body.format(date=cn_date(on)),
                   "reason": reason, "date": cn_date(on),
                   "consequences": [c.format(until=cn_date(until))
                                    for c in t.notice.consequences]},
        "certificates": [{"number": c.number, "scope": full_scope(profile, c.scope),
                          "expiry_date": cn_date(c.expiry_date)} for c in affected],
        "cnca_notice": CNCA_NOTICE,
    }
    pdf = publisher.signed_pdf(profile.template_path("notice"), context, ref,
                               SignatureSpec(reason=t.notice.title, name=profile.body.name,
                                             location=profile.body.address))
    with session_scope(publisher.engine) as s:
        sha = publisher.keep(s, pdf, record_type="notice", filename=f"{ref}.pdf",
                             profile=profile.id, organisation_id=org.id,
                             certificate_number=number, actor=actor)
        for c in affected:
            row = s.exec(select(Certificate).where(Certificate.number == c.number)).one()
            if row.status != c.status:  # changed by someone else meanwhile: refuse, roll back
                raise RuleViolation(f"{c.number} changed status meanwhile; try again")
            row.status, row.status_reason = t.to, reason
            s.add(row)
            if t.to == "revoked":
                void(s, c.number, f"revoked: {reason}")
            events.append(s, f"certificate.{action}", c.number,
                          {"from": c.status, "to": t.to, "reason": reason, "notice": ref,
                           "notice_sha256": sha, "on": on, "until": until}, actor)
    path = publisher.export(f"{ref}.pdf", pdf)
    return StatusChange(number, action, t.to, tuple(c.number for c in affected), path, sha)
