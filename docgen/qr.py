"""QR codes for certificates: the verification URL, error correction M, PNG for Word."""

from __future__ import annotations

import io

import segno

ERROR_LEVEL = "m"
"""Level M (15 %) keeps a URL-with-token code small enough to scan printed at 2 cm."""

QR_WIDTH_MM = 26
"""Printed width on certificates and annexes: scans from a phone at arm's length."""


def verify_url(public_url: str, number: str) -> str:
    """The public verification page of a certificate number."""
    return f"{public_url.rstrip('/')}/v/{number}"


def qr_png(content: str, scale: int = 8) -> tuple[bytes, int]:
    """PNG bytes and the QR version for ``content``."""
    code = segno.make(content, error=ERROR_LEVEL, micro=False, boost_error=False)
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue(), code.version
