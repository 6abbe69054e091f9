"""The fake converter the fast tier runs on keeps the promises those tests rely on: the
document's text, in order, in a PDF that signs and verifies; refusals name the document."""

from __future__ import annotations

import io

import docx
import pytest
from pypdf import PdfReader

from certdesk.common.errors import ConversionError
from certdesk.documents.converter import Converter
from certdesk.signing.keys import ca_certificate, ensure_keys
from certdesk.signing.pdf import SignatureSpec, load_signer, sign_pdf, validate
from tests.documents.fakes import FakeConverter


def _docx(*paragraphs: str, table: tuple[str, ...] = ()) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        cells = document.add_table(rows=1, cols=len(table)).rows[0].cells
        for cell, text in zip(cells, table, strict=True):
            cell.text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_the_pdf_holds_the_documents_text_in_order_tables_included():
    fake: Converter = FakeConverter()
    pdf = fake.convert_bytes(_docx("认证证书", "证书编号：027326FWF0001R000",
                                   table=("北京市朝阳区", "家用电器的维修")), "cert")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert text.strip().split("\n") == ["认证证书", "证书编号：027326FWF0001R000", "北京市朝阳区",
                                "家用电器的维修"]


def test_a_long_document_runs_over_several_pages():
    pdf = FakeConverter().convert_bytes(_docx(*(f"line {i}" for i in range(130))))
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 3


def test_its_pdf_is_signed_and_validates_as_the_real_ones_do(keyed_home, settings):
    pdf = FakeConverter().convert_bytes(_docx("通知书"), "notice")
    signed = sign_pdf(pdf, load_signer(ensure_keys(settings), settings.key_passphrase),
                      SignatureSpec(reason="test"))
    assert validate(signed, [ca_certificate(settings)]).ok


def test_a_broken_package_or_a_closed_converter_is_refused_naming_the_document():
    fake = FakeConverter()
    with pytest.raises(ConversionError, match="broken-record"):
        fake.convert_bytes(b"PK\x03\x04 not really a zip", "broken-record")
    fake.close()
    with pytest.raises(ConversionError, match="closed"):
        fake.convert_bytes(_docx("x"), "late")
