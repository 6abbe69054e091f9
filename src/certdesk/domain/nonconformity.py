"""Non-conformities closed before certification is granted [CACQ 7.8.5, 7.10.6(2);
XBHT 7.5.2.2; DNI and ZPIC: CACQ's rule as default].

Pure: the findings of an audit, its end, the decision date and the close-out deadline in;
a refusal naming the finding and the clause out. A severe (严重) non-conformity needs its
corrective action verified effective — after the audit, by the decision and within the
close-out deadline; a minor (轻微) one needs the organisation's corrective action (or its
plan) reviewed and accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from certdesk.common.errors import InputError, RuleViolation
from certdesk.common.i18n import N_

SEVERE = "严重"


@dataclass(frozen=True)
class Finding:
    where: str
    """Where it is stated (file, case, entry), for messages."""
    number: str
    severity: str
    corrective_action: str | None = None
    verified_on: date | None = None
    """The day the body verified the corrective action effective."""


def check_closed_for_grant(findings: Iterable[Finding], *, audit_end: date, decision: date,
                           deadline: date, clause: str) -> None:
    """Refuse granting while a finding is not closed as the body requires."""
    for f in findings:
        if f.severity == SEVERE:
            if f.verified_on is None:
                raise RuleViolation(
                    N_("{where}：{number} 为严重不符合：须待其纠正措施经验证有效后方可批准认证——"
                       "请给出 verified_on（及 corrective_action），或不予批准 [{clause}]"),
                    where=f.where, number=f.number, clause=clause)
            if f.verified_on < audit_end:
                raise InputError(N_("{where}：verified_on {verified} 早于审核结束日期"
                                    "（{audit_end}）"),
                                 where=f.where, verified=f.verified_on, audit_end=audit_end)
            if f.verified_on > decision:
                raise RuleViolation(
                    N_("{where}：{number} 的验证日期 {verified} 晚于认证决定日期（{decision}）："
                       "须先验证再作决定 [{clause}]"),
                    where=f.where, number=f.number, verified=f.verified_on, decision=decision,
                    clause=clause)
            if f.verified_on > deadline:
                raise RuleViolation(
                    N_("{where}：{number} 的验证日期 {verified} 晚于其关闭期限 {deadline}："
                       "不予批准认证 [{clause}]"),
                    where=f.where, number=f.number, verified=f.verified_on, deadline=deadline,
                    clause=clause)
        if not (f.corrective_action or "").strip():
            raise RuleViolation(
                N_("{where}：{number}：组织的纠正措施（或其计划）须经评审并接受后方可批准认证——"
                   "请给出 corrective_action [{clause}]"),
                where=f.where, number=f.number, clause=clause)
