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
                    f"{f.where}: {f.number} is severe (严重): certification is granted only "
                    "once its corrective action has been verified effective — give "
                    f"verified_on (and corrective_action), or refuse [{clause}]")
            if f.verified_on < audit_end:
                raise InputError(f"{f.where}: verified_on {f.verified_on} is before the "
                                 f"audit ended ({audit_end})")
            if f.verified_on > decision:
                raise RuleViolation(
                    f"{f.where}: {f.number} was verified on {f.verified_on}, after the "
                    f"decision ({decision}): verify before deciding [{clause}]")
            if f.verified_on > deadline:
                raise RuleViolation(
                    f"{f.where}: {f.number} was verified on {f.verified_on}, after its "
                    f"close-out deadline {deadline}: certification is not granted [{clause}]")
        if not (f.corrective_action or "").strip():
            raise RuleViolation(
                f"{f.where}: {f.number}: the organisation's corrective action (or its plan) "
                f"must be reviewed and accepted before granting — give corrective_action "
                f"[{clause}]")
