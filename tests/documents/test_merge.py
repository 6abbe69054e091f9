"""Merged conversion: which pages belong to which certificate, and which templates may be
merged at all. (The real LibreOffice path is in tests/services/test_issue_batch.py.)"""

from __future__ import annotations

import io

import pytest
from docx import Document

from certdesk.documents.merge import (
    NotMergeable,
    Part,
    SplitMismatch,
    convert_many,
    merge_docx,
    page_ranges,
)

A, B, C = "027326FWF0001R000", "027326FWF0002R000", "027326FWF0003R000"


def test_each_certificate_gets_the_pages_from_its_number_to_the_next_one():
    texts = [f"证书编号：{A}", "附页", f"证书编号：{B}", f"证书编号：{C}"]
    assert page_ranges(texts, [A, B, C]) == [range(0, 2), range(2, 3), range(3, 4)]


def test_a_sub_certificate_number_does_not_count_as_its_main_number():
    texts = [f"证书编号：{A}-1\n主证书编号：{A}", f"{A}-2"]
    with pytest.raises(SplitMismatch):
        page_ranges(texts, [A, f"{A}-1", f"{A}-2"])  # the main's own page is missing
    assert page_ranges(texts, [f"{A}-1", f"{A}-2"]) == [range(0, 1), range(1, 2)]


def test_a_certificate_missing_from_the_pdf_is_a_mismatch():
    with pytest.raises(SplitMismatch, match=B):
        page_ranges([f"证书编号：{A}", f"证书编号：{C}"], [A, B, C])


def test_certificates_out_of_order_are_a_mismatch():
    with pytest.raises(SplitMismatch):
        page_ranges([f"证书编号：{B}", f"证书编号：{A}"], [A, B])


def test_a_blank_page_is_a_mismatch_not_a_page_of_the_certificate_before_it():
    with pytest.raises(SplitMismatch, match="blank"):
        page_ranges([f"证书编号：{A}", "  \n", f"证书编号：{B}"], [A, B])


def test_a_page_naming_a_later_certificate_is_a_mismatch():
    with pytest.raises(SplitMismatch, match="later"):
        page_ranges([f"{A}", f"{A} {C}", f"{B}", f"{C}"], [A, B, C])


def _docx(build) -> bytes:
    doc = Document()
    build(doc)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_plain_documents_merge_into_one_section_per_document():
    docs = [_docx(lambda d, n=n: d.add_paragraph(n)) for n in (A, B, C)]
    merged = Document(io.BytesIO(merge_docx(docs)))
    assert [p.text for p in merged.paragraphs] == [A, B, C]
    assert len(merged.sections) == 3


@pytest.mark.parametrize(("what", "build"), [
    ("a footer", lambda d: d.sections[0].footer.add_paragraph("第 1 页")),
    ("list numbering", lambda d: d.add_paragraph("一", style="List Number")),
])
def test_a_template_whose_content_runs_on_across_documents_is_not_merged(what, build):
    docs = [_docx(build), _docx(build)]
    with pytest.raises(NotMergeable):
        merge_docx(docs)


class _Pool:
    """Converts a document to its own name (no LibreOffice): shows which path was taken."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def convert_bytes(self, docx: bytes, name: str = "document", documents: int = 1) -> bytes:
        self.names.append(name)
        return name.encode()


def test_documents_that_cannot_be_merged_are_converted_one_by_one_in_order():
    footer = _docx(lambda d: d.sections[0].footer.add_paragraph("页脚"))
    pool = _Pool()
    assert convert_many(pool, [Part(A, footer), Part(B, footer)]) == [A.encode(), B.encode()]
    assert pool.names == [A, B]
