"""Database tables. Names are the records officer's words: organisation, certificate,
record (one archived file), event (the hash-chained log), counters and void numbers, and
for retention: holds, closed applications and disposals (a disposed record's row stays as
its tombstone).

Current state lives in typed columns (status, suspension period, successor, next
surveillance due, the surveillances held); the log is its audit trail, and
``store.state`` checks that the two agree.

A change here needs an Alembic migration in ``store/migrations/versions`` (see
docs/records.md); a test checks that migrations and these classes agree."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Dialect, Enum, Index, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

from certdesk.domain.status import STORED, CertStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(index=True, unique=True, max_length=18)
    name: str
    registered_address: str
    created: datetime = Field(default_factory=utcnow)


class StatusType(TypeDecorator[CertStatus]):
    """``certificate.status``: a VARCHAR with a CHECK constraint (``ck_certificate_status``)
    on SQLite and PostgreSQL alike — no PostgreSQL enum type for migrations to alter — read
    back as ``CertStatus``."""

    impl = Enum(*(s.value for s in STORED), name="ck_certificate_status", native_enum=False,
                create_constraint=True, length=16)
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Dialect) -> CertStatus | None:
        return None if value is None else CertStatus(value)


class Certificate(SQLModel, table=True):
    # The register (archive/register.py): (sort column, id) for keyset pages; status and
    # dates together answer the status filters from the index alone.
    __table_args__ = (Index("ix_certificate_issue_date_id", "issue_date", "id"),
                      Index("ix_certificate_expiry_date_id", "expiry_date", "id"),
                      Index("ix_certificate_holder_name_id", "holder_name", "id"),
                      Index("ix_certificate_status_dates", "status", "expiry_date",
                            "issue_date"),
                      Index("ix_certificate_profile_grade", "profile", "grade", "issue_date"))

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
    products_json: str = "[]"
    """A main certificate's products and services as listed at certification, tracked
    across the surveillances [CACQ 7.5.5, DNI 5.6.1, ZPIC 5.4]; [] when none were listed."""
    grade: str | None = None
    decision_date: date
    issue_date: date
    effective_from: date
    expiry_date: date
    reissue_date: date | None = None
    status: CertStatus = Field(default=CertStatus.VALID, index=True, sa_type=StatusType)
    """valid | suspended | revoked | cancelled | superseded (expired is derived from dates)."""
    status_reason: str | None = None
    suspended_on: date | None = None
    """First day of the current (or last) suspension; a restoration cannot precede it."""
    suspended_until: date | None = None
    """Last day of the current suspension: restoring after it is refused, the sweep revokes
    [CACQ 9.1.3, DNI 6.8.2, ZPIC 7.3.1 7), XBHT 8.3(3)]. Cleared when restored."""
    superseded_by: str | None = None
    """The number of the main certificate that re-certification issued in its place (for a
    sub-certificate too: its successor is the same site's sub of that main)."""
    next_surveillance_due: date | None = None
    """Latest date of the next surveillance audit of a main certificate's cycle; None for a
    sub-certificate and once the cycle's surveillances are all held. The sweep reads it."""
    status_changed: datetime = Field(default_factory=utcnow)
    pdf_sha256: str | None = Field(default=None, index=True)
    created: datetime = Field(default_factory=utcnow)


REPORT_PENDING, REPORT_ARCHIVED = "pending", "archived"
"""``surveillance.report``: recorded without its report, or with it (or after it)."""


class Surveillance(SQLModel, table=True):
    """One surveillance audit of a main certificate, written in the transaction of its
    ``certificate.surveillance`` log entry (``report`` also by its
    ``certificate.surveillance_report`` entry, when the report came later)."""

    certificate_number: str = Field(primary_key=True)
    number: int = Field(primary_key=True)
    """1 for the cycle's first surveillance, 2 for the second, …"""
    held_on: date
    sites_json: str = "[]"
    """The sites visited, numbered as on the certificate (for the cycle's coverage)."""
    products_json: str = "[]"
    """The products and services it covered, by name (for the cycle's coverage)."""
    report: str = Field(default=REPORT_PENDING, sa_type=Enum(
        REPORT_PENDING, REPORT_ARCHIVED, name="ck_surveillance_report", native_enum=False,
        create_constraint=True, length=16))
    """Whether its report is archived: a pending one is owed (the due list's follow-up)."""
    event_seq: int = Field(foreign_key="event.seq", index=True)


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
    client_uscc: str | None = Field(default=None, index=True, max_length=18)
    """The client's credit code when no organisation row exists yet (an application)."""
    disposed_at: datetime | None = None
    """Set when the blob was erased under an approved disposal; the row is the tombstone."""
    disposal_id: int | None = Field(default=None, foreign_key="disposal.id", index=True)


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


class Hold(SQLModel, table=True):
    """A legal hold on a client's or a certificate's records: while active, no disposal."""

    id: int | None = Field(default=None, primary_key=True)
    client_uscc: str | None = Field(default=None, index=True, max_length=18)
    certificate_number: str | None = Field(default=None, index=True)
    reason: str
    placed_by: str
    placed_at: datetime = Field(default_factory=utcnow)
    released_by: str | None = None
    released_at: datetime | None = None
    release_reason: str | None = None


class ApplicationClosure(SQLModel, table=True):
    """An application refused or withdrawn: its records are kept confidentially for the
    profile's own period from this date [XBHT 7.2.4, DNI 5.2.1]."""

    id: int | None = Field(default=None, primary_key=True)
    client_uscc: str = Field(index=True, max_length=18)
    outcome: str
    """refused | withdrawn"""
    closed_on: date
    reason: str
    closed_by: str
    created: datetime = Field(default_factory=utcnow)


class Disposal(SQLModel, table=True):
    """A disposal proposal; approved by a second officer it erases its records' blobs."""

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="proposed", index=True)
    """proposed | approved | rejected"""
    reason: str
    proposed_by: str
    proposed_at: datetime = Field(default_factory=utcnow)
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    certificate_sha256: str | None = None
    """The signed disposal certificate archived as a record of its own."""


class DisposalItem(SQLModel, table=True):
    """One record of a disposal with the retention reasoning that allowed it."""

    disposal_id: int = Field(foreign_key="disposal.id", primary_key=True)
    record_id: int = Field(foreign_key="record.id", primary_key=True)
    sha256: str = Field(max_length=64)
    record_type: str
    filename: str
    rule: str
    anchor_kind: str
    anchor: date
    period: str
    retain_until: date
    clause: str


class ReportItem(SQLModel, table=True):
    """One event the regulator (认监委) must be told of [CACQ 8.3, 9.1.3, 9.3; ZPIC 4.6.4,
    8.1.3], written in the event's own transaction; sent when its batch was uploaded."""

    __table_args__ = (UniqueConstraint("certificate_number", "event_kind", "event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    certificate_number: str = Field(index=True)
    main_number: str | None = None
    event_kind: str = Field(index=True)
    """issued | recertified | reissued | suspended | restored | revoked | cancelled | expired"""
    event_seq: int = Field(foreign_key="event.seq", index=True)
    event_date: date
    reason: str | None = None
    due_date: date = Field(index=True)
    created: datetime = Field(default_factory=utcnow)
    batch_id: int | None = Field(default=None, foreign_key="reportbatch.id", index=True)
    """The batch whose upload reported it (set when that batch is marked sent)."""
    sent_at: datetime | None = None
    sent_by: str | None = None
    status: str = Field(default="pending", index=True)
    """pending | sent"""


class ReportBatch(SQLModel, table=True):
    """One export of report items for upload; marked sent once uploaded."""

    id: int | None = Field(default=None, primary_key=True)
    created: datetime = Field(default_factory=utcnow)
    created_by: str
    items: int
    include_sent: bool = False
    sent_at: datetime | None = None
    sent_by: str | None = None


class ReportBatchItem(SQLModel, table=True):
    """Which items an export held (an unsent item is exported again until it is sent)."""

    batch_id: int = Field(foreign_key="reportbatch.id", primary_key=True)
    item_id: int = Field(foreign_key="reportitem.id", primary_key=True)


class CertificateReturn(SQLModel, table=True):
    """A revoked or cancelled certificate to be recovered from its holder [CACQ 9.3; ZPIC
    7.3.2]: opened with the change, closed when it came back or was declared void."""

    __table_args__ = (UniqueConstraint("certificate_number", "event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    certificate_number: str = Field(index=True)
    main_number: str | None = None
    event_kind: str
    """revoked | cancelled"""
    event_seq: int = Field(foreign_key="event.seq", index=True)
    opened_on: date
    status: str = Field(default="outstanding", index=True)
    """outstanding | returned | declared_void"""
    closed_on: date | None = None
    how: str | None = None
    recorded_by: str | None = None
    recorded_at: datetime | None = None
