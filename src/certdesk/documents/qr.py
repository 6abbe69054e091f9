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


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


def phone_cannot_open(public_url: str) -> bool:
    """True when QR codes on ``public_url`` point at the issuing computer itself (the
    default ``http://127.0.0.1:8000``): printed, no phone can ever open them."""
    from urllib.parse import urlsplit

    host = urlsplit(public_url).hostname or ""
    return host in LOCAL_HOSTS or host.startswith("127.")


def qr_png(content: str, scale: int = 8) -> tuple[bytes, int]:
    """PNG bytes and the QR version for ``content``."""
    code = segno.make(content, error=ERROR_LEVEL, micro=False, boost_error=False)
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=scale, border=4)
    assert isinstance(code.version, int), "not micro: a QR version is a number"
    return buf.getvalue(), code.version
