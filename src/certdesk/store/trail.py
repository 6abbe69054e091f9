"""The audit trail: the hash-chained log read back, filtered by account (actor), action
(kind), subject (a certificate number, ``record:12``…) and date range, newest first, in
keyset pages — what ``/staff/log`` and ``certdesk log list`` both show, and their CSV.

Pages are keyset pages on the sequence number (the primary key): the cursor is the last
shown entry's number, and the next page starts below it, so an entry appended while someone
pages is neither repeated nor makes another one skipped.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from certdesk.common.errors import InputError
from certdesk.common.i18n import N_
from certdesk.store.models import Event

MAX_PAGE = 500
MAX_EXPORT = 100_000
"""A CSV is the whole filtered view, up to this many entries."""
CSV_HEADER = ("序号 seq", "时间 at (UTC)", "操作 kind", "对象 subject", "账户 actor",
              "内容 data", "哈希 hash", "前一哈希 prev_hash")


@dataclass(frozen=True)
class TrailQuery:
    """One view of the log. ``since``/``until`` are inclusive days in ``zone``."""

    actor: str | None = None
    kind: str | None = None
    """Entries whose kind starts with this: ``certificate.`` is every certificate action."""
    subject: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int = 50
    before: int | None = None
    """The previous page's last sequence number: this page starts below it."""

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise InputError(N_("每页条数应为 1–{max}"), max=MAX_PAGE)
        if self.since and self.until and self.since > self.until:
            raise InputError(N_("起始日期 {since} 晚于截止日期 {until}"), since=self.since,
                             until=self.until)
        if self.before is not None and self.before < 1:
            raise InputError(N_("翻页位置 {before} 无效（应为正的序号）"), before=self.before)

    def as_params(self) -> dict[str, Any]:
        """The filter as URL parameters (empty ones and the cursor left out)."""
        defaults = asdict(TrailQuery())
        return {k: str(v) for k, v in asdict(self).items()
                if v not in (None, "") and k != "before" and v != defaults[k]}


@dataclass(frozen=True)
class TrailEntry:
    seq: int
    at: datetime
    """Aware, UTC."""
    kind: str
    subject: str
    actor: str
    data: dict[str, Any]
    hash: str
    prev_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": utc_text(self.at)}


@dataclass(frozen=True)
class TrailPage:
    entries: tuple[TrailEntry, ...]
    next_before: int | None
    """The cursor of the next (older) page, None on the last page."""

    def as_dict(self) -> dict[str, Any]:
        return {"entries": [e.as_dict() for e in self.entries], "next_before": self.next_before}


def utc_text(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _utc_start(day: date, zone: tzinfo) -> datetime:
    """The start of ``day`` in ``zone``, in UTC as the log stores it."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _conditions(q: TrailQuery, zone: tzinfo) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if q.actor:
        where.append(col(Event.actor) == q.actor.strip())
    if q.kind:
        where.append(col(Event.kind).startswith(q.kind.strip(), autoescape=True))
    if q.subject:
        where.append(col(Event.subject) == q.subject.strip())
    if q.since:
        where.append(col(Event.at) >= _utc_start(q.since, zone))
    if q.until:
        where.append(col(Event.at) < _utc_start(q.until + timedelta(days=1), zone))
    return where


def _entry(e: Event) -> TrailEntry:
    # Databases differ in whether they hand the zone back; the log writes UTC.
    at = e.at.replace(tzinfo=UTC) if e.at.tzinfo is None else e.at.astimezone(UTC)
    return TrailEntry(e.seq, at, e.kind, e.subject, e.actor, json.loads(e.data), e.hash,
                      e.prev_hash)


def page(s: Session, q: TrailQuery, zone: tzinfo = UTC) -> TrailPage:
    """One page, newest first (one row more than shown tells whether another page follows)."""
    stmt = select(Event).where(*_conditions(q, zone))
    if q.before is not None:
        stmt = stmt.where(Event.seq < q.before)
    rows = list(s.exec(stmt.order_by(col(Event.seq).desc()).limit(q.limit + 1)))
    shown = tuple(_entry(e) for e in rows[:q.limit])
    return TrailPage(shown, shown[-1].seq if len(rows) > q.limit else None)


def all_entries(s: Session, q: TrailQuery, zone: tzinfo = UTC) -> list[TrailEntry]:
    """Every entry of the filter (from the cursor on, if any), newest first, up to MAX_EXPORT."""
    stmt = select(Event).where(*_conditions(q, zone))
    if q.before is not None:
        stmt = stmt.where(Event.seq < q.before)
    return [_entry(e) for e in s.exec(stmt.order_by(col(Event.seq).desc()).limit(MAX_EXPORT))]


def kinds(s: Session) -> list[str]:
    """The actions the log holds (for the filter's choices; ``kind`` is indexed)."""
    return list(s.exec(select(Event.kind).distinct().order_by(Event.kind)))


def csv_bytes(rows: list[TrailEntry]) -> bytes:
    """UTF-8 with BOM, so Excel and WPS on Chinese Windows open it as written."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in rows:
        writer.writerow([e.seq, utc_text(e.at), e.kind, e.subject, e.actor,
                         json.dumps(e.data, ensure_ascii=False, sort_keys=True), e.hash,
                         e.prev_hash])
    return text.getvalue().encode("utf-8-sig")
