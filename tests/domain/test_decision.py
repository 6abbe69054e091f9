"""The decision maker must not be one of the auditors, whatever the spelling."""

import pytest

from certdesk.common.errors import InputError, RuleViolation
from certdesk.domain.decision import check_independence
from tests.english import raises_en
from tests.shipped import SHIPPED, rules_of


@pytest.mark.parametrize("profile", SHIPPED.ids())
def test_every_profile_names_the_clause_of_its_independence_rule(profile):
    assert rules_of(profile).decision.clause


def test_an_independent_decision_maker_is_accepted():
    check_independence(rules_of("cacq").decision, ["张三", "李四"], ["王五"])


@pytest.mark.parametrize("maker", ["李四", " 李 四 ", "Ｌｉ Si", "li si"])
def test_an_auditor_cannot_decide_even_spelled_differently(maker):
    with pytest.raises(RuleViolation, match=r"CACQ 7\.10\.3"):
        check_independence(rules_of("cacq").decision, ["张三", "李四", "Li Si"], [maker])


def test_a_decision_without_a_decision_maker_is_refused():
    with raises_en(InputError, match="at least one"):
        check_independence(rules_of("zpic").decision, ["张三"], ["  "])


def test_a_reviewer_who_audited_is_refused_like_a_decision_maker():
    with pytest.raises(RuleViolation, match=r"cannot review.*\[ZPIC 4\.6\.1, 4\.6\.2\]"):
        check_independence(rules_of("zpic").decision, ["张三", "李四"], ["王五"], reviewer="张 三")

