"""Certificate status: the values stored in ``certificate.status`` and the two the calendar
adds (not yet valid, expired), and the status the public sees on a given day."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from certdesk.common.i18n import N_


class CertStatus(StrEnum):
    """A certificate's status; the value is the string stored, logged and shown in JSON."""

    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"
    NOT_YET_VALID = "not_yet_valid"
    """Derived from the dates, never stored: valid before its issue date."""
    EXPIRED = "expired"
    """Derived from the dates, never stored: valid or suspended past its expiry date."""


STORED = (CertStatus.VALID, CertStatus.SUSPENDED, CertStatus.REVOKED, CertStatus.CANCELLED,
          CertStatus.SUPERSEDED)
"""The statuses ``certificate.status`` may hold (a CHECK constraint keeps it to these)."""
HOLDING = (CertStatus.VALID, CertStatus.SUSPENDED)
"""Stored statuses of a certificate still held (it may yet expire by the calendar)."""
ENDED = (CertStatus.REVOKED, CertStatus.CANCELLED, CertStatus.SUPERSEDED)
"""Stored statuses no change leaves."""

STATUS_LABELS: dict[str, tuple[str, str]] = {  # keyed by CertStatus; looked up by str too
    CertStatus.VALID: (N_("有效"), "valid"),
    CertStatus.NOT_YET_VALID: (N_("尚未生效"), "not yet valid"),
    CertStatus.SUSPENDED: (N_("暂停"), "suspended"),
    CertStatus.REVOKED: (N_("撤销"), "revoked"),
    CertStatus.CANCELLED: (N_("注销"), "cancelled"),
    CertStatus.EXPIRED: (N_("过期"), "expired"),
    CertStatus.SUPERSEDED: (N_("已换发"), "superseded"),
}


def effective_status(stored: str, expiry: date, today: date | None = None, *,
                     issued: date) -> CertStatus:
    """The stored status seen on ``today``: a valid certificate before its issue date is
    not yet valid; a valid or suspended one past its expiry date is expired.

    ``issued`` is keyword-only and required so that no caller can forget the issue date.
    """
    today = today or date.today()
    if stored in HOLDING and today > expiry:
        return CertStatus.EXPIRED
    if stored == CertStatus.VALID and today < issued:
        return CertStatus.NOT_YET_VALID
    return CertStatus(stored)
