"""A client's whole file as a BagIt bag (RFC 8493): the records' PDFs, a metadata JSON of
records (tombstones included), certificates, holds and log entries, sha256 manifests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bagit
from sqlalchemy import or_
from sqlmodel import Session, col, select

from certdesk.common.errors import ArchiveError, InputError, NotFound
from certdesk.common.i18n import N_
from certdesk.domain.profiles import Profiles
from certdesk.domain.uscc import validate_uscc
from certdesk.store.blobs import Store, sha256_hex
from certdesk.store.events import verify_chain
from certdesk.store.models import Certificate, Event, Hold, Organisation
from certdesk.store.records import Facts, find_records, record_dict, record_subject


@dataclass(frozen=True)
class Export:
    bag: Path
    records: int
    files: int
    certificates: int
    events: int

    def as_dict(self) -> dict[str, Any]:
        return {"bag": str(self.bag), "records": self.records, "files": self.files,
                "certificates": self.certificates, "events": self.events}


def _safe(name: str) -> str:
    return re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", name).strip(" .") or "record"


def _cert_dict(c: Certificate) -> dict[str, Any]:
    return {k: getattr(c, k) for k in (
        "number", "main_number", "profile", "holder_name", "scope", "grade", "decision_date",
        "issue_date", "effective_from", "expiry_date", "reissue_date", "status",
        "status_reason", "pdf_sha256")}


def export_client(s: Session, store: Store, profiles: Profiles, client: str,
                  out: Path) -> Export:
    uscc = validate_uscc(client)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(N_("{out} 已存在且不是空文件夹"), out=out)
    org = s.exec(select(Organisation).where(Organisation.uscc == uscc)).first()
    records = find_records(s, client=uscc)
    if org is None and not records:
        raise NotFound(N_("客户 {uscc} 没有记录"), uscc=uscc)
    certs = list(s.exec(select(Certificate).where(
        Certificate.organisation_id == (org.id if org else -1)).order_by(col(Certificate.number))))
    holds = list(s.exec(select(Hold).where(or_(
        col(Hold.client_uscc) == uscc,
        col(Hold.certificate_number).in_([c.number for c in certs])))))
    subjects = ({c.number for c in certs} | {record_subject(r.id) for r in records}
                | {f"client:{uscc}"})
    log = list(s.exec(select(Event).where(col(Event.subject).in_(subjects))
                      .order_by(col(Event.seq))))

    out.mkdir(parents=True, exist_ok=True)
    (out / "records").mkdir()
    facts = Facts(s, profiles)
    listed = []
    files = 0
    for r in records:
        entry = record_dict(s, r, facts)
        if r.disposed_at is None:
            data = store.read(r.sha256)
            if sha256_hex(data) != r.sha256:
                raise ArchiveError(N_("记录 {id} 的文件与其哈希值不符：请运行 certdesk archive "
                                      "audit"), id=r.id)
            rel = f"records/{r.id:06d}_{r.record_type}_{_safe(r.filename)}"
            (out / rel).write_bytes(data)
            entry["file"] = f"data/{rel}"
            files += 1
        listed.append(entry)
    metadata = {
        "client": {"uscc": uscc, "name": org.name if org else None,
                   "registered_address": org.registered_address if org else None},
        "exported_at": datetime.now(UTC),
        "records": listed,
        "certificates": [_cert_dict(c) for c in certs],
        "holds": [{"id": h.id, "client": h.client_uscc, "certificate": h.certificate_number,
                   "reason": h.reason, "placed_by": h.placed_by, "placed_at": h.placed_at,
                   "released_at": h.released_at} for h in holds],
        "events": [{"seq": e.seq, "at": e.at, "kind": e.kind, "subject": e.subject,
                    "actor": e.actor, "data": json.loads(e.data), "prev_hash": e.prev_hash,
                    "hash": e.hash} for e in log],
        "log_head": verify_chain(s).as_dict(),
    }
    (out / "metadata.json").write_text(
        json.dumps(metadata, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    bagit.make_bag(str(out), {
        "Source-Organization": ", ".join(sorted({r.profile or "" for r in records})) or "certdesk",
        "External-Description": f"certdesk export of the records of client {uscc}",
        "External-Identifier": uscc,
    }, checksums=["sha256"])
    return Export(out, len(records), files, len(certs), len(log))
