"""Certificate status as the public sees it: the stored status plus the calendar."""

from __future__ import annotations

from datetime import date

STATUS_LABELS = {
    "valid": ("有效", "valid"),
    "suspended": ("暂停", "suspended"),
    "revoked": ("撤销", "revoked"),
    "cancelled": ("注销", "cancelled"),
    "expired": ("过期", "expired"),
    "superseded": ("已换发", "superseded"),
}


def effective_status(stored: str, expiry: date, today: date | None = None) -> str:
    """A valid or suspended certificate past its expiry date is expired."""
    today = today or date.today()
    if stored in ("valid", "suspended") and today > expiry:
        return "expired"
    return stored
