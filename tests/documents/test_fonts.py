"""The fonts Chinese Word templates name map onto installed fonts, and Chinese is set in
Simplified Chinese glyph forms.

pdffonts calls the embedded face "NotoSerifCJKjp-…" even when the SC face is used (Noto's
.ttc shares one CFF table across regions), so glyph forms are checked by rendering: 角直写
differ between the SC and JP forms."""

from __future__ import annotations

import io
import os
import subprocess

import pytest
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from certdesk.documents.authoring import new_document, para
from certdesk.documents.convert import FONTS_CONF


@pytest.mark.parametrize("alias,family", [
    ("宋体", "Noto Serif CJK SC"), ("SimSun", "Noto Serif CJK SC"),
    ("黑体", "Noto Sans CJK SC"), ("SimHei", "Noto Sans CJK SC"),
    ("仿宋", "Noto Serif CJK SC"), ("楷体", "Noto Serif CJK SC"),
    ("Microsoft YaHei", "Noto Sans CJK SC"), ("微软雅黑", "Noto Sans CJK SC"),
    ("Times New Roman", "Liberation Serif"), ("Arial", "Liberation Sans"),
])
def test_each_word_font_name_maps_to_an_installed_font(alias, family):
    out = subprocess.run(["fc-match", "-f", "%{family}", alias], capture_output=True,
                         text=True, env={**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)},
                         check=True).stdout
    assert family in out.split(",")


def _gray_pages(pdf: bytes, tmp_path) -> list[bytes]:
    path = tmp_path / "glyphs.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-gray", "-r", "50", str(path), str(tmp_path / "page")],
                   check=True)
    pages = []
    for pgm in sorted(tmp_path.glob("page-*.pgm")):
        _magic, _w, _h, _max, pixels = pgm.read_bytes().split(maxsplit=4)
        pages.append(pixels)
    return pages


def _distance(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


@pytest.mark.office
def test_chinese_in_a_song_font_is_set_in_simplified_chinese_forms(pool, tmp_path):
    """Page 1: 角直写 as templates write it (宋体, zh-CN). Page 2: explicitly the SC face.
    Page 3: the JP face in Japanese. The template's page must match SC and not JP."""
    doc = new_document()
    for i, (font, lang) in enumerate([("宋体", None), ("Noto Serif CJK SC", "zh-CN"),
                                      ("Noto Serif CJK JP", "ja-JP")]):
        run = para(doc, "角直写", size=72, font=font).runs[0]
        if lang:
            el = OxmlElement("w:lang")
            el.set(qn("w:eastAsia"), lang)
            run._element.get_or_add_rPr().append(el)
        if i < 2:
            run.add_break(WD_BREAK.PAGE)
    buf = io.BytesIO()
    doc.save(buf)
    template, sc, jp = _gray_pages(pool.convert_bytes(buf.getvalue(), "glyphs"), tmp_path)
    assert _distance(template, sc) < 0.05
    assert _distance(template, jp) > 0.5  # the forms differ visibly (≈1.0 at 50 dpi)
