"""Which certificate replaced a superseded one: refusals name it, so that a command given
yesterday's number says which number to use now."""

from __future__ import annotations

from certdesk.domain.status import CertStatus
from certdesk.store.models import Certificate

PREFIX = "re-certified as "
"""How ``services.issuing`` words a superseded certificate's status reason."""


def replaced_note(cert: Certificate) -> str:
    """``" (re-certified as N: use that number)"`` for a superseded certificate, else ""."""
    if cert.status != CertStatus.SUPERSEDED or not cert.superseded_by:
        return ""
    successor = cert.superseded_by
    if cert.main_number:  # a sub-certificate's successor is the same site's on the new main
        successor += cert.number.removeprefix(cert.main_number)
    return f" (re-certified as {successor}: use that number)"
