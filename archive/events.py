"""The append-only, hash-chained event log.

Each entry's hash is sha256 over the previous hash and the entry's canonical JSON, so any
edited, removed or reordered entry breaks the chain from that point on. Appends take the
row lock on ``LogHead`` (one UPDATE) so concurrent writers queue instead of forking it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from archive.models import Event, utcnow


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
           actor: str = "system") -> Event:
    """Append an event inside the caller's transaction (it commits with the change it logs)."""
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
    return ev


def history(session: Session, subject: str) -> list[Event]:
    return list(session.exec(select(Event).where(Event.subject == subject).order_by(Event.seq)))
