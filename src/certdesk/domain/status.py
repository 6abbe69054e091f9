"""Certificate status as the public sees it: the stored status plus the calendar."""

from __future__ import annotations

from datetime import date

STATUS_LABELS = {
    "valid": ("有效", "valid"),
    "not_yet_valid": ("尚未生效", "not yet valid"),
    "suspended": ("暂停", "suspended"),
    "revoked": ("撤销", "revoked"),
    "cancelled": ("注销", "cancelled"),
    "expired": ("过期", "expired"),
    "superseded": ("已换发", "superseded"),
}


def effective_status(stored: str, expiry: date, today: date | None = None, *,
                     issued: date) -> str:
    """The stored status seen on ``today``: a valid certificate before its issue date is
    not yet valid; a valid or suspended one past its expiry date is expired.

    ``issued`` is keyword-only and required so that no caller can forget the issue date.
    """
    today = today or date.today()
    if stored in ("valid", "suspended") and today > expiry:
        return "expired"
    if stored == "valid" and today < issued:
        return "not_yet_valid"
    return stored
