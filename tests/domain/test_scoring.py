"""Score sheets and grades by the GB/T 27922 method, per body."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certdesk.common.errors import InputError, RuleViolation
from certdesk.domain.scoring import grade, score_sheet
from tests.english import raises_en
from tests.shipped import SHIPPED, rules_of

PROFILES = tuple(SHIPPED.ids())
BY_SCORE = tuple(p for p in PROFILES if rules_of(p).scoring.grade_basis == "score")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "score-sheet.json"
ITEMS = [i.id for c in rules_of("cacq").scoring.categories for i in c.items]


def sheet(**changes):
    """A sheet with every item conforming, then ``changes`` (item id -> entry fields)."""
    items = [{"item": i, **changes.pop(i, {"result": "conforming"})} for i in ITEMS]
    return {"items": items, "service_feature_result": 100, **changes}


def feature_for(pid, value=100):
    return value if rules_of(pid).scoring.needs_feature_result else None


@pytest.mark.parametrize("pid", PROFILES)
def test_every_profile_scores_100_points_in_the_gbt_27922_split(pid):
    totals = {c.id: c.points for c in rules_of(pid).scoring.categories}
    assert totals == {"service_system": 40, "product_service": 35, "customer_service": 25}
    assert {i.id: i.points for c in rules_of(pid).scoring.categories for i in c.items} == {
        "organisation": 4, "staffing": 6, "resources": 6, "rules": 6, "supervision": 7,
        "improvement": 5, "culture": 6, "product_information": 6, "technical_support": 6,
        "delivery": 4, "repair": 10, "quality_assurance": 7, "recycling": 2,
        "customer_relations": 15, "complaint_handling": 10}


@pytest.mark.parametrize("pid", PROFILES)
@pytest.mark.parametrize(
    "score,expected",
    [(69.9, None), (70, "达标级"), (79.9, "达标级"), (80, "三星级"), (89.9, "三星级"),
     (90, "四星级"), (94.9, "四星级"), (95, "五星级"), (100, "五星级"), (101, "五星级")],
)
def test_grades_start_at_70_80_90_and_95_for_every_body(pid, score, expected):
    # ZPIC 4.4.3.3 prints 五星级 for >= 80: read as 三星级 like every other body
    basis = {"feature_result": min(score, 100) if pid == "cacq" else feature_for(pid)}
    verdict = grade(rules_of(pid).scoring, score if pid != "cacq" else 100, **basis)
    assert verdict.grade == expected
    assert verdict.passed is (expected is not None)


@pytest.mark.parametrize("pid", PROFILES)
def test_five_special_deductions_fail_even_a_perfect_score(pid):
    rules = rules_of(pid).scoring
    assert grade(rules, 96, deductions=4, feature_result=feature_for(pid)).passed
    verdict = grade(rules, 96, deductions=5, feature_result=feature_for(pid))
    assert not verdict.passed and verdict.grade is None
    assert "5 special deductions" in verdict.reasons[0]


def test_zpic_fails_a_service_feature_result_below_70():
    verdict = grade(rules_of("zpic").scoring, 92, feature_result=69.9)
    assert not verdict.passed
    assert "ZPIC 4.6.3" in verdict.reasons[0]
    assert grade(rules_of("zpic").scoring, 92, feature_result=70).grade == "四星级"


def test_cacq_grades_by_the_service_experience_measurement():
    rules = rules_of("cacq").scoring
    assert grade(rules, 75, feature_result=96).grade == "五星级"
    assert grade(rules, 96, feature_result=81).grade == "三星级"
    failed = grade(rules, 96, feature_result=60)
    assert not failed.passed and "reaches no grade" in failed.reasons[0]


@pytest.mark.parametrize("pid", ["cacq", "zpic"])
def test_bodies_that_use_the_service_feature_result_require_it(pid):
    with raises_en(InputError, match="needs the service-feature result"):
        grade(rules_of(pid).scoring, 90)


def test_the_exact_score_is_graded_and_printed_cut_to_one_decimal():
    # DNI 5.3.3.7 "低于70分（不含）…不合格": 69.95 is below 70, and is printed 69.9, not 70.0
    verdict = grade(rules_of("dni-spshfw").scoring, 69.95)
    assert (verdict.passed, verdict.grade, verdict.score) == (False, None, Decimal("69.9"))
    assert "69.95 is below 70" in verdict.reasons[0]
    # DNI-SH 3 "达到95分（含95分）…五星级": 94.96 has not reached 95
    verdict = grade(rules_of("dni-sh").scoring, 94.96)
    assert (verdict.grade, verdict.score) == ("四星级", Decimal("94.9"))
    assert grade(rules_of("dni-sh").scoring, 79.95).grade == "达标级"


@pytest.mark.parametrize("pid", PROFILES)
def test_a_score_sheet_at_69_95_fails_in_every_body(pid):
    # 30.05 points lost of 100: the exact 69.95 fails (rounded half-up it would pass as 70.0)
    result = score_sheet(rules_of(pid).scoring, sheet(
        repair={"result": "nonconforming"}, customer_relations={"result": "nonconforming"},
        improvement={"earned": 0}, culture={"earned": 5.95}))
    assert result.earned == Fraction("69.95")
    assert not result.verdict.passed and result.verdict.grade is None
    assert result.verdict.score == Decimal("69.9")


@pytest.mark.parametrize(
    "kwargs,match",
    [({"score": 102}, "between 0 and 101"), ({"score": -1}, "between 0 and 101"),
     ({"score": float("nan")}, "finite"), ({"score": "high"}, "must be a number"),
     ({"score": 80, "deductions": -1}, "whole number"),
     ({"score": 80, "feature_result": 101}, "between 0 and 100")],
)
def test_bad_grade_input_is_refused_with_a_clear_message(kwargs, match):
    score = kwargs.pop("score")
    with raises_en(InputError, match=match):
        grade(rules_of("dni-spshfw").scoring, score, **kwargs)


# -- score sheets ------------------------------------------------------------------------

def test_a_fully_conforming_sheet_scores_100():
    result = score_sheet(rules_of("zpic").scoring, sheet())
    assert (result.verdict.score, result.verdict.grade, result.applicable) == (
        Decimal("100.0"), "五星级", 100)


def test_not_applicable_product_service_items_leave_the_applicable_total():
    result = score_sheet(rules_of("dni-spshfw").scoring, sheet(
        recycling={"not_applicable": True}, delivery={"not_applicable": True},
        repair={"result": "nonconforming"}))
    assert result.applicable == 94
    assert result.items_score == Decimal("89.3")  # 84 / 94 x 100 = 89.36, printed cut


def test_items_outside_product_service_cannot_be_not_applicable():
    with raises_en(RuleViolation, match="'staffing'.*cannot be not applicable.*商品服务"):
        score_sheet(rules_of("cacq").scoring, sheet(staffing={"not_applicable": True}))


def test_sampled_items_lose_points_in_proportion_to_the_nonconforming_share():
    result = score_sheet(rules_of("xbht").scoring, sheet(
        repair={"sampled": 8, "nonconforming": 2}, staffing={"nonconforming_share": 0.5},
        organisation={"earned": 3.5}))
    earned = {s.item.id: s.earned for s in result.items}
    assert (earned["repair"], earned["staffing"], earned["organisation"]) == (7.5, 3, 3.5)
    assert result.verdict.score == Decimal("94.0")  # 100 - 2.5 - 3 - 0.5


def test_deductions_and_one_bonus_apply_outside_the_item_points():
    result = score_sheet(rules_of("dni-sh").scoring, sheet(
        repair={"result": "nonconforming"}, deductions=["a", "b"], bonus="industry first"))
    assert result.items_score == Decimal("90.0")
    assert (result.verdict.score, result.verdict.grade) == (Decimal("89.0"), "三星级")


def test_more_than_one_bonus_is_refused():
    with raises_en(RuleViolation, match="at most 1"):
        score_sheet(rules_of("cacq").scoring, sheet(bonus=["x", "y"]))


def test_the_example_score_sheet_scores_as_documented():
    result = score_sheet(rules_of("zpic").scoring, json.loads(EXAMPLE.read_text("utf-8")))
    data = result.as_dict()
    assert (data["items_score"], data["score"], data["grade"], data["passed"]) == (
        87.1, 86.1, "三星级", True)
    assert data["applicable_points"] == 98


@pytest.mark.parametrize(
    "bad,match",
    [
        ([], "JSON object"),
        ({"items": "all good"}, "'items' must be a list"),
        ({"items": [{"result": "conforming"}]}, "'item' id"),
        ({"items": [{"item": "speed", "result": "conforming"}]}, "unknown item 'speed'"),
        (sheet(extra=1), "unknown key"),
        ({"items": [{"item": "repair", "result": "conforming"}]}, "missing organisation"),
        ({"items": [{"item": "repair", "result": "conforming"}] * 2}, "listed twice"),
        (sheet(repair={"result": "conforming", "earned": 3}), "exactly one of"),
        (sheet(repair={"nonconforming": 3}), "exactly one of"),
        (sheet(repair={"result": "ok"}), "'conforming' or 'nonconforming'"),
        (sheet(repair={"earned": 11}), "outside 0-10"),
        (sheet(repair={"sampled": 3, "nonconforming": 4}), "nonconforming <= sampled"),
        (sheet(repair={"sampled": 3.5, "nonconforming": 1}), "whole numbers"),
        (sheet(repair={"nonconforming_share": 1.5}), "outside 0-1"),
        (sheet(repair={"not_applicable": False}), "must be true"),
        (sheet(deductions=[""]), "list of finding texts"),
        (sheet(service_feature_result="good"), "must be a number"),
    ],
)
def test_a_malformed_score_sheet_is_refused_with_a_clear_message(bad, match):
    with raises_en(InputError, match=match):
        score_sheet(rules_of("zpic").scoring, bad)


@given(shares=st.lists(st.fractions(0, 1), min_size=len(ITEMS), max_size=len(ITEMS)),
       deductions=st.integers(0, 8), bonus=st.booleans(), pid=st.sampled_from(BY_SCORE))
def test_sheet_scores_stay_in_range_and_pass_exactly_by_the_rule(shares, deductions, bonus, pid):
    entries = {i: {"nonconforming_share": float(s)} for i, s in zip(ITEMS, shares, strict=True)}
    result = score_sheet(rules_of(pid).scoring, sheet(
        **entries, deductions=["d"] * deductions, bonus=["b"] if bonus else [],
        service_feature_result=100))
    v = result.verdict
    assert 0 <= v.score <= 101
    assert v.passed == (v.score >= 70 and deductions < 5)
