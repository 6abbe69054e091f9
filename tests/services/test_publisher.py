"""The shared publishing path under concurrency: batch threads sign with one key."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pikepdf
import pytest

from certdesk.services.publisher import Publisher
from certdesk.signing.keys import ca_certificate
from certdesk.signing.pdf import SignatureSpec, validate


def _blank_pdf(i: int) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Title"] = f"doc {i}"
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


@pytest.mark.slow  # a stress test: 48 signatures made and validated, 8 threads at once
def test_eight_threads_signing_at_once_all_get_valid_signatures(settings, engine):
    """A 1,000-document batch once failed randomly inside pyHanko when threads shared the
    signer; every signature made concurrently must validate."""
    with Publisher(settings=settings, engine=engine) as pub:
        spec = SignatureSpec(reason="test")
        with ThreadPoolExecutor(8) as ex:
            signed = list(ex.map(lambda i: pub.sign(_blank_pdf(i), spec), range(48)))
    roots = [ca_certificate(settings)]
    assert all(validate(data, roots).ok for data in signed)
