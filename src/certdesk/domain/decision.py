"""The certification decision is reviewed and made by people who did not audit
[CACQ 7.10.3, DNI 5.4, ZPIC 4.6.1-4.6.2, XBHT 7.5.1]. Pure: names in, a refusal naming the
clause out. (When it may be taken is a date rule: ``domain.dates.check_decision_date``.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from certdesk.common.errors import InputError, RuleViolation
from certdesk.common.i18n import N_
from certdesk.common.names import person_key
from certdesk.domain.spec import RuleText, build, section


@dataclass(frozen=True)
class DecisionRules:
    clause: str
    """Where the body says decision makers (and the reviewer, 复核) must not be auditors."""
    nc_clause: str = "default (CACQ 7.8.5, 7.10.6(2))"
    """Where the body requires non-conformities closed before granting."""


def decision_rules(text: RuleText) -> DecisionRules:
    """``[decision]`` of a profile's rules (parsed once, when the profile loads)."""
    return build(DecisionRules, section(text, "decision"), text.where("decision"))


def check_independence(rules: DecisionRules, auditors: Iterable[str],
                       decision_makers: Iterable[str], reviewer: str | None = None) -> None:
    makers = [m for m in decision_makers if m.strip()]
    if not makers:
        raise InputError(N_("认证决定至少需要一名决定人员"))
    team = {person_key(a) for a in auditors}
    both = [m for m in makers if person_key(m) in team]
    if both:
        raise RuleViolation(
            f"{'、'.join(both)} audited this organisation and cannot take the certification "
            f"decision: decision makers must not be auditors [{rules.clause}]")
    # Every body holds the review to the same rule: CACQ 7.10.3, DNI 5.4 ("所有参与认证决定
    # 的人员"), ZPIC 4.6.1, XBHT 7.5.1 (the committee approves the report and decides).
    if reviewer and person_key(reviewer) in team:
        raise RuleViolation(
            f"{reviewer} audited this organisation and cannot review it for the decision: "
            f"reviewers must not be auditors [{rules.clause}]")

