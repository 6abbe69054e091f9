"""Rate-limit buckets in the database, shared by every web process on it.

A bucket per key (``upload:<address>``, ``staff:<address>``) holds its tokens as of its
last use; a take refills it for the time passed and takes the cost in one
``INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`` statement, atomic on SQLite (its
write lock) and on PostgreSQL (the conflicting row is locked), so however many processes
take at once no more than the burst is ever granted. Used only where a request is worth a
write (a PDF check, a search, a sign-in); page views are limited in each process and by the
reverse proxy (docs/deployment.md).
"""

from __future__ import annotations

import math

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel

from certdesk.store.rows import table_of


class RateBucket(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=80)
    tokens: float
    """Tokens left at ``at`` (negative: debt run up by work charged afterwards)."""
    at: float = Field(index=True)
    """Unix time of the last take or charge (seconds; every host's clock, so keep them
    NTP-synchronised like the database's)."""


def _refilled(rate: float, burst: float, now: float) -> ColumnElement[float]:
    table = table_of(RateBucket)
    grown = table.c.tokens + (now - table.c.at) * rate
    return case((grown > burst, burst), else_=grown)


def _upsert(engine: Engine, key: str, fresh: float, value: ColumnElement[float], now: float,
            where: ColumnElement[bool] | None) -> float | None:
    table = table_of(RateBucket)
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(key=key, tokens=fresh, at=now).on_conflict_do_update(
        index_elements=[table.c.key], set_={"tokens": value, "at": now}, where=where,
    ).returning(table.c.tokens)
    with engine.begin() as conn:
        row = conn.execute(stmt).first()
    return None if row is None else float(row[0])


def take(engine: Engine, key: str, cost: float, rate: float, burst: float,
         now: float) -> float:
    """Take ``cost`` tokens from ``key``'s bucket (``burst`` at most, refilled at ``rate``
    per second): 0.0 if granted, else the seconds until they would be (nothing taken)."""
    refilled = _refilled(rate, burst, now)
    if cost <= burst and _upsert(engine, key, burst - cost, refilled - cost, now,
                                 refilled >= cost) is not None:
        return 0.0
    table = table_of(RateBucket)
    with engine.begin() as conn:
        row = conn.execute(select(table.c.tokens, table.c.at)
                           .where(table.c.key == key)).first()
    tokens = burst if row is None else min(burst, row[0] + (now - row[1]) * rate)
    return (cost - tokens) / rate if rate > 0 else math.inf


def charge(engine: Engine, key: str, cost: float, rate: float, burst: float,
           now: float) -> None:
    """Take ``cost`` tokens for work already done, into debt if need be (down to one burst
    below zero): the key's next takes wait until it is paid off."""
    if cost <= 0:
        return
    due = _refilled(rate, burst, now) - cost
    _upsert(engine, key, max(-burst, burst - cost), case((due < -burst, -burst), else_=due),
            now, None)


def forget_full(engine: Engine, rate: float, burst: float, now: float) -> int:
    """Drop buckets that have refilled completely (a missing bucket is a full one), some
    hundreds at a time; rows in use by a take are skipped on PostgreSQL, not waited for."""
    if rate <= 0:
        return 0
    full_since = now - 2 * burst / rate  # from one burst of debt back to a full bucket
    table = table_of(RateBucket)
    stale = (select(table.c.key).where(table.c.at < full_since)
             .limit(500).with_for_update(skip_locked=True))
    with engine.begin() as conn:
        return conn.execute(delete(table).where(
            table.c.key.in_(stale.scalar_subquery()))).rowcount
