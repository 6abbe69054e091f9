"""The steps of a certification case read each other's typed results, not the formatted
template contexts: the plan takes the programme's man-days as a number, the decision the
plan's leader by role and the report's verdict as it is (no re-parsed score)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from certdesk.common.errors import InputError
from certdesk.common.settings import get_settings
from certdesk.documents.kinds import Build, kind
from certdesk.documents.notices import WORDING, Notice, NoticeCertificate, notice_context
from certdesk.documents.results import Decision, Plan, Programme, Report
from certdesk.services.certification import prepare
from tests.shipped import SHIPPED

REPO = Path(__file__).resolve().parents[2]
CASE = json.loads((REPO / "examples/certification/case.json").read_text(encoding="utf-8"))
TODAY = date(2026, 11, 23)


def _results(case: dict, profile: str = "xbht") -> dict[str, object]:
    job = Build(SHIPPED.get(profile), get_settings(), 1, TODAY)
    return {st.kind: st.rendition.result for st in prepare(job, case, "case.json").steps}


def test_the_plan_takes_the_programmes_initial_man_days_as_a_number():
    results = _results(CASE)
    programme, plan = results["programme"], results["plan"]
    assert isinstance(programme, Programme) and isinstance(plan, Plan)
    days = programme.first.man_days.man_days
    assert isinstance(days, Decimal) and days > 0
    assert plan.audit["man_days"] == format(days.normalize(), "f")


def test_the_decision_takes_the_report_verdict_and_the_plan_leader_by_role():
    results = _results(CASE)
    report, decision, plan = results["report"], results["decision"], results["plan"]
    assert isinstance(report, Report) and isinstance(decision, Decision)
    assert decision.verdict is report.verdict
    assert isinstance(decision.verdict.score, Decimal)
    assert decision.leader == plan.team.leader.name == "张伟"
    assert decision.leader not in decision.team and "刘洋" in decision.team


def test_a_leader_listed_after_the_other_auditors_still_leads_the_decision():
    case = copy.deepcopy(CASE)
    case["plan"]["team"] = list(reversed(case["plan"]["team"]))
    decision = _results(case)["decision"]
    assert decision.leader == "张伟"


@pytest.mark.parametrize("field", ["score", "deductions", "feature_result"])
def test_a_case_decision_stating_its_own_score_is_refused_naming_the_field(field):
    case = copy.deepcopy(CASE)
    case["decision"][field] = 99
    with pytest.raises(InputError, match=rf"decision\.{field}.*取自评价报告的评分表"):
        _results(case)


def test_status_notices_and_rendered_notices_share_one_context_and_the_profiles_titles():
    profile = SHIPPED.get("cacq")
    retitled = replace(profile, templates={**profile.templates,
                                           "titles": {"suspension_notice": "暂停通知"}})
    notice = Notice(WORDING["suspension"], "CACQ-SUSPEND-20270110-001", date(2027, 1, 10),
                    "未按期接受监督审查", "某公司", "91440300MA5FQ1R27X",
                    (NoticeCertificate("027326FWF0001R000", "家用电器的维修",
                                       date(2029, 3, 10)),), date(2027, 4, 9))
    assert notice_context(retitled, notice)["notice"]["title"] == "暂停通知"
    job = Build(profile, get_settings(), 1, TODAY)
    [rendered] = kind("suspension_notice").contexts(job, {
        "name": "某公司", "uscc": "91440300MA5FQ1R27X", "reason": "未按期接受监督审查",
        "date": "2027-01-10", "months": 3, "reference": "CACQ-SUSPEND-20270110-001",
        "certificates": [{"number": "027326FWF0001R000", "scope": "家用电器的维修",
                          "expiry_date": "2029-03-10"}]}, "notice.json")
    assert rendered.result == notice
    assert rendered.context == notice_context(profile, notice)
