"""Every document kind renders for every body profile from the example inputs, with the
context its schema declares and the figures the rules engine computes."""

from __future__ import annotations

import copy
import io

import pytest
from docx import Document

from certdesk.common.errors import InputError, RuleViolation
from certdesk.documents.kinds import KINDS
from certdesk.documents.render import render_docx
from certdesk.documents.schema import problems
from tests.documents.support import contexts, example
from tests.english import raises_en
from tests.shipped import SHIPPED, rules_of


def _all_text(docx: bytes) -> str:
    doc = Document(io.BytesIO(docx))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


@pytest.mark.parametrize("profile_id", SHIPPED.ids())
@pytest.mark.parametrize("kind_id", list(KINDS))
def test_every_kind_renders_for_every_profile(profile_id, kind_id):
    profile = SHIPPED.get(profile_id)
    for rendition in contexts(profile_id, kind_id, example(kind_id)):
        assert problems(KINDS[kind_id].schema, rendition.context) == []
        text = _all_text(render_docx(profile.template_path(kind_id), rendition.context))
        assert "{{" not in text and "{%" not in text
        assert profile.body.name in text or kind_id in ("certificate", "sub_certificate")


def test_a_profile_titles_its_records_in_its_own_words():
    assert contexts("cacq", "report", example("report"))[0].context["doc"]["title"] == "评价报告"
    assert contexts("dni-sh", "report", example("report"))[0].context["doc"]["title"] == \
        "服务认证审查报告"
    assert contexts("zpic", "plan", example("plan"))[0].context["doc"]["title"] == "审查计划"


def test_dni_certificates_use_dnis_own_layout():
    ctx = contexts("dni-spshfw", "certificate", example("certificate"))[0].context
    text = _all_text(render_docx(SHIPPED.get("dni-spshfw").template_path("certificate"), ctx))
    assert "注册号：027326FWF0001R000" in text
    assert "总经理：申爱萍" in text and "通过认证范围：" in text
    base = _all_text(render_docx(SHIPPED.get("cacq").template_path("certificate"), ctx))
    assert "证书编号：027326FWF0001R000" in base


def test_sub_certificates_are_one_per_site_and_name_their_main_certificate():
    subs = contexts("xbht", "sub_certificate", example("sub_certificate"))
    assert [s.context["cert"]["number"] for s in subs] == [
        "027326FWF0001R000-1", "027326FWF0001R000-2", "027326FWF0001R000-3"]
    assert {s.context["cert"]["main_number"] for s in subs} == {"027326FWF0001R000"}
    assert subs[2].context["site"]["temporary"] is True


def test_a_certificate_without_a_number_is_a_visible_draft():
    record = {k: v for k, v in example("certificate").items() if k != "number"}
    ctx = contexts("cacq", "certificate", record)[0].context
    text = _all_text(render_docx(SHIPPED.get("cacq").template_path("certificate"), ctx))
    assert "未编号" in text and "草稿" in text


def test_the_certificate_refers_to_the_annex_when_asked():
    record = {**example("certificate"), "sites_in_annex": True}
    ctx = contexts("zpic", "certificate", record)[0].context
    text = _all_text(render_docx(SHIPPED.get("zpic").template_path("certificate"), ctx))
    assert "共 3 处，见本证书附件" in text
    assert "天津市和平区" not in text


def test_the_programme_takes_man_days_and_samples_from_the_rules_engine():
    from certdesk.domain.mandays import man_days
    from certdesk.domain.sampling import sample_size
    from certdesk.domain.spec import Audit

    record = example("programme")
    ctx = contexts("cacq", "programme", record)[0].context
    eligible = sum(1 for s in record["sites"] if not s.get("central"))
    sample = sample_size(rules_of("cacq").sampling, Audit.INITIAL, eligible)
    expected = man_days(rules_of("cacq").man_days, Audit.INITIAL, record["people"],
                        products=record["products"], service_items=record["service_items"],
                        sites=sample.site_visits)
    first = ctx["audits"][0]
    assert first["sample"] == str(sample.sample)
    assert float(first["man_days"]) == float(expected.man_days)
    assert [a["name"] for a in ctx["audits"]] == ["初次认证审查", "第1次监督审查",
                                                  "第2次监督审查", "再认证审查"]


def test_the_programme_says_when_man_days_are_extrapolated_beyond_the_table():
    ctx = contexts("xbht", "programme", {**example("programme"), "people": 400})[0].context
    assert ctx["man_days"]["extrapolated"] is True
    assert "外推" in ctx["man_days"]["extrapolation"]


def test_the_report_score_and_grade_come_from_the_scoring_rules():
    from certdesk.domain.scoring import score_sheet

    record = example("report")
    expected = score_sheet(rules_of("zpic").scoring, record["score_sheet"]).verdict
    score = contexts("zpic", "report", record)[0].context["score"]
    assert score["final"] == f"{expected.score.normalize():f}"
    assert score["grade"] == expected.grade
    assert [r["item"] for r in score["rows"]].count("小计") == 3


def test_a_failing_score_cannot_be_reported_as_a_recommendation():
    record = copy.deepcopy(example("report"))
    record["score_sheet"]["deductions"] = ["a", "b", "c", "d", "e"]
    record["conclusion"] = "同意推荐认证注册"
    with pytest.raises(RuleViolation, match="不能推荐注册"):
        contexts("dni-spshfw", "report", record)


def test_an_auditor_cannot_take_the_certification_decision():
    record = {**example("decision"), "decision_makers": ["孙丽", "刘洋"]}
    with pytest.raises(RuleViolation, match="刘洋"):
        contexts("cacq", "decision", record)


def test_a_decision_against_the_team_needs_a_reason():
    record = {**example("decision"), "team_conclusion": "推迟推荐认证注册"}
    with pytest.raises(InputError, match="CACQ 7.10.5"):
        contexts("cacq", "decision", record)
    ctx = contexts("cacq", "decision", {**record, "reason": "不符合已验证关闭"})[0].context
    assert ctx["decision"]["differs"] is True


def test_a_suspension_longer_than_the_body_allows_is_refused():
    with raises_en(RuleViolation, match="at most 6 months"):
        contexts("cacq", "suspension_notice", {**example("suspension_notice"), "months": 9})


def test_the_nonconformity_deadline_follows_the_body_rule():
    ctx = contexts("dni-spshfw", "nonconformity",
                   {**example("nonconformity"), "audit": "surveillance"})[0].context
    assert ctx["nc"]["due_by"] == "2026年12月14日"  # DNI 5.6.5: two months


def test_a_late_surveillance_notice_is_refused():
    record = {**example("surveillance_notice"), "start": "2028-01-15"}
    with raises_en(RuleViolation, match="ground for suspension") as refused:
        contexts("cacq", "surveillance_notice", record)
    assert "逾期未做监督审核是暂停证书的理由" in str(refused.value)


def test_a_refusal_notice_lists_no_certificates():
    ctx = contexts("xbht", "refusal_notice", example("refusal_notice"))[0].context
    assert ctx["certificates"] == []
    assert "APP-2026-0178" in ctx["notice"]["body"]
    text = _all_text(render_docx(SHIPPED.get("xbht").template_path("refusal_notice"), ctx))
    assert "涉及的认证证书" not in text and "不予认证注册通知" in text


@pytest.mark.parametrize("field,value,message", [
    ("uscc", "91110105MA01XB8H2X", "check character"),
    ("number", "12345", "not a certificate number"),
    ("decision_date", "20.11.2026", "not a date"),
    ("colour", "red", "unknown field"),
])
def test_a_bad_record_is_one_error_naming_record_and_field(field, value, message):
    with pytest.raises(InputError) as err:
        contexts("cacq", "certificate", {**example("certificate"), field: value})
    assert message in err.value.text("en") and str(err.value).startswith("test record")


def test_the_status_notice_of_certdesk_status_keeps_its_keys():
    """lifecycle.transitions builds the notice context by hand: the shared template must
    render from exactly those keys."""
    from certdesk.documents.context import CNCA_NOTICE, body_context

    profile = SHIPPED.get("cacq")
    ctx = {"body": body_context(profile), "org": {"name": "甲", "uscc": "x"},
           "notice": {"title": "暂停认证证书通知书", "reference": "R", "body": "B", "reason": "C",
                      "date": "D", "consequences": ["E"]},
           "certificates": [{"number": "N", "scope": "S", "expiry_date": "X"}],
           "cnca_notice": CNCA_NOTICE}
    assert problems(KINDS["notice"].schema, ctx) == []
    text = _all_text(render_docx(profile.template_path("notice"), ctx))
    assert "暂停认证证书通知书" in text and "N" in text
