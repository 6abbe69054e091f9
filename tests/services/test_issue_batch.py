"""Batches convert their certificates in one LibreOffice load and split the PDF: every file
must still be a PDF/A certificate of its own — its number, its QR code, its fonts, its
signature — and a merged conversion that goes wrong must not lose or mix up any of them."""

from __future__ import annotations

import io
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pikepdf
import pytest
from sqlmodel import Session, select

from certdesk.common.errors import ConversionError
from certdesk.domain.uscc import check_character
from certdesk.services.inputs import OrganisationInput, SiteInput
from certdesk.services.issuing import Issuer
from certdesk.store.models import Certificate, VoidNumber
from tests.documents.support import pdffonts, pdftotext
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED

pytestmark = pytest.mark.office


def _org(i: int) -> OrganisationInput:
    body = f"91110105MA{i:07d}"
    return replace(TWO_SITES, name=f"批量合并测试第{i}号有限公司",
                   uscc=body + check_character(body), sites=(SiteInput("北京市朝阳区一号",
                                                                      "家用电器的维修"),))


ORGS = [_org(1), TWO_SITES, _org(2), _org(3)]
"""Three single-site organisations and one with two sites: 6 certificates."""


class Counting:
    """The session pool, counting conversions; ``refuse`` names documents it fails."""

    def __init__(self, pool, refuse=lambda name, docx: False, mangle=None) -> None:
        self.pool, self.refuse, self.mangle = pool, refuse, mangle
        self.size = pool.size
        self.names: list[str] = []

    def convert_bytes(self, docx: bytes, name: str = "document", documents: int = 1) -> bytes:
        self.names.append(name)
        if self.refuse(name, docx):
            raise ConversionError(f"LibreOffice refused {name} (test)")
        pdf = self.pool.convert_bytes(docx, name, documents)
        return self.mangle(pdf) if self.mangle and "+" in name else pdf

    def prestart(self) -> None:
        self.pool.prestart()


@pytest.fixture
def issue(home, settings, pool):
    def run(orgs, **kw):
        counting = Counting(pool, **kw)
        with Issuer(SHIPPED.get("xbht"), pool=counting) as iss:  # type: ignore[arg-type]
            return iss, iss.issue_batch(list(orgs)), counting

    return run


def _checked(cert, others: list[str]) -> None:
    """The independent tools' view of one issued file."""
    pdf = Path(cert.pdf)
    sig = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    assert "Signature is Valid" in sig and "Total document signed" in sig, sig
    fonts = pdffonts(pdf)
    assert fonts and all(f["emb"] == "yes" for f in fonts) and any("CJK" in f["name"]
                                                                   for f in fonts)
    with pikepdf.open(pdf) as doc:
        meta = doc.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("2", "B")
        assert doc.Root.OutputIntents[0].S == "/GTS_PDFA1"
        assert len(doc.pages) == 1
    text = "".join(pdftotext(pdf).split())
    assert cert.number in text
    assert not any(other in text.replace(f"{other}-", "") for other in others
                   if other != cert.number and other != cert.main_number)
    png = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(png)],
                   check=True)
    scan = subprocess.run(["zbarimg", "-q", "--raw", f"{png}.png"], capture_output=True,
                          text=True)
    assert scan.stdout.strip() == cert.verify_url


def _issued(outcomes) -> list:
    return [c for o in outcomes if isinstance(o, list) for c in o]


def test_a_batch_converts_once_and_every_file_passes_the_pdf_a_font_qr_and_signature_checks(
        issue):
    _iss, outcomes, pool = issue(ORGS)
    certs = _issued(outcomes)
    assert len(certs) == 6 and all(isinstance(o, list) for o in outcomes)
    assert len(pool.names) == 1 and "+5" in pool.names[0]  # one merged conversion
    numbers = [c.number for c in certs]
    for cert in certs:
        _checked(cert, numbers)


def test_a_split_that_does_not_match_falls_back_to_one_conversion_per_certificate(issue):
    def reversed_pages(pdf: bytes) -> bytes:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            doc.pages.reverse()
            out = io.BytesIO()
            doc.save(out)
            return out.getvalue()

    _iss, outcomes, pool = issue(ORGS, mangle=reversed_pages)
    certs = _issued(outcomes)
    assert len(certs) == 6
    assert len(pool.names) == 1 + 6  # the merged one, then each on its own
    numbers = [c.number for c in certs]
    for cert in certs:
        _checked(cert, numbers)


def test_one_certificate_failing_in_a_batch_voids_its_number_and_the_others_are_issued(
        issue):
    victim = ORGS[2].name

    def refuse(name: str, docx: bytes) -> bool:  # the merged document, and org 3's own
        with zipfile.ZipFile(io.BytesIO(docx)) as z:
            return "+" in name or victim in z.read("word/document.xml").decode()

    iss, outcomes, pool = issue(ORGS, refuse=refuse)
    assert [type(o).__name__ for o in outcomes] == ["list", "list", "ConversionError", "list"]
    certs = _issued(outcomes)
    assert len(certs) == 5
    with Session(iss.engine) as s:
        void = s.exec(select(VoidNumber)).all()
        assert len(s.exec(select(Certificate)).all()) == 5
    assert len(void) == 1 and "refused" in void[0].reason
    numbers = [c.number for c in certs]
    assert void[0].number not in numbers
    for cert in certs:
        _checked(cert, numbers)


def test_the_dry_run_renders_each_context_shape_once_not_every_organisation(issue,
                                                                           monkeypatch):
    import certdesk.services.issuing as issuing

    rendered: list[str] = []
    real = issuing.render_docx

    def counting(template, context):
        rendered.append(context["cert"]["number"])
        return real(template, context)

    monkeypatch.setattr(issuing, "render_docx", counting)
    _iss, outcomes, _pool = issue(ORGS)
    assert len(_issued(outcomes)) == 6
    dry = [n for n in rendered if n.startswith("000")]  # the placeholder number
    # a single-site main certificate, a two-site main and its sub (the template's
    # `if cert.is_sub` takes the other branch): three shapes
    assert len(dry) == 3 and len(rendered) == 6 + 3
