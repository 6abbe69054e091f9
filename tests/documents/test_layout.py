"""Hostile content does not break the layout: names with & < > and quotes, very long
names and addresses, an unbroken Latin token, Chinese and Latin mixed, 60 sites. Tables
grow over pages, text wraps, and nothing falls off the page: every site is in the text
poppler extracts, and every word poppler places lies inside the page."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from tests.documents.support import example, pdftotext, render_pdf

pytestmark = pytest.mark.office

SITES = 60
NAME = ("上海联合汽配 & 合作伙伴 <华东> \"旗舰\" 'Service' 国际贸易与售后技术支持服务有限公司"
        "（Shanghai United Auto Parts After-Sales Technical Support Service Co., Ltd.）")
TOKEN = "AFTERSALESSERVICECENTRE" * 3  # 69 letters, no break opportunity


def _record() -> dict:
    sites = [{"name": f"第{i:02d}号服务网点 <{i}> & Co",
              "address": (f"场所-{i:02d} 中国江苏省苏州市工业园区星湖街{100 + i}号 "
                          f"Building {i}, Suzhou Industrial Park, Jiangsu Province "
                          + ("（含延伸服务区域及仓储配送中心、客户接待大厅、维修车间）" * (i % 3))),
              "scope": "汽车零部件的销售、安装调试及售后技术支持 & 培训",
              "temporary": i % 7 == 0}
             for i in range(1, SITES + 1)]
    return {**example("site_annex"), "name": NAME, "sites": sites, "sites_in_annex": False,
            "registered_address": f"上海市浦东新区张江高科技园区碧波路{TOKEN}号 " * 2,
            "scope": "汽车零部件（发动机、变速箱、底盘、电气系统）的销售、安装调试、维修保养、"
                     "技术培训及配件供应 & 回收"}


@pytest.fixture(scope="module")
def pdfs(pool, tmp_path_factory):
    out = tmp_path_factory.mktemp("layout")
    record = _record()
    return {kind: render_pdf(pool, "xbht", kind, record, out / f"{kind}.pdf")
            for kind in ("certificate", "site_annex")}


def _flat(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("kind", ["certificate", "site_annex"])
def test_every_site_appears(pdfs, kind):
    text = _flat(pdftotext(pdfs[kind]))
    missing = [i for i in range(1, SITES + 1) if f"场所-{i:02d}" not in text]
    assert missing == []
    assert text.count("（临时场所）") == SITES // 7


@pytest.mark.parametrize("kind", ["certificate", "site_annex"])
def test_hostile_names_arrive_whole(pdfs, kind):
    text = _flat(pdftotext(pdfs[kind]))
    assert _flat(NAME) in text
    assert "第07号服务网点<7>&Co" in text


@pytest.mark.parametrize("kind", ["certificate", "site_annex"])
def test_nothing_is_placed_outside_the_page(pdfs, kind):
    html = pdftotext(pdfs[kind], "-bbox")
    pages = re.findall(r"<page width=\"([\d.]+)\" height=\"([\d.]+)\">(.*?)</page>", html,
                       re.DOTALL)
    assert len(pages) >= 2  # 60 sites do not fit one page: the table grew
    for width, height, body in pages:
        for word in ElementTree.fromstring(f"<p>{body}</p>").iter("word"):
            box = {k: float(word.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")}
            assert 0 <= box["xMin"] < box["xMax"] <= float(width), word.text
            assert 0 <= box["yMin"] < box["yMax"] <= float(height), word.text


def test_the_annex_repeats_its_table_header_on_every_page(pdfs):
    pages = pdftotext(pdfs["site_annex"]).split("\f")
    assert all("场所及地址" in page for page in pages if page.strip())
