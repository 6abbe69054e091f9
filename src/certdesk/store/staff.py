"""Tables of the staff desk: accounts, server-side sessions, failed sign-ins and the CLI's
OS-user mapping. Under Alembic like the archive's (``store/migrations``, revision 0008)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from certdesk.store.models import utcnow


class StaffUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=32)
    role: str = Field(max_length=32)
    password_hash: str
    """argon2id, in the PHC string format (parameters and salt included)."""
    active: bool = True
    created: datetime = Field(default_factory=utcnow)
    last_login: datetime | None = None
    language: str | None = Field(default=None, max_length=8)
    """``zh`` or ``en``: the desk's language for this account; None follows the browser."""


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


class StaffLoginCounter(SQLModel, table=True):
    """Failed sign-ins in the current window of one account (``name:<n>``) or one address
    (``address:<a>``). A guess takes its slot here *before* its password is checked, in one
    statement, so however many guesses arrive at once at most the limit are ever checked.
    Kept in the database (not in memory) so that several web processes share the count."""

    key: str = Field(primary_key=True, max_length=80)
    window_start: datetime = Field(default_factory=utcnow, index=True)
    failures: int = 0


class StaffOsUser(SQLModel, table=True):
    """An operating-system user the CLI may act for as a staff account (set by an admin)."""

    os_user: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="staffuser.id", index=True)


class StaffPasswordReset(SQLModel, table=True):
    """An account whose password an admin reset: until its holder chooses a new one, every
    page leads to the password form. A row of its own (not a column) so that desks made
    before it need no schema change."""

    user_id: int = Field(foreign_key="staffuser.id", primary_key=True)
    by: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow)

