"""Authoring aid for the base Word templates (``python -m templates.authoring``).

Staff edit the resulting .docx files in Word; this module only writes the first versions
so that every template starts with the same house style: A4, 宋体/黑体 with zh-CN as the
East Asian language (so LibreOffice picks Simplified Chinese glyphs), and docxtpl tags
each kept whole in a single run (a tag split across runs does not render).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from templates import TEMPLATES_DIR

SONG, HEI, LATIN = "宋体", "黑体", "Times New Roman"


def new_document(border: bool = False) -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Mm(22))
    section.top_margin, section.bottom_margin = Mm(20), Mm(18)
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr, value in (("w:ascii", LATIN), ("w:hAnsi", LATIN), ("w:eastAsia", SONG),
                        ("w:cs", LATIN)):
        fonts.set(qn(attr), value)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(2)
    if border:
        _page_border(section)
    return doc


def _page_border(section) -> None:
    borders = OxmlElement("w:pgBorders")
    borders.set(qn("w:offsetFrom"), "page")
    for side in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{side}")
        for k, v in (("w:val", "double"), ("w:sz", "12"), ("w:space", "24"),
                     ("w:color", "1F4E79")):
            el.set(qn(k), v)
        borders.append(el)
    section._sectPr.append(borders)


def para(doc_or_cell, text: str = "", *, size: float = 11, bold: bool = False,
         font: str = SONG, align: str = "left", after: float = 2, color: str | None = None):
    p = doc_or_cell.add_paragraph()
    p.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
                   "right": WD_ALIGN_PARAGRAPH.RIGHT,
                   "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}[align]
    p.paragraph_format.space_after = Pt(after)
    if text:
        run(p, text, size=size, bold=bold, font=font, color=color)
    return p


def run(p, text: str, *, size: float = 11, bold: bool = False, font: str = SONG,
        color: str | None = None):
    r = p.add_run(text)
    r.font.size = Pt(size)
    r.font.bold = bold
    r.font.name = LATIN if font == SONG else font
    r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if color:
        from docx.shared import RGBColor

        r.font.color.rgb = RGBColor.from_string(color)
    return r


def table(doc, headers: list[str], widths_mm: list[float], *, loop: str | None = None,
          cells: list[str] | None = None, size: float = 10, grid: bool = True):
    """A table with a header row and, when ``loop`` is given, a docxtpl row loop.

    ``loop`` is the ``for`` clause (``"s in sites"``) and ``cells`` the tag text of each
    cell of the repeated row.
    """
    rows = 1 + (3 if loop else 0)
    t = doc.add_table(rows=rows, cols=len(headers))
    if grid:
        t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(t, widths_mm)
    for i, head in enumerate(headers):
        cell_text(t.rows[0].cells[i], head, size=size, bold=True, font=HEI, align="center")
    if loop:
        cell_text(t.rows[1].cells[0], f"{{%tr for {loop} %}}", size=size)
        for i, tag in enumerate(cells or []):
            cell_text(t.rows[2].cells[i], tag, size=size)
        cell_text(t.rows[3].cells[0], "{%tr endfor %}", size=size)
    return t


def set_widths(t, widths_mm: list[float]) -> None:
    """Column widths LibreOffice honours: the grid columns, and each cell, fixed layout."""
    t.autofit = False
    for i, width in enumerate(widths_mm):
        t.columns[i].width = Mm(width)
        for row in t.rows:
            row.cells[i].width = Mm(width)


def cell_text(cell, text: str, **kw) -> None:
    p = cell.paragraphs[0]
    p.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER}[
        kw.pop("align", "left")]
    run(p, text, **kw)


def borderless(t) -> None:
    tbl_pr = t._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def certificate(doc) -> None:
    """The certificate and sub-certificate [CACQ 8.1, DNI 5.5.1 + sample, ZPIC 8.1.1,
    XBHT 7.8.2(6)]: everything a certificate must carry, one template for both."""
    para(doc, "{{ body.name }}", size=15, font=HEI, align="center", after=6, color="1F4E79")
    para(doc, "{{ scheme.certificate_title }}{% if cert.is_sub %}（子证书）{% endif %}",
         size=24, bold=True, font=HEI, align="center", after=4, color="1F4E79")
    para(doc, "证书编号：{{ cert.number }}", size=12, align="center", after=10)
    para(doc, "兹证明", size=12, align="center", after=4)
    para(doc, "{{ org.name }}", size=17, bold=True, font=HEI, align="center", after=6)
    para(doc, "统一社会信用代码：{{ org.uscc }}", size=11)
    para(doc, "注册地址：{{ org.registered_address }}", size=11)
    para(doc, "{%p if cert.is_sub %}")
    para(doc, "经营地址：{{ site.address }}{% if site.temporary %}（临时场所）{% endif %}", size=11)
    para(doc, "{%p else %}")
    para(doc, "认证覆盖的经营地址：", size=11, after=2)
    table(doc, ["序号", "经营地址", "认证范围"], [14, 96, 56], loop="s in sites",
          cells=["{{ s.label }}", "{{ s.address }}{% if s.temporary %}（临时场所）{% endif %}",
                 "{{ s.scope }}"], size=9.5)
    para(doc, "{%p endif %}")
    para(doc, "", after=4)
    para(doc, "售后服务经评价符合：", size=11)
    para(doc, "{%p for std in scheme.standards %}")
    para(doc, "{{ std }}", size=11, align="center")
    para(doc, "{%p endfor %}")
    para(doc, "{%p if cert.grade %}")
    para(doc, "评价等级：{{ cert.grade }}", size=16, bold=True, font=HEI, align="center",
         after=4, color="B8860B")
    para(doc, "{%p endif %}")
    para(doc, "认证范围：{{ cert.scope }}", size=11, after=6)
    para(doc, "颁证日期：{{ cert.issue_date }}　　有效期至：{{ cert.expiry_date }}", size=11)
    para(doc, "{%p if cert.reissue_date %}")
    para(doc, "换证日期：{{ cert.reissue_date }}", size=11)
    para(doc, "{%p endif %}")
    para(doc, "{%p if cert.is_sub %}")
    para(doc, "本子证书是主证书 {{ cert.main_number }} 的组成部分，须与主证书同时使用方为有效。",
         size=10.5, bold=True)
    para(doc, "{%p endif %}")
    para(doc, "", after=6)
    t = doc.add_table(rows=1, cols=2)
    borderless(t)
    set_widths(t, [128, 38])
    notes, qr = t.rows[0].cells
    for i, line in enumerate([
        "本证书有效性查询可扫描右侧二维码（证书编号 {{ cert.number }}）",
        "同时可登录 {{ body.website }} 查询",
        "{{ cnca_notice }}",
        "获证组织必须定期接受监督审核并经审核合格此证书方继续有效",
    ], start=1):
        para(notes, f"{i}. {line}", size=9)
    cell_text(qr, "{{ qr }}", size=9, align="center")
    para(doc, "", after=6)
    para(doc, "{{ body.signatory }}", size=11, align="right")
    para(doc, "{{ body.name }}", size=12, font=HEI, align="right")
    para(doc, "认证机构地址：{{ body.address }}"
         "{% if body.phone %}　电话：{{ body.phone }}{% endif %}", size=9, align="right")
    para(doc, "认证机构批准号：{{ body.approval_number }}", size=9, align="right")


def notice(doc) -> None:
    """Status notices to the certified organisation: suspension, restoration, revocation,
    cancellation [CACQ 9.3, ZPIC 7, XBHT 8]. One template; the wording comes from context."""
    para(doc, "{{ body.name }}", size=14, font=HEI, align="center", after=4, color="1F4E79")
    para(doc, "{{ notice.title }}", size=20, bold=True, font=HEI, align="center", after=4)
    para(doc, "文号：{{ notice.reference }}", size=10.5, align="right", after=8)
    para(doc, "{{ org.name }}：", size=12, after=6)
    para(doc, "　　{{ notice.body }}", size=12, align="justify", after=6)
    para(doc, "　　原因：{{ notice.reason }}", size=12, align="justify", after=6)
    para(doc, "涉及的认证证书：", size=12, after=2)
    table(doc, ["证书编号", "认证范围", "有效期至"], [52, 82, 32], loop="c in certificates",
          cells=["{{ c.number }}", "{{ c.scope }}", "{{ c.expiry_date }}"], size=10)
    para(doc, "", after=6)
    para(doc, "{%p for line in notice.consequences %}")
    para(doc, "　　{{ line }}", size=11, align="justify")
    para(doc, "{%p endfor %}")
    para(doc, "　　证书状态可扫描证书二维码或登录 {{ body.website }} 查询；{{ cnca_notice }}。",
         size=11, align="justify", after=18)
    para(doc, "{{ body.name }}", size=12, font=HEI, align="right")
    para(doc, "{{ notice.date }}", size=12, align="right")


BASE_TEMPLATES: dict[str, tuple[Callable, bool]] = {
    "certificate": (certificate, True),
    "notice": (notice, False),
}


def write_base_templates(out_dir: Path = TEMPLATES_DIR / "base") -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (build, border) in BASE_TEMPLATES.items():
        doc = new_document(border=border)
        doc.paragraphs[0]._element.getparent().remove(doc.paragraphs[0]._element) \
            if doc.paragraphs else None
        build(doc)
        path = out_dir / f"{name}.docx"
        doc.save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_base_templates():
        print(p)
