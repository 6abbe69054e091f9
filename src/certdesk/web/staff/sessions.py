"""Server-side sessions of the staff desk, each carrying its CSRF synchronizer token.

The browser holds only a random token (HttpOnly cookie); the row keyed by its sha256 holds
the account, the CSRF token, the expiry and a one-shot message. Signing in replaces the
pre-login session by a new one (no session fixation); disabling an account or signing out
deletes the row, which ends the session at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from certdesk.common.settings import Settings
from certdesk.store import events
from certdesk.store.db import session_scope
from certdesk.store.models import utcnow
from certdesk.store.staff import StaffSession, StaffUser
from certdesk.web.staff.accounts import subject

COOKIE = "certdesk_staff"
# last_seen is rewritten at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Visit:
    """The session of the request being served: signed in, or the sign-in form's."""

    token_hash: str
    csrf_token: str
    user: StaffUser | None
    flash: dict | None


@dataclass(frozen=True)
class Current(Visit):
    """A signed-in session: what the pages' dependencies (``Desk.requires``) hand over."""

    user: StaffUser


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_ok(current: Visit, submitted: object) -> bool:
    return isinstance(submitted, str) and hmac.compare_digest(submitted, current.csrf_token)


def _new_row(settings: Settings, user: StaffUser | None) -> tuple[str, StaffSession]:
    token = new_token()
    # A pre-login session only has to outlive filling in the sign-in form.
    lifetime = (timedelta(hours=settings.staff_session_hours) if user
                else timedelta(minutes=settings.staff_idle_minutes))
    row = StaffSession(token_hash=token_hash(token), user_id=user.id if user else None,
                       csrf_token=secrets.token_urlsafe(32),
                       expires=utcnow() + lifetime)
    return token, row


def new_token() -> str:
    return secrets.token_urlsafe(32)


def prelogin(token: str) -> Visit:
    """The sign-in form's session, kept in the browser only: its CSRF token is derived from
    the cookie (double submit: another site can neither read nor set it), so an anonymous
    visitor costs no database row until a sign-in succeeds."""
    digest = hashlib.sha256(f"certdesk-login-csrf:{token}".encode()).hexdigest()
    return Visit(token_hash(token), digest, None, None)


def sign_in(engine: Engine, settings: Settings, user: StaffUser, address: str,
            previous: str | None) -> str:
    """A fresh session for ``user`` in place of the pre-login one; logged."""
    token, row = _new_row(settings, user)
    with session_scope(engine) as s:
        s.execute(delete(StaffSession).where(col(StaffSession.expires) <= utcnow()))
        if previous:
            s.execute(delete(StaffSession).where(col(StaffSession.token_hash) == previous))
        s.add(row)
        events.append(s, "staff.login", subject(user.name), {"address": address}, user.name)
    return token


def sign_out(engine: Engine, current: Visit) -> None:
    with session_scope(engine) as s:
        s.execute(delete(StaffSession).where(col(StaffSession.token_hash) == current.token_hash))
        if current.user is not None:
            events.append(s, "staff.logout", subject(current.user.name), {},
                          current.user.name)


def load(engine: Engine, settings: Settings, token: str | None) -> Visit | None:
    """The live session for the cookie ``token``, or None (missing, expired, idle too long,
    or its account disabled — such a row is deleted)."""
    if not token:
        return None
    now = utcnow()
    with session_scope(engine) as s:
        row = s.get(StaffSession, token_hash(token))
        if row is None:
            return None
        user = s.get(StaffUser, row.user_id) if row.user_id is not None else None
        idle = now - row.last_seen > timedelta(minutes=settings.staff_idle_minutes)
        if row.expires <= now or idle or (row.user_id is not None and
                                          (user is None or not user.active)):
            s.delete(row)
            return None
        if now - row.last_seen > TOUCH_EVERY:
            row.last_seen = now
            s.add(row)
        return Visit(row.token_hash, row.csrf_token, user,
                       json.loads(row.flash) if row.flash else None)


def set_flash(engine: Engine, current: Visit, level: str, text: str,
              numbers: list[str] | None = None, details: list[str] | None = None) -> None:
    """Leave a message for the next page: ``level`` ok | error, certificate numbers to link."""
    message = {"level": level, "text": text, "numbers": numbers or [], "details": details or []}
    _update(engine, current, flash=json.dumps(message, ensure_ascii=False))


def clear_flash(engine: Engine, current: Visit) -> None:
    _update(engine, current, flash=None)


def new_form_token(engine: Engine, current: Visit) -> str:
    value = secrets.token_urlsafe(16)
    _update(engine, current, form_token=value)
    return value


def use_form_token(engine: Engine, current: Visit, submitted: object) -> bool:
    """True once for the token last handed out; the compare-and-clear is one UPDATE, so two
    racing submissions cannot both succeed."""
    if not isinstance(submitted, str) or not submitted:
        return False
    with session_scope(engine) as s:
        result = s.exec(update(StaffSession)
                        .where(col(StaffSession.token_hash) == current.token_hash,
                               col(StaffSession.form_token) == submitted)
                        .values(form_token=None))
        return result.rowcount == 1


def _update(engine: Engine, current: Visit, **values) -> None:
    with session_scope(engine) as s:
        s.execute(update(StaffSession).where(col(StaffSession.token_hash) == current.token_hash)
                  .values(**values))
