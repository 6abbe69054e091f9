"""When a suspended certificate may be restored [CACQ 9.1.3, 9.2.1(3); DNI 6.8.2 1), 6.9.1;
ZPIC 7.2.2, 7.3.1 7); XBHT 8.2.2, 8.3(3)], and how soon after verification a suspension or
revocation is imposed [CACQ 9.1.1, 9.2.1; ZPIC 7.2.1, 7.3.1; XBHT 8.2.1, 8.3].

Pure: the body's ``[suspension]`` spec and the suspension's dates in, a refusal naming the
clause out. Every seed lets the organisation recover only inside the suspension period and
revokes once it has run out, so a late restoration is refused and the message says to
revoke; certdesk does not revoke on its own when asked to restore (the revocation carries
its own notice and reason; ``certdesk lifecycle sweep`` revokes overdue suspensions).
"""

from __future__ import annotations

from datetime import date

from certdesk.common.errors import InputError, RuleViolation
from certdesk.common.i18n import N_
from certdesk.domain.dates import SuspensionSpec, imposition_deadline


def check_restoration(spec: SuspensionSpec, number: str, on: date, *,
                      suspended_on: date | None, suspended_until: date | None) -> None:
    """Refuse restoring ``number`` on ``on`` before its suspension began or after it ended."""
    if suspended_on is not None and on < suspended_on:
        raise RuleViolation(
            N_("证书 {number} 不能于 {on} 恢复：其暂停始于 {start}；恢复不能早于它所结束的暂停 "
               "[{clause}]"), number=number, on=on, start=suspended_on,
            clause=spec.restore_clause)
    if suspended_until is not None and on > suspended_until:
        raise RuleViolation(
            N_("证书 {number} 不能于 {on} 恢复：其暂停期已于 {end} 届满，证书应撤销而不是恢复——"
               "运行 `certdesk status {number} revoke --reason …` 或 `certdesk lifecycle sweep` "
               "[{clause}]"), number=number, on=on, end=suspended_until,
            clause=spec.restore_clause)


def check_imposition(spec: SuspensionSpec, action: str, on: date,
                     verified: date) -> str | None:
    """A suspension or revocation on ``on`` for a ground verified on ``verified``: None when
    in time; when late, the warning text (``late = "warn"``) or a refusal (``"refuse"``)."""
    if verified > on:
        raise InputError(f"verification {verified} is after the {action} date {on}")
    by = imposition_deadline(spec, verified)
    if on <= by:
        return None
    unit = "working days" if spec.working_days else "days"
    clause = spec.clause if action == "suspend" else (spec.revoke_clause or spec.clause)
    text = (f"{action} on {on} is late: the body imposes it within {spec.impose_within_days} "
            f"{unit} of verification ({verified}), by {by} [{clause}]")
    if spec.late == "refuse":
        raise RuleViolation(text)
    return text

