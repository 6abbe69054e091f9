"""Database tables. Names are the records officer's words: organisation, certificate,
record (one archived file), event (the hash-chained log), counters and void numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(index=True, unique=True, max_length=18)
    name: str
    registered_address: str
    created: datetime = Field(default_factory=utcnow)


class Certificate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(index=True, unique=True)
    main_number: str | None = Field(default=None, index=True)
    """For a sub-certificate, its main certificate's number; None for a main certificate."""
    profile: str = Field(index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    sub: int | None = None
    cycle: int = 0
    holder_name: str
    scope: str
    site_address: str | None = None
    sites_json: str = "[]"
    grade: str | None = None
    decision_date: date
    issue_date: date
    effective_from: date
    expiry_date: date
    reissue_date: date | None = None
    status: str = Field(default="valid", index=True)
    """valid | suspended | revoked | cancelled | superseded (expired is derived from dates)."""
    status_reason: str | None = None
    status_changed: datetime = Field(default_factory=utcnow)
    pdf_sha256: str | None = Field(default=None, index=True)
    created: datetime = Field(default_factory=utcnow)


class Record(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(index=True, unique=True, max_length=64)
    size: int
    record_type: str = Field(index=True)
    filename: str
    media_type: str = "application/pdf"
    profile: str | None = Field(default=None, index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    certificate_number: str | None = Field(default=None, index=True)
    signer: str | None = None
    created: datetime = Field(default_factory=utcnow)


class Event(SQLModel, table=True):
    """One entry of the append-only log; ``hash`` covers the entry and ``prev_hash``."""

    seq: int = Field(primary_key=True)
    at: datetime
    kind: str = Field(index=True)
    subject: str = Field(index=True)
    actor: str
    data: str
    prev_hash: str
    hash: str


class LogHead(SQLModel, table=True):
    """A single row holding the log's tip; updating it serialises appends (row lock)."""

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = "0" * 64


class NumberCounter(SQLModel, table=True):
    """Last sequence drawn per body, scheme and year; incremented in one UPDATE … RETURNING."""

    body_code: str = Field(primary_key=True)
    scheme: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    last_value: int = 0


class VoidNumber(SQLModel, table=True):
    """A number drawn or issued that must never be used again (revoked, or a failed issue)."""

    number: str = Field(primary_key=True)
    reason: str
    at: datetime = Field(default_factory=utcnow)
