"""Rendered documents are PDF/A-2b with every font embedded, checked by pikepdf and
poppler (not by certdesk's own word). A representative subset is converted: the base
certificate, DNI's certificate layout, the report with its score table, a notice."""

from __future__ import annotations

import pikepdf
import pytest

from tests.documents.support import contexts, example, pdffonts, pdftotext, render_pdf

pytestmark = pytest.mark.office

SUBSET = [("cacq", "certificate"), ("dni-spshfw", "certificate"), ("zpic", "report"),
          ("xbht", "revocation_notice")]


@pytest.fixture(scope="module")
def pdfs(pool, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdfs")
    return {(p, k): render_pdf(pool, p, k, example(k), out / f"{p}-{k}.pdf") for p, k in SUBSET}


@pytest.mark.parametrize("profile_kind", SUBSET, ids=lambda pk: "-".join(pk))
def test_the_pdf_identifies_itself_as_pdf_a_2b_with_an_output_intent(pdfs, profile_kind):
    with pikepdf.open(pdfs[profile_kind]) as pdf:
        meta = pdf.open_metadata()
        assert meta.get("pdfaid:part") == "2"
        assert meta.get("pdfaid:conformance") == "B"
        intents = pdf.Root.OutputIntents
        assert len(intents) >= 1
        assert intents[0].S == "/GTS_PDFA1" and "/DestOutputProfile" in intents[0]


@pytest.mark.parametrize("profile_kind", SUBSET, ids=lambda pk: "-".join(pk))
def test_every_font_is_embedded_and_a_cjk_font_is_among_them(pdfs, profile_kind):
    fonts = pdffonts(pdfs[profile_kind])
    assert fonts and all(f["emb"] == "yes" for f in fonts), fonts
    assert any("CJK" in f["name"] for f in fonts)


def test_the_report_prints_the_score_table_and_the_grade(pdfs):
    score = contexts("zpic", "report", example("report"))[0].context["score"]
    text = "".join(pdftotext(pdfs[("zpic", "report")]).split())
    for words in ("评价指标得分", "组织架构", "投诉处理", "小计", "最终得分", score["final"],
                  f"评价等级{score['grade']}", "同意推荐认证注册", "评价报告"):
        assert words in text


def test_the_dni_certificate_follows_dnis_sample(pdfs):
    text = "".join(pdftotext(pdfs[("dni-spshfw", "certificate")]).split())
    for words in ("注册号：027326FWF0001R000", "总经理：申爱萍", "www.swxrz.com",
                  "CTSDNISC0301-2025《商品售后服务认证技术规范》", "五星级"):
        assert words in text
