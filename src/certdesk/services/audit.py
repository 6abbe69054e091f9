"""Proving the archive intact (audit) and repairing what a crash can leave (recover).

The audit follows paperless-ngx's sanity checker: every row's blob is re-hashed, every
stored file must belong to a row, every row must be named by the log (and match what its
``record.added`` entry says), disposed records must be gone, the log chain must hold and
the certificates' state columns must agree with it.
Every stored certificate's signature is validated against the body's trust (its CAs and
the signer keys it made), so a file signed by any other key is never "clean".
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from certdesk.common.errors import ArchiveError
from certdesk.common.files import PRIVATE_DIR, PRIVATE_FILE
from certdesk.common.i18n import DEFAULT
from certdesk.domain.profiles import Profiles
from certdesk.signing.trust import Trust
from certdesk.store import events
from certdesk.store.blobs import BlobStore, Store, blob_key, sha_of_key
from certdesk.store.events import ChainReport, verify_chain
from certdesk.store.models import Event, Record
from certdesk.store.numbers import NumberAccount, account, void_unaccounted
from certdesk.store.records import ROW_FIELDS, record_subject
from certdesk.store.state import disagreements

STALE_TEMP_SECONDS = 3600
"""A partial write older than this belongs to no live process (kill -9 mid-write)."""


@dataclass
class AuditReport:
    store: str = ""
    records: int = 0
    files: int = 0
    missing: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    unlogged: list[dict] = field(default_factory=list)
    row_mismatch: list[dict] = field(default_factory=list)
    not_erased: list[dict] = field(default_factory=list)
    bad_signature: list[dict] = field(default_factory=list)
    permissions: list[dict] = field(default_factory=list)
    """Private files others may read (``file_permissions``); the CLI fills it in."""
    chain: ChainReport | None = None
    numbers: NumberAccount = field(default_factory=NumberAccount)
    state: list[dict] = field(default_factory=list)
    """Certificate columns the log does not bear out (``store.state``)."""

    @property
    def problems(self) -> int:
        return (len(self.missing) + len(self.changed) + len(self.orphans) + len(self.unlogged)
                + len(self.row_mismatch) + len(self.not_erased) + len(self.bad_signature)
                + len(self.permissions)
                + len(self.numbers.unaccounted) + len(self.state)
                + (0 if self.chain is None or self.chain.ok else 1))

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def as_dict(self) -> dict:
        return {"ok": self.ok, "problems": self.problems, "store": self.store,
                "records": self.records,
                "files": self.files, "missing": self.missing, "changed": self.changed,
                "orphans": self.orphans, "unlogged": self.unlogged,
                "row_mismatch": self.row_mismatch, "not_erased": self.not_erased,
                "bad_signature": self.bad_signature,
                "permissions": self.permissions,
                "numbers": self.numbers.as_dict(),
                "state": self.state,
                "log": self.chain.as_dict() if self.chain else None}


def file_permissions(home: Path, database: Path | None) -> list[dict]:
    """The home folder, the SQLite database (with its -wal/-shm) and the key folder and key
    files, where group or others have any access: each with its mode and the one it needs."""
    wanted = [(home, PRIVATE_DIR), (home / "keys", PRIVATE_DIR)]
    wanted += [(p, PRIVATE_FILE) for p in sorted((home / "keys").glob("*.p12"))]
    if database is not None:
        wanted += [(Path(f"{database}{end}"), PRIVATE_FILE) for end in ("", "-wal", "-shm")]
    found = []
    for path, mode in wanted:
        try:
            actual = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if actual & 0o077:
            found.append({"path": str(path), "mode": f"{actual:04o}", "wanted": f"{mode:04o}"})
    return found


def _log_facts(s: Session) -> tuple[dict[str, set[str]], dict[str, dict]]:
    """Hashes named anywhere in the log (with the subjects naming them), and each record's
    ``record.added`` data."""
    named: dict[str, set[str]] = {}
    added: dict[str, dict[str, Any]] = {}
    rows = s.exec(select(Event).order_by(col(Event.seq)).execution_options(yield_per=2000))
    for ev in rows:
        data = json.loads(ev.data or "{}")
        for key, value in data.items():
            if (key == "sha256" or key.endswith("_sha256")) and isinstance(value, str):
                named.setdefault(value, set()).add(ev.subject)
        if ev.kind == "record.added":
            added[ev.subject] = data
    return named, added


def _row_differs(row: Record, logged: dict) -> list[str]:
    return [f for f in ROW_FIELDS if f in logged and logged[f] != getattr(row, f)]


def audit(s: Session, store: Store, profiles: Profiles,
          advance: Callable[[int], None] | None = None, *,
          trust: Trust | None = None) -> AuditReport:
    """Check everything (numbers and state by the install's ``profiles``); ``advance(n)``
    is called as records are re-hashed (progress). With ``trust``, every intact
    certificate's signature is validated against it."""
    report = AuditReport(store=store.url, chain=verify_chain(s), numbers=account(s, profiles),
                         state=[d.as_dict() for d in disagreements(s, profiles)])
    named, added = _log_facts(s)
    known: set[str] = set()
    rows = s.exec(select(Record).order_by(col(Record.id)).execution_options(yield_per=500))
    for row in rows:
        report.records += 1
        known.add(row.sha256)
        ref = {"record": row.id, "sha256": row.sha256, "filename": row.filename}
        if row.disposed_at is not None:
            if store.exists(row.sha256):
                report.not_erased.append(ref)
        else:
            digest = store.digest(row.sha256)
            if digest is None:
                report.missing.append(ref)
            elif digest != row.sha256:
                report.changed.append({**ref, "actual_sha256": digest})
            elif trust is not None and row.record_type == "certificate":
                signature = trust.check(store.read(row.sha256))
                # A paper certificate filed as a scan carries no signature and claims none;
                # one certdesk signed (its row names the key) or any signed file must pass.
                if not signature.ok and (signature.signed or row.signer in trust.signers):
                    report.bad_signature.append({**ref, "signer": signature.signer_kid,
                                                 "problems": list(signature.problems)})
        if row.sha256 not in named:
            report.unlogged.append(ref)
        elif (logged := added.get(record_subject(row.id))) is not None:
            if differs := _row_differs(row, logged):
                report.row_mismatch.append({**ref, "fields": differs})
        elif row.certificate_number and row.certificate_number not in named[row.sha256]:
            report.row_mismatch.append({**ref, "fields": ["certificate_number"]})
        if advance:
            advance(1)
    for key in store.names():
        report.files += 1
        if sha_of_key(key) not in known:
            report.orphans.append(key)
    return report


def count_records(s: Session) -> int:
    return s.exec(select(func.count()).select_from(Record)).one()


@dataclass
class Recovery:
    quarantined: list[dict] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)
    refused: list[tuple[str, ArchiveError]] = field(default_factory=list)
    """Steps the store refused (key, why: an object lock still running): retried on the next
    run."""
    temp_removed: int = 0
    voided: list[str] = field(default_factory=list)
    """Numbers drawn by a process that ended before issuing them, now void "interrupted"."""

    def as_dict(self, lang: str = DEFAULT) -> dict:
        return {"quarantined": self.quarantined, "restored": self.restored, "erased": self.erased,
                "refused": [{"key": key, "reason": why.text(lang)} for key, why in self.refused],
                "temp_removed": self.temp_removed, "voided": self.voided}


def recover(s: Session, store: Store, actor: str, profiles: Profiles) -> Recovery:
    """Repair what an interrupted write, issue or disposal leaves, logging each step, and
    commit.

    Orphan files (no row) go to the quarantine; a quarantined blob whose row exists after
    all (it committed after an earlier recovery looked) comes back; blobs of disposed
    records are erased; numbers drawn by a process that is gone are voided. The first log
    entry takes the log lock, so archive adds (which take it before writing their blob) wait
    until recovery is done. If the commit fails (a full disk), the files moved are moved
    back, so no move stands without its log entry."""
    out = Recovery()
    try:
        _recover(s, store, actor, profiles, out)
        s.commit()
    except BaseException:
        s.rollback()
        _undo_moves(store, out)
        raise
    return out


def _undo_moves(store: Store, out: Recovery) -> None:
    for q in out.quarantined:
        if (sha := sha_of_key(q["key"])) is not None:
            store.restore(sha)
    for sha in out.restored:
        store.quarantine(blob_key(sha))


def _recover(s: Session, store: Store, actor: str, profiles: Profiles, out: Recovery) -> None:
    events.append(s, "archive.recover", "archive", {}, actor)
    rows = {r.sha256: r for r in s.exec(select(Record))}
    for sha, row in rows.items():
        if row.disposed_at is None and not store.exists(sha) and store.restore(sha):
            events.append(s, "blob.restored", record_subject(row.id), {"sha256": sha}, actor)
            out.restored.append(sha)
        elif row.disposed_at is not None and store.exists(sha):
            try:
                store.erase(sha)
            except ArchiveError as exc:
                out.refused.append((sha, exc))
                continue
            events.append(s, "blob.erased", record_subject(row.id),
                          {"sha256": sha, "disposal": row.disposal_id}, actor)
            out.erased.append(sha)
    for key in list(store.names()):
        if sha_of_key(key) in rows:
            continue
        try:
            where = store.quarantine(key)
        except ArchiveError as exc:
            out.refused.append((key, exc))
            continue
        events.append(s, "blob.quarantined", f"blob:{key}",
                      {"key": key, "to": where}, actor)
        out.quarantined.append({"key": key, "to": where})
    out.voided = void_unaccounted(s, actor, profiles)
    if isinstance(store, BlobStore):
        out.temp_removed = store.remove_stale_temp(STALE_TEMP_SECONDS)
