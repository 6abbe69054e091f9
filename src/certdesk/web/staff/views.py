"""What the staff pages show, read from the database: search, a certificate with its family
(main and sub-certificates), timeline and archived documents."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, select

from certdesk.common.errors import NotFound
from certdesk.common.i18n import N_
from certdesk.domain.numbering import parse
from certdesk.domain.profiles import Profiles
from certdesk.domain.status import HOLDING, STATUS_LABELS, CertStatus, effective_status
from certdesk.services.cycle import DueItem, next_due, surveillances_held
from certdesk.services.transitions import TRANSITIONS
from certdesk.store.models import Certificate, Event, Organisation, Record
from certdesk.web.i18n import _

SEARCH_LIMIT = 100
STATUS_ACTIONS = {"suspend": N_("暂停"), "restore": N_("恢复"), "revoke": N_("撤销"),
                  "cancel": N_("注销")}


@dataclass(frozen=True)
class CertRow:
    cert: Certificate
    status: str
    """Effective status today (a valid certificate past its expiry shows as expired)."""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status][0]


def _row(cert: Certificate, today: date) -> CertRow:
    return CertRow(cert, effective_status(cert.status, cert.expiry_date, today,
                                          issued=cert.issue_date))


def normalise_number(text: str) -> str:
    """Staff type numbers as printed, with spaces ("0273 26 FWF 0001 R0 00")."""
    return re.sub(r"\s+", "", text).upper()


def search(s: Session, query: str, today: date) -> tuple[list[Organisation], list[CertRow]]:
    """Clients by name or credit code, certificates by number or holder name."""
    query = query.strip()
    if not query:
        return [], []
    compact = normalise_number(query)
    orgs = s.exec(select(Organisation).where(or_(
        col(Organisation.name).contains(query, autoescape=True),
        col(Organisation.uscc).contains(compact, autoescape=True)))
        .order_by(col(Organisation.name)).limit(SEARCH_LIMIT)).all()
    certs = s.exec(select(Certificate).where(or_(
        col(Certificate.number).contains(compact, autoescape=True),
        col(Certificate.holder_name).contains(query, autoescape=True),
        col(Certificate.organisation_id).in_([o.id for o in orgs])))
        .order_by(col(Certificate.number)).limit(SEARCH_LIMIT)).all()
    return list(orgs), [_row(c, today) for c in certs]


def exact_number(s: Session, query: str) -> str | None:
    """The certificate whose number is exactly ``query`` (spaces and case aside), if any."""
    return s.exec(select(Certificate.number)
                  .where(Certificate.number == normalise_number(query))).first()


def recent(s: Session, today: date, limit: int = 15) -> list[CertRow]:
    certs = s.exec(select(Certificate).where(col(Certificate.main_number).is_(None))
                   .order_by(col(Certificate.id).desc()).limit(limit)).all()
    return [_row(c, today) for c in certs]


def client(s: Session, org_id: int, today: date) -> tuple[Organisation, list[CertRow],
                                                          list[Record]]:
    org = s.get(Organisation, org_id)
    if org is None:
        raise NotFound(N_("没有编号为 {id} 的客户"), id=org_id)
    certs = s.exec(select(Certificate).where(Certificate.organisation_id == org_id)
                   .order_by(col(Certificate.number))).all()
    records = s.exec(select(Record).where(Record.organisation_id == org_id)
                     .order_by(col(Record.created))).all()
    return org, [_row(c, today) for c in certs], list(records)


@dataclass(frozen=True)
class TimelineEntry:
    event: Event
    text: str
    link: str | None
    """A certificate number the entry points to (the re-certified successor)."""


def _said(kind: str, d: dict) -> dict[str, object]:
    return {"action": _(STATUS_ACTIONS[kind]), "reason": d.get("reason", ""), "on": d.get("on")}


def _describe(ev: Event) -> TimelineEntry:
    d = json.loads(ev.data or "{}")
    kind = ev.kind.removeprefix("certificate.")
    link = None
    if kind == "issued":
        text = _("签发（R{cycle}），有效期 {start} 至 {end}", cycle=d.get("cycle", 0),
                 start=d.get("issue_date"), end=d.get("expiry_date"))
        if d.get("late_recertification"):
            text += _("（逾期再认证）")
    elif kind in STATUS_ACTIONS:
        text = (_("{action}：{reason}（{on} 起，至 {until}）", until=d["until"], **_said(kind, d))
                if d.get("until") else _("{action}：{reason}（{on} 起）", **_said(kind, d)))
    elif kind == "superseded":
        text, link = _("再认证，由新证书取代："), d.get("by")
    elif kind == "reissued":
        text = _("换证（{on}）：{reason}", on=d.get("on"), reason=d.get("reason", ""))
    elif kind == "surveillance":
        text = _("第 {n} 次监督审查通过（{held}）", n=d.get("number"), held=d.get("held_on"))
    elif kind == "expired":
        text = _("有效期届满")
    elif ev.kind == "certification.decided":
        text = _("认证决定：{outcome}（{on}，决定人员 {makers}，得分 {score}）",
                 outcome=d.get("outcome"), on=d.get("decision_date"),
                 makers=_("、").join(d.get("makers") or []), score=d.get("score"))
    elif ev.kind == "number.drawn":
        text = _("取号")
    elif ev.kind == "number.void":
        text = _("号码作废：{reason}", reason=d.get("reason", ""))
    else:
        text = ev.kind
    return TimelineEntry(ev, text, link)


@dataclass(frozen=True)
class CertificatePage:
    me: CertRow
    main: CertRow
    members: list[CertRow]
    """The main certificate and its sub-certificates, in order."""
    organisation: Organisation
    timeline: list[TimelineEntry]
    documents: list[Record]
    surveillances: list[date]
    next_surveillance: DueItem | None
    status_actions: dict[str, str]
    """Status changes open to this certificate now (action → label)."""


def certificate_page(s: Session, profiles: Profiles, number: str,
                     today: date) -> CertificatePage:
    number = str(parse(number))
    cert = s.exec(select(Certificate).where(Certificate.number == number)).first()
    if cert is None:
        raise NotFound(N_("没有证书 {number}"), number=number)
    main_number = cert.main_number or cert.number
    family = s.exec(select(Certificate).where(or_(col(Certificate.number) == main_number,
                                                  col(Certificate.main_number) == main_number))
                    .order_by(col(Certificate.number))).all()
    main = next(c for c in family if c.number == main_number)
    numbers = [c.number for c in family]
    timeline = s.exec(select(Event).where(col(Event.subject).in_(numbers))
                      .order_by(col(Event.seq))).all()
    documents = s.exec(select(Record).where(col(Record.certificate_number).in_(numbers))
                       .order_by(col(Record.created))).all()
    held = surveillances_held(s, main.number)
    me, main_row = _row(cert, today), _row(main, today)
    return CertificatePage(
        me=me, main=main_row, members=[_row(c, today) for c in family],
        organisation=s.get_one(Organisation, cert.organisation_id),
        timeline=[_describe(ev) for ev in reversed(timeline)], documents=list(documents),
        surveillances=held,
        next_surveillance=(next_due(profiles.get(main.profile).rules.dates, main, held, today)
                           if main_row.status in (*HOLDING, CertStatus.NOT_YET_VALID)
                           else None),
        status_actions={a: label for a, label in STATUS_ACTIONS.items()
                        if me.status in TRANSITIONS[a].allowed_from})


def record(s: Session, sha: str) -> Record:
    row = s.exec(select(Record).where(Record.sha256 == sha)).first() \
        if re.fullmatch(r"[0-9a-f]{64}", sha) else None
    if row is None:
        raise NotFound(N_("没有这份档案文件"))
    if row.disposed_at is not None:
        raise NotFound(N_("{filename} 已于 {on} 经批准销毁（保留期满），仅保留其登记信息。"),
                       filename=row.filename, on=f"{row.disposed_at:%Y-%m-%d}")
    return row
