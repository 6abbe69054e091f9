"""Authoring aid for the Word templates (``python -m templates.authoring``).

Staff edit the resulting .docx files in Word; this module only writes the first versions
so that every template starts with the same house style: A4, 宋体/黑体 with zh-CN as the
East Asian language (so LibreOffice picks Simplified Chinese glyphs), and docxtpl tags
each kept whole in a single run (a tag split across runs does not render).

Every template is built from the helpers below (letterhead, label/value grid, looped
tables, sign-off lines), so the documents share one look; a body's own layout (DNI's
certificate, as printed in its rules) is a builder of its own made of the same parts.
The tags used are exactly the keys ``documents.schema`` declares for the document kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from certdesk.profiles import TEMPLATES_DIR

SONG, HEI, LATIN = "宋体", "黑体", "Times New Roman"
BLUE, GOLD, RED, SHADE = "1F4E79", "B8860B", "C00000", "EAF1FB"
TEXT_WIDTH = 166  # mm between the 22 mm margins of A4


def new_document(border: bool = False) -> DocxDocument:
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
                     ("w:color", BLUE)):
            el.set(qn(k), v)
        borders.append(el)
    section._sectPr.append(borders)


_ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
          "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}


def para(doc_or_cell, text: str = "", *, size: float = 11, bold: bool = False,
         font: str = SONG, align: str = "left", after: float = 2, color: str | None = None):
    p = doc_or_cell.add_paragraph()
    p.alignment = _ALIGN[align]
    p.paragraph_format.space_after = Pt(after)
    if text:
        run(p, text, size=size, bold=bold, font=font, color=color)
    return p


def run(p, text: str, *, size: float = 11, bold: bool = False, font: str = SONG,
        color: str | None = None):
    """One run: a docxtpl tag inside ``text`` therefore stays whole."""
    r = p.add_run(text)
    r.font.size = Pt(size)
    r.font.bold = bold
    r.font.name = LATIN if font == SONG else font
    r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if color:
        r.font.color.rgb = RGBColor.from_string(color)
    return r


def table(doc, headers: list[str], widths_mm: Sequence[float], *, loop: str | None = None,
          cells: list[str] | None = None, size: float = 10, grid: bool = True):
    """A table with a header row and, when ``loop`` is given, a docxtpl row loop.

    ``loop`` is the ``for`` clause (``"s in sites"``) and ``cells`` the tag text of each
    cell of the repeated row. The header row repeats on every page a long table covers.
    """
    rows = 1 + (3 if loop else 0)
    t = doc.add_table(rows=rows, cols=len(headers))
    if grid:
        t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(t, widths_mm)
    for i, head in enumerate(headers):
        cell_text(t.rows[0].cells[i], head, size=size, bold=True, font=HEI, align="center")
        shade(t.rows[0].cells[i])
    repeat_header(t.rows[0])
    if loop:
        cell_text(t.rows[1].cells[0], f"{{%tr for {loop} %}}", size=size)
        for i, tag in enumerate(cells or []):
            cell_text(t.rows[2].cells[i], tag, size=size)
        keep_row_on_one_page(t.rows[2])
        cell_text(t.rows[3].cells[0], "{%tr endfor %}", size=size)
    return t


def set_widths(t, widths_mm: Sequence[float]) -> None:
    """Column widths LibreOffice honours: the grid columns, and each cell, fixed layout."""
    t.autofit = False
    for i, width in enumerate(widths_mm):
        t.columns[i].width = Mm(width)
        for row in t.rows:
            row.cells[i].width = Mm(width)


def cell_text(cell, text: str, **kw) -> None:
    p = cell.paragraphs[0]
    p.alignment = _ALIGN[kw.pop("align", "left")]
    run(p, text, **kw)


def shade(cell, fill: str = SHADE) -> None:
    shd = OxmlElement("w:shd")
    for k, v in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", fill)):
        shd.set(qn(k), v)
    cell._tc.get_or_add_tcPr().append(shd)


def repeat_header(row) -> None:
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(el)


def keep_row_on_one_page(row) -> None:
    """A site or score row is read as one entry: never half on one page, half on the next."""
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(el)


def borderless(t) -> None:
    tbl_pr = t._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


# -- shared parts of the documents -------------------------------------------------------

def page_footer(doc, left: str) -> None:
    """Footer: ``left`` (a reference tag) and 第 N 页 共 M 页 from Word's page fields."""
    p = doc.sections[0].footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(p, f"{left}　　第 ", size=9)
    _field(p, "PAGE")
    run(p, " 页 共 ", size=9)
    _field(p, "NUMPAGES")
    run(p, " 页", size=9)


def _field(p, instruction: str) -> None:
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instruction)
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    r.append(t)
    fld.append(r)
    p._p.append(fld)


def letterhead(doc, *, reference: str = "编号：{{ doc.reference }}　　日期：{{ doc.date }}",
               title: str = "{{ doc.title }}") -> None:
    para(doc, "{{ body.name }}", size=14, font=HEI, align="center", after=4, color=BLUE)
    para(doc, title, size=20, bold=True, font=HEI, align="center", after=4)
    para(doc, reference, size=10, align="right", after=8)


def heading(doc, text: str) -> None:
    para(doc, text, size=12.5, bold=True, font=HEI, after=4).paragraph_format.space_before = \
        Pt(8)


def grid(doc, rows: list[tuple[str, str]], label_mm: float = 36, size: float = 10.5):
    """Label/value rows (labels shaded, in 黑体); values are tags or literal text."""
    t = doc.add_table(rows=len(rows), cols=2)
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(t, [label_mm, TEXT_WIDTH - label_mm])
    for row, (label, value) in zip(t.rows, rows, strict=True):
        cell_text(row.cells[0], label, size=size, font=HEI)
        shade(row.cells[0])
        cell_text(row.cells[1], value, size=size)
    return t


def box(doc, label: str, content: str = "", *, height_mm: float = 0, size: float = 10.5,
        footer: str = "") -> None:
    """A bordered box: a shaded label, then content (or room to write by hand), then a
    signature line."""
    t = doc.add_table(rows=1, cols=1)
    t.style = "Table Grid"
    set_widths(t, [TEXT_WIDTH])
    cell = t.rows[0].cells[0]
    cell_text(cell, label, size=size, font=HEI)
    if content:
        para(cell, content, size=size, align="justify")
    if footer:
        para(cell, footer, size=size, align="right")
    if height_mm:
        t.rows[0].height = Mm(height_mm)
        t.rows[0].height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    para(doc, "", after=2)


def loop_lines(doc, loop: str, line: str, *, size: float = 11, prefix: str = "　　",
               align: str = "justify") -> None:
    """One paragraph per item: ``{%p for … %}`` … ``{%p endfor %}``."""
    para(doc, f"{{%p for {loop} %}}")
    para(doc, f"{prefix}{line}", size=size, align=align)
    para(doc, "{%p endfor %}")


def when(doc, condition: str, build: Callable[[], None],
         otherwise: Callable[[], None] | None = None) -> None:
    """Paragraph-level ``if``: whatever ``build`` adds appears only when ``condition``."""
    para(doc, f"{{%p if {condition} %}}")
    build()
    if otherwise is not None:
        para(doc, "{%p else %}")
        otherwise()
    para(doc, "{%p endif %}")


def signoff(doc, lines: list[str], *, size: float = 11) -> None:
    para(doc, "", after=10)
    for line in lines:
        para(doc, line, size=size, align="right", after=4)


def site_cell(var: str = "s") -> str:
    """A site as printed: its name (when it has one), address, and the temporary mark."""
    return (f"{{% if {var}.name %}}{{{{ {var}.name }}}}：{{% endif %}}{{{{ {var}.address }}}}"
            f"{{% if {var}.temporary %}}（临时场所）{{% endif %}}")
TEAM_COLUMNS = (["职责", "姓名", "注册号", "专业代码", "工作单位（兼职/技术专家）"],
                [20, 22, 40, 26, 58],
                ["{{ m.role }}", "{{ m.name }}", "{{ m.registration }}", "{{ m.code }}",
                 "{{ m.employer }}"])


def sites_table(doc, loop: str = "s in sites", *, with_scope: bool = True,
                size: float = 9.5) -> None:
    if with_scope:
        table(doc, ["序号", "场所及地址", "认证范围"], [14, 96, 56], loop=loop,
              cells=["{{ s.label }}", site_cell(), "{{ s.scope }}"], size=size)
    else:
        table(doc, ["序号", "场所及地址"], [14, 152], loop=loop,
              cells=["{{ s.label }}", site_cell()], size=size)


def team_table(doc) -> None:
    headers, widths, cells = TEAM_COLUMNS
    table(doc, headers, widths, loop="m in team", cells=cells, size=9.5)


# -- certificates ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CertificateWords:
    """What differs between the base certificate and a body's printed layout."""

    number_label: str = "证书编号"
    sites_label: str = "认证覆盖的经营地址"
    conformity: str = "售后服务经评价符合："
    conformity_align: str = "left"
    grade_prefix: str = "评价等级："
    scope_label: str = "认证范围："
    checks: tuple[str, ...] = (
        "本证书有效性查询可扫描右侧二维码（证书编号 {{ cert.number }}）",
        "同时可登录 {{ body.website }} 查询",
        "{{ cnca_notice }}",
        "获证组织必须定期接受监督审核并经审核合格此证书方继续有效",
    )
    signature_date: bool = False
    footer_lines: tuple[str, ...] = (
        "认证机构地址：{{ body.address }}{% if body.phone %}　电话：{{ body.phone }}{% endif %}",
        "认证机构批准号：{{ body.approval_number }}",
    )


DNI_WORDS = CertificateWords(
    number_label="注册号",
    sites_label="经营地址",
    conformity="售后服务经评价符合",
    conformity_align="center",
    grade_prefix="",
    scope_label="通过认证范围：",
    checks=("本证书有效性查询可扫描二维码",
            "同时可登陆 {{ body.website }} 查询",
            "也可登陆国家认证认可监督管理委员会官方网站 www.cnca.gov.cn 查询",
            "获证组织必须定时接受监督审核并经审核合格此证书方继续有效"),
    signature_date=True,
    footer_lines=("认证机构地址：{{ body.address }}　电话：{{ body.phone }}　邮编：100020",),
)
"""DNI's sample certificate (end of its rules, seed 001): 注册号, grade on its own line,
the general manager's signature and date, and the four numbered checks."""


def _draft_banner(doc) -> None:
    when(doc, "cert.draft", lambda: para(
        doc, "草稿 · 未签发，不作为认证证明", size=11, bold=True, font=HEI, align="center",
        color=RED))
    # Body values the body has not confirmed (a test or demo install): said on the page.
    when(doc, "cert.unverified", lambda: para(
        doc, "{{ cert.unverified }}", size=9, bold=True, align="center", color=RED))


def certificate(doc, words: CertificateWords = CertificateWords()) -> None:
    """The certificate and sub-certificate [CACQ 8.1, DNI 5.5.1 + sample, ZPIC 8.1.1,
    XBHT 7.8.2(6)]: everything a certificate must carry, one template for both."""
    para(doc, "{{ body.name }}", size=15, font=HEI, align="center", after=6, color=BLUE)
    para(doc, "{{ scheme.certificate_title }}{% if cert.is_sub %}（子证书）{% endif %}",
         size=24, bold=True, font=HEI, align="center", after=4, color=BLUE)
    # The certification mark beside the certificate's name [ZPIC 8.1.1 1), 8.2.1].
    when(doc, "mark", lambda: para(doc, "{{ mark }}", align="center", after=2))
    para(doc, f"{words.number_label}：{{{{ cert.number }}}}", size=12, align="center", after=4)
    _draft_banner(doc)
    para(doc, "兹证明", size=12, align="center", after=4)
    para(doc, "{{ org.name }}", size=17, bold=True, font=HEI, align="center", after=6)
    para(doc, "统一社会信用代码：{{ org.uscc }}", size=11)
    para(doc, "注册地址：{{ org.registered_address }}", size=11)

    def listed() -> None:
        para(doc, f"{words.sites_label}：", size=11, after=2)
        sites_table(doc)

    def sites() -> None:
        when(doc, "cert.sites_in_annex", lambda: para(
            doc, f"{words.sites_label}：共 {{{{ cert.site_count }}}} 处，见本证书附件"
                 "《认证覆盖场所清单》", size=11), listed)

    when(doc, "cert.is_sub", lambda: para(
        doc, f"{words.sites_label}：{site_cell('site')}", size=11), sites)
    para(doc, "", after=4)
    para(doc, words.conformity, size=11, align=words.conformity_align)
    loop_lines(doc, "std in scheme.standards", "{{ std }}", prefix="", align="center")
    when(doc, "cert.grade", lambda: para(
        doc, f"{words.grade_prefix}{{{{ cert.grade }}}}", size=16 if words.grade_prefix else 22,
        bold=True, font=HEI, align="center", after=4, color=GOLD))
    para(doc, f"{words.scope_label}{{{{ cert.scope }}}}", size=11, after=6)
    para(doc, "颁证日期：{{ cert.issue_date }}　　有效期至：{{ cert.expiry_date }}", size=11)
    when(doc, "cert.reissue_date", lambda: para(doc, "换证日期：{{ cert.reissue_date }}",
                                                size=11))
    when(doc, "cert.is_sub", lambda: para(
        doc, "本子证书是主证书 {{ cert.main_number }} 的组成部分，须与主证书同时使用方为有效。",
        size=10.5, bold=True))
    if words.signature_date:
        para(doc, "{{ body.signatory }}", size=11, align="right", after=2)
        para(doc, "日期：{{ cert.issue_date }}", size=11, align="right", after=2)
    para(doc, "", after=6)
    _checks_and_qr(doc, words.checks)
    para(doc, "", after=6)
    if not words.signature_date:
        para(doc, "{{ body.signatory }}", size=11, align="right")
    para(doc, "{{ body.name }}", size=12, font=HEI, align="right")
    for line in words.footer_lines:
        para(doc, line, size=9, align="right")


def _checks_and_qr(doc, lines: tuple[str, ...], size: float = 9) -> None:
    t = doc.add_table(rows=1, cols=2)
    borderless(t)
    set_widths(t, [128, 38])
    notes, qr = t.rows[0].cells
    for i, line in enumerate(lines, start=1):
        para(notes, f"{i}. {line}", size=size)
    cell_text(qr, "{{ qr }}", size=size, align="center")


def certificate_dni(doc) -> None:
    certificate(doc, DNI_WORDS)


def site_annex(doc) -> None:
    """Certificate annex listing every site, for organisations with many sites
    [DNI 5.5.1(2), XBHT 7.8.2(6)a]; the header row repeats on every page."""
    para(doc, "{{ body.name }}", size=13, font=HEI, align="center", after=2, color=BLUE)
    para(doc, "{{ scheme.certificate_title }}附件：认证覆盖场所清单", size=16, bold=True,
         font=HEI, align="center", after=4)
    _draft_banner(doc)
    grid(doc, [("证书编号", "{{ cert.number }}"), ("获证组织", "{{ org.name }}"),
               ("统一社会信用代码", "{{ org.uscc }}"), ("认证范围", "{{ cert.scope }}"),
               ("有效期", "{{ cert.issue_date }} 至 {{ cert.expiry_date }}"),
               ("场所数量", "{{ cert.site_count }}")])
    para(doc, "", after=4)
    sites_table(doc)
    para(doc, "", after=4)
    _checks_and_qr(doc, (
        "本附件是证书 {{ cert.number }} 的组成部分，须与证书同时使用方为有效。",
        "证书有效性可扫描右侧二维码或登录 {{ body.website }} 查询。",
        "{{ cnca_notice }}"), size=9.5)
    page_footer(doc, "证书 {{ cert.number }} 附件")


# -- records of the audit ----------------------------------------------------------------

def programme(doc) -> None:
    """The audit programme for the whole cycle: man-day calculation and sampling with the
    clauses they rest on [CACQ 7.3.1, 7.3.2, 7.3.4.3, 11.2(4)(5); XBHT 7.2.2-7.2.3]."""
    letterhead(doc)
    heading(doc, "一、受审核方概况")
    grid(doc, [
        ("组织名称", "{{ org.name }}"), ("统一社会信用代码", "{{ org.uscc }}"),
        ("注册地址", "{{ org.registered_address }}"), ("认证范围", "{{ org.scope }}"),
        ("认证依据", "{{ scheme.standards|join('；') }}"),
        ("认证周期", "{{ cycle.name }}（首次审核 {{ cycle.first_audit }}，"
                     "预计颁证/决定 {{ cycle.anchor }}）"),
        ("人员", "总人数 {{ org.people }}，有效人数 {{ org.effective_people }}"
                 "{% if org.company %}（{{ org.company }}企业）{% endif %}"),
        ("商品与服务项目", "商品 {{ org.products or '—' }} 种，服务项目 "
                          "{{ org.service_items or '—' }} 项"),
    ])
    heading(doc, "二、审核时间（人日）计算")
    grid(doc, [
        ("人日表", "{{ man_days.clause }}：有效人数 {{ man_days.row }} 一档，"
                   "{{ man_days.row_days }} 人日"),
        ("服务特性测评", "{{ man_days.feature or '不适用' }}"),
        ("每场所初次人日", "{{ man_days.per_site_days }}；{{ man_days.site_rule }}"),
        ("现场与减少", "{% if man_days.on_site_share %}现场审核时间不少于总时间的 "
                      "{{ man_days.on_site_share }}{% endif %}{% if man_days.reduction %}；"
                      "减少不超过 {{ man_days.reduction }}{% endif %}"),
    ])
    when(doc, "man_days.extrapolated", lambda: para(
        doc, "注：{{ man_days.extrapolation }}", size=10, bold=True, color=RED))
    heading(doc, "三、场所与抽样")
    table(doc, ["序号", "场所及地址", "说明"], [14, 122, 30], loop="s in sites",
          cells=["{{ s.label }}", site_cell(), "{% if s.central %}中心场所{% endif %}"], size=9.5)

    def sampling() -> None:
        para(doc, "可抽样场所 {{ sampling.eligible }} 个，样本量按 ⌈n·√x⌉ 计算"
                  "（{{ sampling.clause }}）{% if sampling.central_office %}；"
                  "{{ sampling.central_office }}{% endif %}{% if sampling.random %}；"
                  "{{ sampling.random }}{% endif %}。", size=10.5)

    when(doc, "sampling.applies", sampling,
         lambda: para(doc, "单一场所，不抽样。", size=10.5))
    heading(doc, "四、认证周期内的审核安排")
    table(doc, ["审核", "完成时限", "人日及计算", "现场不少于", "抽样 n / 样本 / 到访",
                "模式", "审核重点"], [20, 24, 34, 14, 20, 15, 39], loop="a in audits",
          cells=["{{ a.name }}", "{{ a.due }}", "{{ a.man_days }} 人日（{{ a.basis }}）",
                 "{{ a.on_site_at_least }}",
                 "{% if a.sample %}{{ a.coefficient }} / {{ a.sample }} / {{ a.site_visits }}"
                 "{% else %}—{% endif %}", "{{ a.mode }}", "{{ a.focus }}"], size=9)
    para(doc, "依据：{{ clauses|join('；') }}", size=9, after=4)
    signoff(doc, ["方案编制：{{ doc.prepared_by }}", "审核：＿＿＿＿＿＿　　批准：＿＿＿＿＿＿"])
    page_footer(doc, "{{ doc.reference }}")


def plan(doc) -> None:
    """The audit plan drawn up by the team leader [CACQ 7.3.5, DNI 5.3.1.4, XBHT 7.3]."""
    letterhead(doc)
    grid(doc, [
        ("受审查方", "{{ org.name }}"), ("统一社会信用代码", "{{ org.uscc }}"),
        ("注册地址", "{{ org.registered_address }}"),
        ("联系人", "{{ org.contact }}{% if org.phone %}　电话：{{ org.phone }}{% endif %}"),
        ("审查类型", "{{ audit.name }}"), ("审查目的", "{{ audit.objectives }}"),
        ("审查范围", "{{ audit.scope }}"), ("审查依据", "{{ audit.criteria|join('；') }}"),
        ("审查时间", "{{ audit.start }} 至 {{ audit.end }}"
                     "{% if audit.man_days %}，{{ audit.man_days }} 人日{% endif %}"),
        ("认证模式", "{{ audit.mode or '—' }}"),
    ])
    heading(doc, "一、审查组")
    team_table(doc)
    heading(doc, "二、审查场所")
    sites_table(doc, with_scope=False)
    heading(doc, "三、日程安排")
    table(doc, ["日期", "时间", "场所", "审查内容", "审查员"], [20, 24, 32, 64, 26],
          loop="r in schedule", cells=["{{ r.date }}", "{{ r.time }}", "{{ r.site }}",
                                       "{{ r.activity }}", "{{ r.auditor }}"], size=9.5)
    heading(doc, "四、说明")
    loop_lines(doc, "n in notes", "{{ n }}", size=10.5)
    signoff(doc, ["审查组长：{{ doc.prepared_by }}　　日期：{{ doc.date }}",
                  "受审查方确认：＿＿＿＿＿＿　　日期：＿＿＿＿＿＿"])
    page_footer(doc, "{{ doc.reference }}")


def report(doc) -> None:
    """The audit/evaluation report with score table, grade and conclusion [CACQ 7.9.4,
    DNI 5.3.3.7, ZPIC 4.5, XBHT 7.4.2.10]."""
    letterhead(doc)
    heading(doc, "一、基本信息")
    grid(doc, [
        ("受审查方", "{{ org.name }}"), ("统一社会信用代码", "{{ org.uscc }}"),
        ("地址", "{{ org.registered_address }}"), ("管理者代表", "{{ org.representative }}"),
        ("审查类型", "{{ audit.name }}"), ("审查目的", "{{ audit.objectives }}"),
        ("审查范围", "{{ audit.scope }}"), ("审查依据", "{{ audit.criteria|join('；') }}"),
        ("审查日期", "{{ audit.start }} 至 {{ audit.end }}"
                     "{% if audit.man_days %}，{{ audit.man_days }} 人日{% endif %}"),
        ("报告覆盖时间段", "{{ audit.period }}"), ("认证模式", "{{ audit.mode or '—' }}"),
    ])
    heading(doc, "二、审查组")
    team_table(doc)
    heading(doc, "三、审查场所及抽样")
    sites_table(doc, with_scope=False)
    para(doc, "抽样及样本信息：{{ sampling }}", size=10.5)
    heading(doc, "四、审查实施情况")
    para(doc, "　　{{ implementation }}", size=10.5, align="justify")
    para(doc, "偏离审查计划的情况：{{ deviations }}", size=10.5)
    heading(doc, "五、评价指标得分")
    table(doc, ["类别", "评价指标", "分值", "得分", "评价说明"], [24, 26, 14, 14, 88],
          loop="r in score.rows", cells=["{{ r.category }}", "{{ r.item }}", "{{ r.points }}",
                                         "{{ r.earned }}", "{{ r.how }}"], size=9.5)
    grid(doc, [
        ("评价指标得分", "适用分值 {{ score.applicable }}，得分 {{ score.earned }}，"
                         "折算 {{ score.items_score }} 分"),
        ("特别扣分项", "{{ score.deductions|length }} 项{% if score.deductions %}："
                       "{{ score.deductions|join('；') }}{% endif %}"),
        ("特别加分项", "{{ score.bonus|length }} 项{% if score.bonus %}："
                       "{{ score.bonus|join('；') }}{% endif %}"),
        ("最终得分", "{{ score.final }}（= 评价指标得分 − 特别扣分 + 特别加分）"),
        ("服务特性测评", "{{ score.feature_result or '—' }}"),
        ("评价等级", "{{ score.grade }}"),
    ], size=10)
    when(doc, "not score.passed", lambda: para(
        doc, "评价不合格：{{ score.reasons|join('；') }}", size=10.5, bold=True, color=RED))
    para(doc, "评分依据：{{ score.clauses|join('；') }}", size=9)
    heading(doc, "六、不符合项")
    when(doc, "nonconformities", lambda: table(
        doc, ["编号", "条款", "不符合事实", "性质"], [18, 34, 100, 14],
        loop="n in nonconformities", cells=["{{ n.number }}", "{{ n.clause }}",
                                            "{{ n.description }}", "{{ n.severity }}"],
        size=9.5), lambda: para(doc, "无。", size=10.5))
    heading(doc, "七、审查结论")
    para(doc, "{{ conclusion }}", size=13, bold=True, font=HEI)
    when(doc, "opinion", lambda: para(doc, "综合意见：{{ opinion }}", size=10.5,
                                      align="justify"))
    signoff(doc, ["审查组长：{{ doc.prepared_by }}　　日期：{{ doc.date }}"])
    page_footer(doc, "{{ doc.reference }}")


def nonconformity(doc) -> None:
    """A non-conformity report for the auditee to confirm, answer and have verified
    [CACQ 7.8, 11.3(5); DNI 5.6.5]."""
    letterhead(doc, reference="编号：{{ nc.number }}　　文号：{{ doc.reference }}")
    grid(doc, [
        ("受审查方", "{{ org.name }}"), ("审查类型", "{{ audit.name }}"),
        ("审查结束日期", "{{ audit.end }}"), ("审查组长", "{{ audit.leader }}"),
        ("场所/部门", "{{ nc.site }}{% if nc.department %} / {{ nc.department }}{% endif %}"),
        ("依据条款", "{{ nc.clause }}"), ("不符合性质", "{{ nc.severity }}"),
    ])
    para(doc, "", after=4)
    box(doc, "不符合事实描述", "{{ nc.description }}",
        footer="审查员：{{ nc.auditor }}　　受审查方代表确认：{{ nc.auditee }}（签字）＿＿＿＿　"
               "日期：{{ doc.date }}")
    para(doc, "请于 {{ nc.due_by }} {{ nc.due_rule }}。", size=11, bold=True, after=6)
    for label in ("原因分析", "纠正", "纠正措施"):
        box(doc, label, height_mm=32, footer="受审查方负责人：＿＿＿＿＿＿　日期：＿＿＿＿＿＿")
    box(doc, "纠正措施验证", height_mm=28, footer="验证人：＿＿＿＿＿＿　日期：＿＿＿＿＿＿")
    page_footer(doc, "{{ doc.reference }}")


def decision(doc) -> None:
    """The certification decision record, by people who did not audit [CACQ 7.10,
    11.2(11); DNI 5.4; ZPIC 4.6; XBHT 7.5]."""
    letterhead(doc)
    grid(doc, [
        ("申请组织", "{{ org.name }}"), ("统一社会信用代码", "{{ org.uscc }}"),
        ("地址", "{{ org.registered_address }}"), ("认证范围", "{{ org.scope }}"),
        ("审查类型", "{{ audit.name }}"), ("审查日期", "{{ audit.start }} 至 {{ audit.end }}"),
        ("审查组", "组长 {{ audit.leader }}{% if team %}；成员 {{ team|join('、') }}{% endif %}"),
        ("审查报告", "{{ audit.report_reference }}"), ("审查组结论", "{{ audit.conclusion }}"),
    ])
    def sites() -> None:
        heading(doc, "认证覆盖场所")
        sites_table(doc, with_scope=False)

    when(doc, "sites", sites)
    heading(doc, "一、评价结果")
    grid(doc, [("最终得分", "{{ result.score }}"),
               ("服务特性测评", "{{ result.feature_result or '—' }}"),
               ("评价等级", "{{ result.grade }}")])
    when(doc, "not result.passed", lambda: para(
        doc, "不合格原因：{{ result.reasons|join('；') }}", size=10.5, color=RED))
    heading(doc, "二、复核")
    box(doc, "复核意见", "{{ review.opinion }}",
        footer="复核人：{{ review.reviewer }}　　日期：{{ review.date }}")
    heading(doc, "三、认证决定")
    grid(doc, [("决定", "{{ decision.outcome }}"),
               ("证书编号", "{{ decision.certificate_number or '—' }}"),
               ("决定日期", "{{ decision.date }}"),
               ("决定人员", "{{ decision.makers|join('、') }}"),
               ("公正性", "{{ decision.independence }}")])
    when(doc, "decision.reason", lambda: box(
        doc, "说明", "{{ decision.reason }}{% if decision.differs %}"
                    "（{{ decision.difference }}）{% endif %}"))
    signoff(doc, ["认证决定人员签字：＿＿＿＿＿＿＿＿＿＿　　日期：{{ decision.date }}"])
    page_footer(doc, "{{ doc.reference }}")


# -- notices -----------------------------------------------------------------------------------

def notice(doc) -> None:
    """Notices to the organisation: suspension, restoration, revocation, cancellation
    [CACQ 9.3, ZPIC 7, XBHT 8], refusal [DNI 6.2.2] and re-issue [CACQ 9.5]. One template;
    the wording comes from the context (``documents.notices``, ``services.transitions``)."""
    letterhead(doc, reference="文号：{{ notice.reference }}", title="{{ notice.title }}")
    para(doc, "{{ org.name }}：", size=12, after=6)
    para(doc, "　　{{ notice.body }}", size=12, align="justify", after=6)
    para(doc, "　　原因：{{ notice.reason }}", size=12, align="justify", after=6)

    def certificates() -> None:
        para(doc, "涉及的认证证书：", size=12, after=2)
        table(doc, ["证书编号", "认证范围", "有效期至"], [52, 82, 32], loop="c in certificates",
              cells=["{{ c.number }}", "{{ c.scope }}", "{{ c.expiry_date }}"], size=10)
        para(doc, "", after=6)

    when(doc, "certificates", certificates)
    loop_lines(doc, "line in notice.consequences", "{{ line }}")
    para(doc, "　　证书状态可扫描证书二维码或登录 {{ body.website }} 查询；{{ cnca_notice }}。",
         size=11, align="justify", after=18)
    para(doc, "{{ body.name }}", size=12, font=HEI, align="right")
    para(doc, "{{ notice.date }}", size=12, align="right")


def surveillance_notice(doc) -> None:
    """Notice of the coming surveillance audit [CACQ 7.3.4.6, 7.5.2; DNI 5.6.1;
    XBHT 7.6.1]; missing it is a ground for suspension [CACQ 9.1.1(7)]."""
    letterhead(doc, reference="文号：{{ doc.reference }}")
    para(doc, "{{ org.name }}：", size=12, after=6)
    para(doc, "　　贵组织持有的下列认证证书应于 {{ surveillance.due_by }} 前接受第 "
              "{{ surveillance.number }} 次监督审查（{{ surveillance.due_rule }}）。本机构拟于 "
              "{{ surveillance.start }} 至 {{ surveillance.end }} 对贵组织实施监督审查"
              "{% if surveillance.man_days %}，审查时间 {{ surveillance.man_days }} 人日"
              "{% endif %}，请做好准备。", size=12, align="justify", after=6)
    grid(doc, [("证书编号", "{{ certificate.number }}"), ("认证范围", "{{ certificate.scope }}"),
               ("颁证日期", "{{ certificate.issue_date }}"),
               ("有效期至", "{{ certificate.expiry_date }}")])
    heading(doc, "审查组")
    team_table(doc)
    def sites() -> None:
        heading(doc, "拟审查场所")
        sites_table(doc, with_scope=False)

    when(doc, "sites", sites)
    heading(doc, "请准备以下资料")
    loop_lines(doc, "d in documents", "{{ loop.index }}. {{ d }}", size=11)
    para(doc, "　　如对审查组成员的公正性或审查日期有异议，请及时与本机构联系（CACQ 7.3.4.6）。"
              "获证组织应按期接受监督审查；不能按规定的时间间隔接受监督审查的，本机构将暂停其"
              "认证证书（CACQ 9.1.1(7)）。{{ cnca_notice }}。", size=11, align="justify")
    when(doc, "surveillance.contact", lambda: para(doc, "联系人：{{ surveillance.contact }}",
                                                   size=11))
    signoff(doc, ["{{ body.name }}", "{{ doc.date }}"], size=12)


# -- the template set -------------------------------------------------------------------------

BASE_TEMPLATES: dict[str, tuple[Callable, bool]] = {
    "certificate": (certificate, True),
    "site_annex": (site_annex, False),
    "programme": (programme, False),
    "plan": (plan, False),
    "report": (report, False),
    "nonconformity": (nonconformity, False),
    "decision": (decision, False),
    "notice": (notice, False),
    "surveillance_notice": (surveillance_notice, False),
}
"""``templates/base/<name>.docx``: builder and whether the page has the certificate border."""

OVERRIDES: dict[str, tuple[Callable, bool]] = {
    "dni-spshfw/certificate": (certificate_dni, True),
}
"""Body layouts, ``templates/<profile>/<name>.docx`` (a profile's ``[templates]`` section
points at them; both DNI schemes use DNI's certificate layout)."""


def slim(doc) -> None:
    """Drop what python-docx's default template carries and no certdesk document uses:
    ~800 KB of style definitions (every Word table style, twice), latent styles, the
    thumbnail. LibreOffice parses all of it for every document it converts; without it
    a certificate loads in half the time and docxtpl renders it twice as fast."""
    styles = doc.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in styles.findall(qn("w:style"))}
    keep = set(re.findall(r'w:(?:pStyle|rStyle|tblStyle|numStyle) w:val="([^"]+)"',
                          doc.element.xml))
    keep |= {sid for sid, s in by_id.items() if s.get(qn("w:default")) == "1"}
    todo = list(keep)
    while todo:  # and every style those are based on, linked to or followed by
        style = by_id.get(todo.pop())
        for tag in ("w:basedOn", "w:link", "w:next"):
            ref = style.find(qn(tag)) if style is not None else None
            if ref is not None and ref.get(qn("w:val")) not in keep:
                keep.add(ref.get(qn("w:val")))
                todo.append(ref.get(qn("w:val")))
    for sid, style in by_id.items():
        if sid not in keep:
            styles.remove(style)
    latent = styles.find(qn("w:latentStyles"))
    if latent is not None:
        styles.remove(latent)
    for rels in (doc.part.rels, doc.part.package.rels):
        for rid, rel in list(rels.items()):
            if rel.reltype.rsplit("/", 1)[-1] in ("stylesWithEffects", "customXml",
                                                  "webSettings", "thumbnail"):
                rels.pop(rid)


def _write(path: Path, build: Callable, border: bool) -> Path:
    doc = new_document(border=border)
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):  # python-docx starts with an empty one
        body.remove(p)
    build(doc)
    slim(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def write_base_templates(out_dir: Path = TEMPLATES_DIR / "base") -> list[Path]:
    return [_write(out_dir / f"{name}.docx", build, border)
            for name, (build, border) in BASE_TEMPLATES.items()]


def write_templates(root: Path = TEMPLATES_DIR) -> list[Path]:
    """The base templates and the body overrides under ``root``."""
    return [*write_base_templates(root / "base"),
            *(_write(root / f"{rel}.docx", build, border)
              for rel, (build, border) in OVERRIDES.items())]


if __name__ == "__main__":
    for p in write_templates():
        print(p)
