"""QR codes for certificates: the verification URL, error correction M, PNG for Word."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import segno

ERROR_LEVEL = "m"
"""Level M (15 %) keeps a URL-with-token code small enough to scan printed at 2 cm."""

QR_WIDTH_MM = 26
"""Printed width on certificates and annexes: scans from a phone at arm's length."""

MASK = 6
"""The data mask, fixed: segno otherwise tries all eight and scores each (80 % of making a
code, ~14 ms per certificate). The mask only breaks up patterns a scanner could mistake for
finder marks; with a random token in every URL the eight score alike, and 6 is the one
segno picked most often for certdesk's URLs."""


def verify_url(public_url: str, number: str) -> str:
    """The public verification page of a certificate number."""
    return f"{public_url.rstrip('/')}/v/{number}"


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


def phone_cannot_open(public_url: str) -> bool:
    """True when QR codes on ``public_url`` point at the issuing computer itself (the
    default ``http://127.0.0.1:8000``): printed, no phone can ever open them."""
    host = urlsplit(public_url).hostname or ""
    return host in LOCAL_HOSTS or host.startswith("127.")


PRINT_DPI = 300
"""LibreOffice's PDF export resamples pictures finer than 300 dpi: a QR code's module edges
blur, and the resampling was half of LibreOffice's time per merged certificate."""

BORDER = 4


def qr_png(content: str, scale: int | None = None) -> tuple[bytes, int]:
    """PNG bytes and the QR version for ``content``. By default as many whole pixels per
    module as fit ``QR_WIDTH_MM`` at ``PRINT_DPI``: embedded as drawn, sharp edges."""
    code = segno.make(content, error=ERROR_LEVEL, micro=False, boost_error=False, mask=MASK)
    if scale is None:
        modules = int(code.symbol_size(scale=1, border=BORDER)[0])  # at scale 1: whole modules
        scale = max(1, int(QR_WIDTH_MM / 25.4 * PRINT_DPI) // modules)
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=scale, border=BORDER)
    assert isinstance(code.version, int), "not micro: a QR version is a number"
    return buf.getvalue(), code.version
