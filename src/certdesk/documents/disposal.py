"""The disposal certificate as a Word file: what was disposed of, why, and by whom.

Built in code, not from a body's template: one certificate may list the records of several
bodies, and its table is as long as the proposal. ``services.disposal`` converts and signs
it through the Publisher.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

HEADERS = ("ID", "类型 Type", "文件 File", "客户 Client", "证书 Certificate", "SHA-256",
           "保存期 Retention")
WIDTHS_MM = (12, 28, 40, 38, 38, 50, 67)


@dataclass(frozen=True)
class DisposalSheet:
    disposal_id: int
    bodies: Sequence[str]
    lines: Sequence[dict]
    """One per record: id, type, filename, client, certificate, sha256, why."""
    proposed_by: str
    approved_by: str
    reason: str
    on: date


def disposal_docx(sheet: DisposalSheet) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(12))
    doc.styles["Normal"].font.size = Pt(9)
    for style in ("Normal", "Heading 1"):  # Chinese glyphs from the SC face, not JP
        fonts = doc.styles[style].element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), "Noto Serif CJK SC")
    doc.add_heading(f"记录销毁证明 Records disposal certificate No. {sheet.disposal_id}",
                    level=1)
    doc.add_paragraph("、".join(sheet.bodies))
    doc.add_paragraph(f"销毁日期 Date: {sheet.on:%Y-%m-%d}    理由 Reason: {sheet.reason}")
    doc.add_paragraph(f"提议人 Proposed by: {sheet.proposed_by}    "
                      f"批准人 Approved by: {sheet.approved_by}")
    table = doc.add_table(rows=1, cols=len(HEADERS))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, HEADERS, strict=True):
        cell.text = text
    for line in sheet.lines:
        cells = table.add_row().cells
        values = (str(line["id"]), line["type"], line["filename"], line["client"],
                  line["certificate"], line["sha256"], line["why"])
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    table.autofit = False
    for column, width in zip(table.columns, WIDTHS_MM, strict=True):
        column.width = Mm(width)  # LibreOffice lays out by the grid, Word by the cells
        for cell in column.cells:
            cell.width = Mm(width)
    doc.add_paragraph("以上记录的保存期已满，未处于法律保全（legal hold）之下，经两名记录管理人员"
                      "提议和批准后销毁；其摘要（SHA-256）与本证明一并永久保存。")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
