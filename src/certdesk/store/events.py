"""The append-only, hash-chained event log.

Each entry's hash is sha256 over the previous hash and the entry's canonical JSON, so any
edited, removed or reordered entry breaks the chain from that point on. Appends take the
row lock on ``LogHead`` (one UPDATE) so concurrent writers queue instead of forking it. The
head keeps the last sequence number and hash, so a cut tail is found too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from certdesk.domain.profiles import Profiles
from certdesk.store.ledger import record_event
from certdesk.store.models import Event, LogHead, utcnow


def utc_iso(at: datetime) -> str:
    """The timestamp as hashed: UTC, microseconds, no zone suffix (databases differ in
    whether they hand the zone back)."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, seq: int, at: datetime, kind: str, subject: str, actor: str,
               data: str) -> str:
    canonical = json.dumps(
        [prev_hash, seq, utc_iso(at), kind, subject, actor, data],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(session: Session, kind: str, subject: str, data: dict[str, Any] | None = None,
           actor: str = "system", *, profiles: Profiles | None = None) -> Event:
    """Append an event inside the caller's transaction (it commits with the change it logs).
    ``profiles``: the install's, which a certificate event the regulator hears of needs
    (its report item's due date is the profile's rule)."""
    row = session.execute(
        text("UPDATE loghead SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
    ).one()
    seq, prev = row[0], row[1]
    at = utcnow()
    payload = json.dumps(data or {}, ensure_ascii=False, sort_keys=True, default=str)
    digest = entry_hash(prev, seq, at, kind, subject, actor, payload)
    ev = Event(seq=seq, at=at, kind=kind, subject=subject, actor=actor, data=payload,
               prev_hash=prev, hash=digest)
    session.add(ev)
    session.execute(text("UPDATE loghead SET hash = :h WHERE id = 1"), {"h": digest})
    if kind.startswith("certificate."):  # what the regulator must hear of, in this transaction
        record_event(session, ev, data or {}, profiles)
    return ev


def entries(session: Session, subject: str | None = None, kind: str | None = None,
            limit: int | None = None) -> list[Event]:
    """The newest ``limit`` entries (all if None), oldest first, optionally filtered."""
    query = select(Event)
    if subject:
        query = query.where(Event.subject == subject)
    if kind:
        query = query.where(Event.kind.startswith(kind))
    rows = list(session.exec(query.order_by(col(Event.seq).desc()).limit(limit)))
    return rows[::-1]


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_seq: int
    head_hash: str
    broken_at: int | None = None
    """The first entry that does not check out (or the first missing one)."""
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}


def verify_chain(session: Session) -> ChainReport:
    """Re-hash the whole log in order and compare its end with the head."""
    head = session.get(LogHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, "0" * 64)

    def broken(seq: int, problem: str, count: int) -> ChainReport:
        return ChainReport(count, head_seq, head_hash, seq, problem)

    prev, expected, count = "0" * 64, 1, 0
    rows = session.exec(select(Event).order_by(col(Event.seq)).execution_options(yield_per=2000))
    for ev in rows:
        count += 1
        if ev.seq != expected:
            return broken(expected, f"entry {expected} is missing (the next one is {ev.seq})",
                          count)
        if ev.prev_hash != prev:
            return broken(ev.seq, f"entry {ev.seq} does not follow entry {ev.seq - 1}: an "
                          "earlier entry was changed, removed or put out of order", count)
        if entry_hash(ev.prev_hash, ev.seq, ev.at, ev.kind, ev.subject, ev.actor,
                      ev.data) != ev.hash:
            return broken(ev.seq, f"entry {ev.seq} ({ev.kind} {ev.subject}) was changed after "
                          "it was written", count)
        prev, expected = ev.hash, expected + 1
    last = expected - 1
    if last != head_seq:
        if last > head_seq:
            return broken(head_seq + 1, f"entries after {head_seq} are not covered by the "
                          "log head", count)
        return broken(last + 1, f"the log ends at entry {last} but its head says {head_seq}: "
                      f"entries {last + 1}–{head_seq} were removed", count)
    if prev != head_hash:
        return broken(last, f"entry {last} is not the one the log head recorded", count)
    return ChainReport(count, head_seq, head_hash)
