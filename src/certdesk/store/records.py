"""Records: adding them (row, log entry and durable blob in one transaction), finding
them, and the facts retention and holds are judged on.

Crash safety: the row, its ``record.added`` entry and the blob are written in one
transaction, the blob durably before the commit. A crash before the commit leaves at most
a blob without a row, which ``archive audit`` reports and ``archive recover`` quarantines;
never a row without its blob.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from certdesk.common import clock
from certdesk.common.errors import ArchiveError, InputError, NotFound
from certdesk.common.i18n import N_
from certdesk.common.settings import Settings
from certdesk.domain.numbering import parse
from certdesk.domain.profiles import Profile, Profiles
from certdesk.domain.status import CertStatus
from certdesk.domain.uscc import validate_uscc
from certdesk.store import events
from certdesk.store.blobs import Store, sha256_hex
from certdesk.store.models import (
    ApplicationClosure,
    Certificate,
    Event,
    Hold,
    Organisation,
    Record,
)
from certdesk.store.retention import (
    CertificateTerm,
    Closure,
    Retention,
    earliest_retain_until,
    retention,
)
from certdesk.store.rows import stored_id

RECORD_TYPES = {
    "application": "认证申请书 application",
    "application_review": "申请评审记录 application review",
    "contract": "认证合同 contract",
    "programme": "评价方案 programme (incl. sampling)",
    "man_day_calculation": "审查时间计算 man-day calculation",
    "plan": "审查计划 audit plan",
    "attendance": "首末次会议签到表 meeting attendance",
    "onsite_record": "现场评价记录 on-site record",
    "nc_report": "不符合报告 non-conformity report",
    "nc_verification": "不符合验证记录 non-conformity verification",
    "report": "评价报告 report",
    "decision": "认证决定记录 decision record",
    "certificate": "认证证书 certificate",
    "notice": "通知书 notice",
    "disposal_certificate": "记录销毁证明 disposal certificate",
    "other": "其他 other",
}
"""CACQ 11.2 (1)–(11), plus what certdesk itself produces."""

ROW_FIELDS = ("sha256", "size", "record_type", "filename", "profile", "organisation_id",
              "client_uscc", "certificate_number", "signer")
"""What the ``record.added`` entry states about the row; ``archive audit`` compares them."""


def record_subject(record_id: int | None) -> str:
    return f"record:{stored_id(record_id)}"


def check_type(record_type: str) -> str:
    if record_type not in RECORD_TYPES:
        raise InputError(N_("未知的记录类型 {type}（应为 {types} 之一）"),
                         type=repr(record_type), types=", ".join(RECORD_TYPES))
    return record_type


@dataclass(frozen=True)
class Filing:
    """Where a record belongs: profile, client and certificate, checked against the DB."""

    profile: Profile
    client_uscc: str | None
    organisation_id: int | None
    certificate_number: str | None


def resolve_filing(s: Session, profiles: Profiles, *, certificate: str | None,
                   client: str | None, profile: str | None) -> Filing:
    """Check the filing options and fill in what follows from them."""
    if not certificate and not client:
        raise InputError(N_("请说明这是谁的记录：--certificate NUMBER 和/或 --client USCC"))
    uscc = validate_uscc(client) if client else None
    org = s.exec(select(Organisation).where(Organisation.uscc == uscc)).first() if uscc else None
    cert = None
    if certificate:
        number = str(parse(certificate))
        cert = s.exec(select(Certificate).where(Certificate.number == number)).first()
        if cert is None:
            raise NotFound(N_("档案中没有证书 {number}"), number=number)
        cert_org = s.get_one(Organisation, cert.organisation_id)
        if uscc and cert_org.uscc != uscc:
            raise InputError(N_("证书 {number} 属于 {owner}，不属于 {uscc}"), number=number,
                             owner=cert_org.uscc, uscc=uscc)
        org, uscc = cert_org, cert_org.uscc
    if profile:
        profiles.get(profile)  # an unknown id: say so
        if cert is not None and cert.profile != profile:
            raise InputError(N_("证书 {number} 属于认证方案 {profile}，不是 {asked}"),
                             number=cert.number, profile=repr(cert.profile), asked=repr(profile))
    elif cert is not None:
        profile = cert.profile
    elif org is not None:
        latest = s.exec(select(Certificate).where(Certificate.organisation_id == org.id)
                        .order_by(col(Certificate.issue_date).desc())).first()
        profile = latest.profile if latest else None
    if profile is None:
        raise InputError(N_("请用 --profile 指明认证机构配置：该客户尚无证书可供沿用"))
    return Filing(profiles.get(profile), uscc, org.id if org else None,
                  cert.number if cert else None)


def find_by_sha(s: Session, sha: str) -> Record | None:
    return s.exec(select(Record).where(Record.sha256 == sha)).first()


def add_record(s: Session, store: Store, settings: Settings, data: bytes, *, record_type: str,
               filename: str, filing: Filing, signer: str | None, actor: str,
               source: dict[str, Any] | None = None) -> tuple[Record, bool]:
    """Add one record inside the caller's transaction (commit follows); False when these
    bytes are already archived. Order: row and log entry (taking the log lock), then the
    blob, durably; the commit comes last."""
    sha = sha256_hex(data)
    if (existing := find_by_sha(s, sha)) is not None:
        if existing.disposed_at is not None:
            raise ArchiveError(N_("{filename}：内容完全相同的文件曾是记录 {id}，已于 {on} 销毁"),
                               filename=filename, id=existing.id,
                               on=f"{existing.disposed_at:%Y-%m-%d}")
        return existing, False
    row = Record(sha256=sha, size=len(data), record_type=check_type(record_type),
                 filename=filename, profile=filing.profile.id,
                 organisation_id=filing.organisation_id, client_uscc=filing.client_uscc,
                 certificate_number=filing.certificate_number, signer=signer)
    s.add(row)
    s.flush()
    facts = Facts(s, None)
    earliest_end = earliest_retain_until(filing.profile.retention, record_type,
                                       facts.terms(row), facts.closure(row), clock.today())
    events.append(s, "record.added", record_subject(row.id),
                  {**{f: getattr(row, f) for f in ROW_FIELDS}, **(source or {}),
                   "earliest_end": earliest_end}, actor)
    store.put(data, earliest_end)  # an S3 store locks the object until then
    _pause_for_crash_test(settings)
    return row, True


def _pause_for_crash_test(settings: Settings) -> None:
    """Hold the transaction open after the blob is durable (tests kill -9 here)."""
    marker = settings.archive_pause_file
    if marker is None:
        return
    marker.touch()
    while marker.exists():
        time.sleep(0.05)


def client_uscc(s: Session, record: Record) -> str | None:
    if record.client_uscc:
        return record.client_uscc
    org = s.get(Organisation, record.organisation_id) if record.organisation_id else None
    return org.uscc if org else None


def find_records(s: Session, *, client: str | None = None, certificate: str | None = None,
                 record_type: str | None = None, include_disposed: bool = True) -> list[Record]:
    query = select(Record)
    if client:
        uscc = validate_uscc(client)
        org = s.exec(select(Organisation).where(Organisation.uscc == uscc)).first()
        query = query.where(or_(col(Record.client_uscc) == uscc,
                                col(Record.organisation_id) == (org.id if org else -1)))
    if certificate:
        number = str(parse(certificate))
        subs = select(Certificate.number).where(Certificate.main_number == number)
        query = query.where(or_(col(Record.certificate_number) == number,
                                col(Record.certificate_number).in_(subs)))
    if record_type:
        query = query.where(Record.record_type == check_type(record_type))
    if not include_disposed:
        query = query.where(col(Record.disposed_at).is_(None))
    return list(s.exec(query.order_by(col(Record.id))))


def get_record(s: Session, record_id: int) -> Record:
    row = s.get(Record, record_id)
    if row is None:
        raise NotFound(N_("没有记录 {id}"), id=record_id)
    return row


class Facts:
    """Reads what retention and holds depend on, caching per session use. ``profiles``
    gives each record's retention rule by the profile it names (None: terms only)."""

    def __init__(self, s: Session, profiles: Profiles | None) -> None:
        self.s = s
        self.profiles = profiles
        self._terms: dict[str, CertificateTerm] = {}

    def _term(self, cert: Certificate) -> CertificateTerm:
        if cert.number not in self._terms:
            ended_on = ended_by = recorded_on = None
            if cert.status in (CertStatus.REVOKED, CertStatus.CANCELLED):
                action = "revoke" if cert.status == CertStatus.REVOKED else "cancel"
                event = self.s.exec(select(Event).where(
                    Event.subject == cert.number, Event.kind == f"certificate.{action}")
                    .order_by(col(Event.seq).desc())).first()
                data = json.loads(event.data) if event else {}
                on = data.get("on")
                ended_on = date.fromisoformat(on) if on else cert.status_changed.date()
                # the day the change was made: logged with a back-dated one, else its entry
                recorded_on = (date.fromisoformat(data["recorded_on"])
                               if data.get("recorded_on") else event.at.date() if event
                               else None)
                ended_by = "revocation" if action == "revoke" else "cancellation"
            self._terms[cert.number] = CertificateTerm(cert.number, cert.issue_date,
                                                       cert.expiry_date, ended_on, ended_by,
                                                       recorded_on)
        return self._terms[cert.number]

    def terms(self, record: Record) -> list[CertificateTerm]:
        if record.certificate_number:
            query = select(Certificate).where(Certificate.number == record.certificate_number)
        elif record.organisation_id:
            query = select(Certificate).where(
                Certificate.organisation_id == record.organisation_id)
        else:
            return []
        return [self._term(c) for c in self.s.exec(query)]

    def closure(self, record: Record) -> Closure | None:
        uscc = client_uscc(self.s, record)
        if uscc is None:
            return None
        row = self.s.exec(select(ApplicationClosure).where(
            ApplicationClosure.client_uscc == uscc)
            .order_by(col(ApplicationClosure.closed_on).desc())).first()
        return Closure(row.outcome, row.closed_on) if row else None

    def _profiles(self) -> Profiles:
        if self.profiles is None:
            raise TypeError("Facts made without profiles judge no retention")
        return self.profiles

    def retention(self, record: Record) -> Retention:
        spec = (self._profiles().get(record.profile).retention if record.profile else None)
        if spec is None:
            return Retention("open", "filing", None, "kept: the record names no body profile",
                             None, "")
        return retention(spec, record.record_type, self.terms(record), self.closure(record))

    def holds(self, record: Record) -> list[Hold]:
        """Active legal holds covering the record (its client, certificate or main one)."""
        targets = []
        uscc = client_uscc(self.s, record)
        if uscc:
            targets.append(col(Hold.client_uscc) == uscc)
        if record.certificate_number:
            numbers = {record.certificate_number}
            cert = self.s.exec(select(Certificate).where(
                Certificate.number == record.certificate_number)).first()
            if cert is not None and cert.main_number:
                numbers.add(cert.main_number)
            targets.append(col(Hold.certificate_number).in_(numbers))
        if not targets:
            return []
        return list(self.s.exec(select(Hold).where(col(Hold.released_at).is_(None), or_(*targets))))


def record_dict(s: Session, record: Record, facts: Facts) -> dict[str, Any]:
    ret = facts.retention(record)
    return {
        "id": record.id, "sha256": record.sha256, "size": record.size,
        "record_type": record.record_type, "filename": record.filename,
        "profile": record.profile, "client": client_uscc(s, record),
        "certificate": record.certificate_number, "signer": record.signer,
        "created": record.created, "disposed_at": record.disposed_at,
        "disposal_id": record.disposal_id, "confidential": ret.confidential,
        "retention": ret.as_dict(), "due": ret.due(clock.today()),
        "holds": [h.id for h in facts.holds(record)],
    }
