"""Legal holds, closed applications and disposal with two officers.

One officer proposes records whose period has ended; a different officer approves. Both
steps check every record again: due under its body's rule, under no active hold, not
already disposed of. Approval archives a signed disposal certificate, marks each record's
row as its tombstone and logs it, all in one transaction; only then are the blobs erased
(``archive recover`` finishes an erasure a crash interrupted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from certdesk.common.errors import ArchiveError, InputError, NotFound, RuleViolation
from certdesk.common.i18n import N_, Msg, Said, translate
from certdesk.common.names import person_key
from certdesk.documents.disposal import DisposalSheet, disposal_docx
from certdesk.domain.numbering import parse
from certdesk.domain.profiles import Profiles
from certdesk.domain.text import clean_text
from certdesk.domain.uscc import validate_uscc
from certdesk.services.publisher import Publisher
from certdesk.signing.pdf import SignatureSpec
from certdesk.store import events
from certdesk.store.db import session_scope
from certdesk.store.models import (
    ApplicationClosure,
    Certificate,
    Disposal,
    DisposalItem,
    Hold,
    Record,
    utcnow,
)
from certdesk.store.records import (
    Facts,
    Filing,
    add_record,
    client_uscc,
    get_record,
    record_subject,
)
from certdesk.store.rows import stored_id

DISPOSAL_STATUS = {"approved": N_("已批准"), "rejected": N_("已驳回")}
REASON = N_("理由（--reason）")


def _required(value: str, what: str) -> str:
    if not value or not value.strip():
        raise InputError(N_("{what}必须填写"), what=Msg(what))
    return clean_text(value.strip(), "reason" if "reason" in what else what.strip("-"))


def _target(client: str | None, certificate: str | None) -> tuple[str | None, str | None]:
    if bool(client) == bool(certificate):
        raise InputError(N_("--client USCC 与 --certificate NUMBER 须且只须给出一项"))
    return (validate_uscc(client) if client else None,
            str(parse(certificate)) if certificate else None)


def _hold_subject(uscc: str | None, number: str | None) -> str:
    if uscc:
        return f"client:{uscc}"
    assert number is not None, "_target names one of the two"
    return number


# -- holds ---------------------------------------------------------------------------------

def place_hold(s: Session, *, client: str | None, certificate: str | None, reason: str,
               by: str) -> Hold:
    uscc, number = _target(client, certificate)
    if number and not s.exec(select(Certificate.id).where(Certificate.number == number)).first():
        raise NotFound(N_("档案中没有证书 {number}"), number=number)
    hold = Hold(client_uscc=uscc, certificate_number=number,
                reason=_required(reason, REASON), placed_by=_required(by, "--by"))
    s.add(hold)
    s.flush()
    events.append(s, "hold.placed", _hold_subject(uscc, number),
                  {"hold": hold.id, "reason": hold.reason}, hold.placed_by)
    return hold


def release_hold(s: Session, *, client: str | None, certificate: str | None, reason: str,
                 by: str) -> list[Hold]:
    uscc, number = _target(client, certificate)
    reason, by = _required(reason, REASON), _required(by, "--by")
    holds = list(s.exec(select(Hold).where(col(Hold.released_at).is_(None),
                                           Hold.client_uscc == uscc if uscc else
                                           Hold.certificate_number == number)))
    if not holds:
        raise NotFound(N_("{target} 没有生效的保全"), target=uscc or number)
    for hold in holds:
        hold.released_by, hold.released_at, hold.release_reason = by, utcnow(), reason
        s.add(hold)
        events.append(s, "hold.released", _hold_subject(uscc, number),
                      {"hold": hold.id, "reason": reason}, by)
    return holds


def hold_dict(h: Hold) -> dict:
    return {"id": h.id, "client": h.client_uscc, "certificate": h.certificate_number,
            "reason": h.reason, "placed_by": h.placed_by, "placed_at": h.placed_at,
            "released_by": h.released_by, "released_at": h.released_at,
            "release_reason": h.release_reason}


# -- refused or withdrawn applications -------------------------------------------------------

def close_application(s: Session, *, client: str, outcome: str, on: date, reason: str,
                      by: str) -> ApplicationClosure:
    if outcome not in ("refused", "withdrawn"):
        raise InputError(N_("结果 {outcome} 应为 refused 或 withdrawn"), outcome=repr(outcome))
    row = ApplicationClosure(client_uscc=validate_uscc(client), outcome=outcome, closed_on=on,
                             reason=_required(reason, REASON),
                             closed_by=_required(by, "--by"))
    s.add(row)
    events.append(s, f"application.{outcome}", f"client:{row.client_uscc}",
                  {"on": on, "reason": row.reason}, row.closed_by)
    return row


# -- proposals -------------------------------------------------------------------------------

def _refusal(s: Session, facts: Facts, record: Record, today: date,
             disposal_id: int | None) -> Said | None:
    """Why ``record`` may not be disposed of today, or None."""
    if record.disposed_at is not None:
        return Said(N_("记录 {id} 已于 {on} 销毁"), id=record.id,
                    on=f"{record.disposed_at:%Y-%m-%d}")
    if holds := facts.holds(record):
        return Said(N_("记录 {id} 处于法律保全 {hold}（{target}：{reason}）"), id=record.id,
                    hold=holds[0].id, target=holds[0].client_uscc or holds[0].certificate_number,
                    reason=holds[0].reason)
    ret = facts.retention(record)
    if not ret.due(today):
        if ret.retain_until:
            return Said(N_("记录 {id} 须保存至 {until}：{why}"), id=record.id,
                        until=ret.retain_until, why=ret.why)
        return Said(N_("记录 {id} 须继续保存，尚无截止日期：{why}"), id=record.id, why=ret.why)
    other = s.exec(select(Disposal.id).join(DisposalItem).where(
        DisposalItem.record_id == record.id, Disposal.status == "proposed",
        Disposal.id != (disposal_id or -1))).first()
    if other is not None:
        return Said(N_("记录 {id} 已在未结的销毁提议 {other} 中"), id=record.id, other=other)
    return None


@dataclass(frozen=True)
class _Joined:
    """Lines given as one parameter, each translated, joined by "；" ("; ")."""

    lines: tuple[Said, ...]

    def text(self, lang: str) -> str:
        return translate(lang, N_("；")).join(line.text(lang) for line in self.lines)


def _check_all(s: Session, profiles: Profiles, records: list[Record], today: date,
               disposal_id: int | None = None) -> Facts:
    facts = Facts(s, profiles)
    problems = [p for r in records if (p := _refusal(s, facts, r, today, disposal_id))]
    if problems:
        raise RuleViolation(N_("不能销毁：{problems}"), problems=_Joined(tuple(problems)))
    return facts


def propose(s: Session, profiles: Profiles, record_ids: list[int], *, by: str, reason: str,
            today: date) -> Disposal:
    by, reason = _required(by, "--by"), _required(reason, REASON)
    if not record_ids:
        raise InputError(N_("请至少给出一个记录编号"))
    records = [get_record(s, rid) for rid in dict.fromkeys(record_ids)]
    facts = _check_all(s, profiles, records, today)
    proposal = Disposal(reason=reason, proposed_by=by)
    s.add(proposal)
    s.flush()
    for r in records:
        ret = facts.retention(r)
        assert ret.anchor is not None and ret.retain_until is not None, "checked: it is due"
        s.add(DisposalItem(disposal_id=stored_id(proposal.id), record_id=stored_id(r.id),
                           sha256=r.sha256,
                           record_type=r.record_type, filename=r.filename, rule=ret.rule,
                           anchor_kind=ret.anchor_kind, anchor=ret.anchor, period=ret.period,
                           retain_until=ret.retain_until, clause=ret.clause))
    events.append(s, "disposal.proposed", f"disposal:{proposal.id}",
                  {"records": [r.id for r in records], "reason": reason}, by)
    return proposal


def open_proposal(s: Session, disposal_id: int, by: str) -> tuple[Disposal, list[Record]]:
    proposal = s.get(Disposal, disposal_id)
    if proposal is None:
        raise NotFound(N_("没有销毁申请 {number}"), number=disposal_id)
    if proposal.status != "proposed":
        raise RuleViolation(N_("销毁申请 {number} 已办结（{status}）"), number=disposal_id,
                            status=Msg(DISPOSAL_STATUS.get(proposal.status, proposal.status)))
    if person_key(by) == person_key(proposal.proposed_by):
        raise RuleViolation(N_("销毁须由两名档案管理员办理：提出申请的人不能批准"
                               "（{by} 提出了销毁申请 {number}）"), by=by, number=disposal_id)
    items = s.exec(select(DisposalItem).where(DisposalItem.disposal_id == disposal_id)).all()
    return proposal, [get_record(s, i.record_id) for i in items]


def reject(s: Session, disposal_id: int, *, by: str, reason: str) -> Disposal:
    by, reason = _required(by, "--by"), _required(reason, REASON)
    proposal, _ = open_proposal(s, disposal_id, by)
    proposal.status, proposal.decided_by, proposal.decided_at = "rejected", by, utcnow()
    proposal.decision_reason = reason
    s.add(proposal)
    events.append(s, "disposal.rejected", f"disposal:{disposal_id}", {"reason": reason}, by)
    return proposal


@dataclass(frozen=True)
class Disposed:
    disposal_id: int
    records: list[int]
    certificate_record: int
    certificate_sha256: str
    not_erased: list[str]
    """Blobs the store refused to erase yet (``archive recover`` retries)."""

    def as_dict(self) -> dict:
        return {"disposal": self.disposal_id, "records": self.records,
                "certificate_record": self.certificate_record,
                "certificate_sha256": self.certificate_sha256, "not_erased": self.not_erased}


def approve(publisher: Publisher, disposal_id: int, *, by: str, today: date) -> Disposed:
    by = _required(by, "--by")
    with session_scope(publisher.engine) as s:
        proposal, records = open_proposal(s, disposal_id, by)
        facts = _check_all(s, publisher.profiles, records, today, disposal_id)
        lines = [_line(s, facts, r) for r in records]
        bodies = sorted({publisher.profiles.get(r.profile).body.name for r in records
                         if r.profile})
        sheet = DisposalSheet(disposal_id, bodies, lines, proposal.proposed_by, by,
                              proposal.reason, today)
        pid = records[0].profile
    assert pid is not None, "a record without a profile is never due"
    profile = publisher.profiles.get(pid)
    pdf = disposal_certificate(publisher, sheet)
    with session_scope(publisher.engine) as s:
        # The approval entry takes the log lock first: a hold placed meanwhile is either
        # committed before (and seen below) or waits until this disposal is done.
        events.append(s, "disposal.approved", f"disposal:{disposal_id}",
                      {"records": [r.id for r in records]}, by)
        proposal, records = open_proposal(s, disposal_id, by)
        facts = _check_all(s, publisher.profiles, records, today, disposal_id)
        cert, _ = add_record(
            s, publisher.blobs, publisher.settings, pdf, record_type="disposal_certificate",
            filename=f"disposal-{disposal_id}.pdf",
            filing=Filing(profile, None, None, None), signer=publisher.key.kid, actor=by)
        now = utcnow()
        for r in records:
            ret = facts.retention(r)
            r.disposed_at, r.disposal_id = now, disposal_id
            s.add(r)
            events.append(s, "record.disposed", record_subject(r.id), {
                "sha256": r.sha256, "record_type": r.record_type, "filename": r.filename,
                "rule": ret.rule, "retain_until": ret.retain_until, "clause": ret.clause,
                "disposal": disposal_id, "proposed_by": proposal.proposed_by,
                "approved_by": by, "disposal_certificate_sha256": cert.sha256}, by)
        proposal.status, proposal.decided_by, proposal.decided_at = "approved", by, now
        proposal.certificate_sha256 = cert.sha256
        s.add(proposal)
        shas = [r.sha256 for r in records]
        ids = [stored_id(r.id) for r in records]
        cert_id, cert_sha = stored_id(cert.id), cert.sha256
    not_erased = []
    for sha in shas:
        try:
            publisher.blobs.erase(sha)
        except ArchiveError:
            not_erased.append(sha)
    return Disposed(disposal_id, ids, cert_id, cert_sha, not_erased)


def due_records(s: Session, profiles: Profiles, on: date,
                profile: str | None = None) -> list[dict]:
    """Records still kept whose retention period has ended on ``on``, each with why (rule,
    anchor, period, clause) and the ids of the holds that keep it."""
    query = select(Record).where(col(Record.disposed_at).is_(None)).order_by(col(Record.id))
    if profile:
        query = query.where(Record.profile == profile)
    facts = Facts(s, profiles)
    due = []
    for r in s.exec(query):
        ret = facts.retention(r)
        if ret.due(on):
            due.append({"id": r.id, "sha256": r.sha256, "record_type": r.record_type,
                        "filename": r.filename,
                        "profile": r.profile, "client": client_uscc(s, r),
                        "certificate": r.certificate_number,
                        "holds": [h.id for h in facts.holds(r)], **ret.as_dict()})
    return due


def _line(s: Session, facts: Facts, r: Record) -> dict:
    return {"id": r.id, "profile": r.profile, "type": r.record_type, "filename": r.filename,
            "client": client_uscc(s, r) or "", "certificate": r.certificate_number or "",
            "sha256": r.sha256, "why": facts.retention(r).why}


def disposal_dict(s: Session, d: Disposal) -> dict:
    items = s.exec(select(DisposalItem).where(DisposalItem.disposal_id == d.id)).all()
    return {"id": d.id, "status": d.status, "reason": d.reason, "proposed_by": d.proposed_by,
            "proposed_at": d.proposed_at, "decided_by": d.decided_by,
            "decided_at": d.decided_at, "decision_reason": d.decision_reason,
            "certificate_sha256": d.certificate_sha256,
            "records": [{"id": i.record_id, "sha256": i.sha256, "record_type": i.record_type,
                         "filename": i.filename, "rule": i.rule, "anchor_kind": i.anchor_kind,
                         "anchor": i.anchor, "period": i.period,
                         "retain_until": i.retain_until, "clause": i.clause} for i in items]}


# -- the disposal certificate ------------------------------------------------------------------

def disposal_certificate(publisher: Publisher, sheet: DisposalSheet) -> bytes:
    """A signed PDF/A listing what was disposed of, why, and by whom (signed with the
    publisher's kept key, under its lock)."""
    name = f"disposal-{sheet.disposal_id}"
    pdf = publisher.pool.convert_bytes(disposal_docx(sheet), name)
    return publisher.sign(pdf, SignatureSpec(reason=f"记录销毁证明 {sheet.disposal_id}",
                                             name="、".join(sheet.bodies), certify=True))
