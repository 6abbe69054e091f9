"""Status changes of a certificate: suspend, restore, revoke, cancel.

Each change is checked against the allowed transitions, applied to the certificate and
(for a main certificate) to its sub-certificates, announced by a signed notice that is
archived, and written to the event log — all in one transaction after the notice exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from certdesk.common import clock
from certdesk.common.errors import InputError, NotFound, RuleViolation
from certdesk.common.i18n import N_, Msg
from certdesk.documents.notices import (
    WORDING,
    Notice,
    NoticeCertificate,
    Wording,
    notice_context,
)
from certdesk.domain.dates import suspension
from certdesk.domain.guards import Backdating, StatusSpec, status_change_day
from certdesk.domain.numbering import parse
from certdesk.domain.profiles import Profile, Profiles
from certdesk.domain.status import STATUS_LABELS, CertStatus, effective_status
from certdesk.domain.suspension import check_imposition, check_restoration
from certdesk.domain.text import clean_text
from certdesk.services.publisher import Publisher
from certdesk.services.successor import replaced_note
from certdesk.signing.pdf import SignatureSpec
from certdesk.store import events
from certdesk.store.allocate import void
from certdesk.store.blobs import sha256_hex
from certdesk.store.db import session_scope
from certdesk.store.models import Certificate, Event, Organisation


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[CertStatus]
    to: CertStatus
    notice: Wording
    """What the signed notice says, and the clauses that allow the change."""


_IN_FORCE = frozenset({CertStatus.VALID, CertStatus.SUSPENDED, CertStatus.NOT_YET_VALID})
"""A certificate not yet in force can still be withdrawn before its issue date."""

ACTION_NAMES = {"suspend": N_("暂停"), "restore": N_("恢复"), "revoke": N_("撤销"),
                "cancel": N_("注销")}
"""What each action is called in a message (a msgid)."""

TRANSITIONS: dict[str, Transition] = {
    "suspend": Transition(frozenset({CertStatus.VALID}), CertStatus.SUSPENDED,
                          WORDING["suspension"]),
    "restore": Transition(frozenset({CertStatus.SUSPENDED}), CertStatus.VALID,
                          WORDING["restoration"]),
    "revoke": Transition(_IN_FORCE, CertStatus.REVOKED, WORDING["revocation"]),
    "cancel": Transition(_IN_FORCE, CertStatus.CANCELLED, WORDING["cancellation"]),
}


@dataclass(frozen=True)
class StatusChange:
    number: str
    action: str
    status: str
    affected: tuple[str, ...]
    notice_pdf: Path
    notice_sha256: str
    late: str | None = None
    """Set when imposed after the body's deadline from verification (and allowed)."""

    def as_dict(self) -> dict:
        return {"number": self.number, "action": self.action, "status": self.status,
                "affected": list(self.affected), "notice_pdf": str(self.notice_pdf),
                "notice_sha256": self.notice_sha256, "late": self.late}


@dataclass(frozen=True)
class StatusPreview:
    """What ``change_status`` would do (``dry_run``): nothing signed, nothing stored."""

    number: str
    action: str
    status: str
    to: str
    affected: tuple[str, ...]
    on: date
    until: date | None
    notice: str
    backdating: Backdating | None

    def as_dict(self) -> dict:
        return {"dry_run": True, "number": self.number, "action": self.action,
                "from": self.status, "status": self.to, "affected": list(self.affected),
                "on": self.on, "until": self.until, "notice": self.notice,
                **(self.backdating.as_event() if self.backdating else {"backdated": False})}


# -- the date window of a status change (rules.guards) --------------------------------------

STATUS_EVENTS = tuple(f"certificate.{action}" for action in TRANSITIONS)


def _check_day(s: Session, cert: Certificate, on: date, today: date,
               backdate_reason: str | None, spec: StatusSpec) -> Backdating | None:
    """``on`` between the issue date (or the previous status change) and today."""
    last = s.exec(select(Event).where(Event.subject == cert.number,
                                      col(Event.kind).in_(STATUS_EVENTS))
                  .order_by(col(Event.seq).desc())).first()
    last_on = json.loads(last.data).get("on") if last else None
    earliest, what = cert.issue_date, "发证日期 issue date"
    if last_on and date.fromisoformat(last_on) >= earliest:
        earliest, what = date.fromisoformat(last_on), "上次状态变更 previous status change"
    return status_change_day(on, today, earliest=earliest, earliest_what=what,
                             spec=spec, backdate_reason=backdate_reason)


def _refuse(action: str, cert: Certificate, status: str, t: Transition) -> RuleViolation:
    said = {"action": Msg(ACTION_NAMES[action]), "number": cert.number,
            "status": Msg(STATUS_LABELS[status][0]), "replaced": replaced_note(cert),
            "clause": t.notice.clause}
    if status == CertStatus.REVOKED:
        return RuleViolation(N_("证书 {number} 不能{action}：证书状态为{status}{replaced}；"
                                "撤销证书的编号永久作废 [XBHT A.5] [{clause}]"), **said)
    if status == CertStatus.EXPIRED:
        return RuleViolation(N_("证书 {number} 不能{action}：证书已于 {expiry} 过期 [{clause}]"),
                             expiry=cert.expiry_date, **said)
    return RuleViolation(N_("证书 {number} 不能{action}：证书状态为{status}{replaced}；"
                            "只有{allowed}的证书可以{action} [{clause}]"),
                         allowed=tuple(Msg(STATUS_LABELS[s][0]) for s in sorted(t.allowed_from)),
                         **said)


def change_status(publisher: Publisher, number: str, action: str, reason: str, *,
                  actor: str = "issuer", on: date | None = None,
                  months: int | None = None, verified: date | None = None,
                  backdate_reason: str | None = None,
                  dry_run: bool = False) -> StatusChange | StatusPreview:
    """Apply ``action`` to certificate ``number`` on day ``on`` (default today).

    ``months`` is the suspension period (default: the body's usual period, never more than
    its maximum); the end date is printed on the notice and drives the sweep's revocation.
    ``on`` lies between the issue date (or the previous status change) and today; further
    back than the profile allows it needs ``backdate_reason`` (``domain.guards``).
    ``dry_run`` checks everything and returns the preview: no notice, nothing stored.
    ``verified`` (suspend, revoke) is the day the ground was verified: later than the
    body's days after it is warned about or refused, per profile.
    """
    t = TRANSITIONS.get(action)
    if t is None:
        raise RuleViolation(N_("未知的操作 {action}（可选：{actions}）"), action=repr(action),
                            actions=", ".join(TRANSITIONS))
    if not reason.strip():
        raise RuleViolation(N_("{action}证书须填写原因"), action=Msg(ACTION_NAMES[action]))
    if months is not None and action != "suspend":
        raise RuleViolation(N_("--months 只适用于暂停"))
    if verified is not None and action not in ("suspend", "revoke"):
        raise InputError(N_("--verified 只适用于暂停和撤销"))
    reason = clean_text(reason.strip(), "reason")
    number = str(parse(number))
    today = clock.today()
    on = on or today
    with session_scope(publisher.engine) as s:
        cert = s.exec(select(Certificate).where(Certificate.number == number)).first()
        if cert is None:
            raise NotFound(N_("无此证书 {number}"), number=number)
        profile = publisher.profiles.get(cert.profile)
        status, backdating, late = _check(s, profile, cert, action, t, on, today,
                                          verified=verified, backdate_reason=backdate_reason)
        affected = _affected(s, cert, t, on)
        org = s.get_one(Organisation, cert.organisation_id)
    until = suspension(profile.rules.dates, on, months=months).ends \
        if action == "suspend" else None
    ref = f"{profile.body.short_name}-{action.upper()}-{on:%Y%m%d}-{number}"
    if dry_run:
        return StatusPreview(number, action, status, t.to, tuple(c.number for c in affected),
                             on, until, ref, backdating)
    context = notice_context(profile, Notice(
        t.notice, ref, on, reason, org.name, org.uscc,
        tuple(NoticeCertificate(c.number, c.scope, c.expiry_date) for c in affected), until))
    pdf = publisher.signed_pdf(profile.template_path("notice"), context, ref,
                               SignatureSpec(reason=t.notice.title, name=profile.body.name,
                                             location=profile.body.address))
    sha = sha256_hex(pdf)
    entry = {"reason": reason, "notice": ref, "notice_sha256": sha, "on": on, "until": until,
             **(backdating.as_event() if backdating else {}),
             **({"verified": verified} if verified else {}), **({"late": late} if late else {})}
    with session_scope(publisher.engine) as s:
        for c in affected:
            _apply(s, c, action, t, entry, actor, publisher.profiles)
        # Stored only once the re-check above passed: a refused change leaves no blob.
        publisher.keep(s, pdf, record_type="notice", filename=f"{ref}.pdf",
                       profile=profile, organisation_id=org.id,
                       certificate_number=number, actor=actor)
    path = publisher.export(f"{ref}.pdf", pdf)
    return StatusChange(number, action, t.to, tuple(c.number for c in affected), path, sha,
                        late)


def _check(s: Session, profile: Profile, cert: Certificate, action: str, t: Transition,
           on: date, today: date,
           *, verified: date | None, backdate_reason: str | None,
           ) -> tuple[CertStatus, Backdating | None, str | None]:
    """Refuse the change unless the rules allow it; the certificate's status on ``on``,
    the backdating allowed and the late-imposition warning."""
    status = effective_status(cert.status, cert.expiry_date, on, issued=cert.issue_date)
    if status not in t.allowed_from:
        raise _refuse(action, cert, status, t)
    backdating = _check_day(s, cert, on, today, backdate_reason,  # the general window first
                            profile.rules.status)
    spec = profile.rules.dates.suspension
    if action == "restore":
        check_restoration(spec, cert.number, on, suspended_on=cert.suspended_on,
                          suspended_until=cert.suspended_until)
    late = check_imposition(spec, action, on, verified) if verified is not None else None
    if cert.main_number and t.to == CertStatus.VALID:
        main = s.exec(select(Certificate).where(Certificate.number == cert.main_number)).one()
        main_status = effective_status(main.status, main.expiry_date, on,
                                       issued=main.issue_date)
        if main_status != CertStatus.VALID:
            raise RuleViolation(
                N_("分证书 {number} 不能{action}：其主证书 {main} 的状态为{status}；"
                   "分证书只能与主证书同时有效 [CACQ 8.4.2(6)]"), number=cert.number,
                action=Msg(ACTION_NAMES[action]), main=main.number,
                status=Msg(STATUS_LABELS[main_status][0]))
    return status, backdating, late


def _affected(s: Session, cert: Certificate, t: Transition, on: date) -> list[Certificate]:
    """The certificate and (for a main one) those of its subs the change applies to."""
    subs = [] if cert.main_number else list(s.exec(
        select(Certificate).where(Certificate.main_number == cert.number)
        .order_by(col(Certificate.sub))))
    # A sub suspended on its own whose period has run out does not follow its main back
    # to valid: it stays suspended for revocation (the sweep revokes it).
    return [cert, *(c for c in subs if c.status in t.allowed_from
                    and not (t.to == CertStatus.VALID and c.suspended_until is not None
                             and on > c.suspended_until))]


def _apply(s: Session, c: Certificate, action: str, t: Transition, entry: dict[str, Any],
           actor: str, profiles: Profiles) -> None:
    """Change ``c``'s columns and log it, in one transaction; refused (rolled back) when
    someone else changed its status since it was read."""
    row = s.exec(select(Certificate).where(Certificate.number == c.number)).one()
    if row.status != c.status:
        raise RuleViolation(N_("证书 {number} 的状态刚被他人更改，请重试"), number=c.number)
    row.status, row.status_reason = t.to, entry["reason"]
    if t.to == CertStatus.SUSPENDED:  # the period the restore check and the sweep read
        row.suspended_on, row.suspended_until = entry["on"], entry["until"]
    elif t.to == CertStatus.VALID:
        row.suspended_on = row.suspended_until = None
    s.add(row)
    if t.to == CertStatus.REVOKED:
        void(s, c.number, f"revoked: {entry['reason']}")
    events.append(s, f"certificate.{action}", c.number,
                  {"from": c.status, "to": t.to, **entry}, actor, profiles=profiles)
