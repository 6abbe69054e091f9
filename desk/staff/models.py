"""Tables of the staff desk: accounts, server-side sessions and failed sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from archive.models import utcnow


class StaffUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=32)
    role: str = Field(max_length=32)
    password_hash: str
    """argon2id, in the PHC string format (parameters and salt included)."""
    active: bool = True
    created: datetime = Field(default_factory=utcnow)
    last_login: datetime | None = None


class StaffSession(SQLModel, table=True):
    """One browser's session. The cookie holds a random token; only its sha256 is stored, so
    a copy of the database does not hand out live sessions. A session without a user is the
    short pre-login one that carries the sign-in form's CSRF token."""

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int | None = Field(default=None, foreign_key="staffuser.id", index=True)
    csrf_token: str
    created: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    expires: datetime = Field(index=True)
    flash: str | None = None
    """A message (JSON) for the next page shown, after a form posts and redirects."""
    form_token: str | None = None
    """One-time token of the open issuing form: a second submission of the same form (a
    double click, a reload) must not draw a second set of certificate numbers."""


class StaffLoginFailure(SQLModel, table=True):
    """A failed sign-in, counted per account and per address to rate-limit guessing. Kept in
    the database (not in memory) so that several web processes share the count."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=64)
    address: str = Field(index=True, max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True)


class StaffPasswordReset(SQLModel, table=True):
    """An account whose password an admin reset: until its holder chooses a new one, every
    page leads to the password form. A row of its own (not a column) so that desks made
    before it need no schema change."""

    user_id: int = Field(foreign_key="staffuser.id", primary_key=True)
    by: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow)


STAFF_TABLES = [StaffUser.__table__, StaffSession.__table__, StaffLoginFailure.__table__,
                StaffPasswordReset.__table__]
