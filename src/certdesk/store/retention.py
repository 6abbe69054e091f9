"""How long a record must be kept: a pure function of the body's rule and the record's
facts (values in, values out; the database is read elsewhere).

Rules (``[retention]`` of each profile):

- ``after_end``: ``years`` after the certificate's expiry, or after its revocation or
  cancellation when that came first [CACQ 11.1] — counted from the day the end was
  recorded when it was back-dated to an earlier day;
- ``cycles``: ``cycles`` certification cycles of ``cycle_years`` from the certificate's
  issue date, at most ``cap_years`` [ZPIC 10.2];
- a refused or withdrawn application with no certificate: ``refused_years`` after the
  refusal or withdrawal, kept confidentially [XBHT 7.2.4, DNI 5.2.1];
- a disposal certificate is kept for good: it is the trace of what was disposed of.

Periods count as the Civil Code counts them (民法典 第二百零一条、第二百零二条): from the
day after the anchor, ending on the corresponding day N years later, or on the last day of
that month when it has no such day (an anchor of 29 February ends on 28 February). The
record may be disposed of from the day after that last day.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from certdesk.common.errors import ConfigError
from certdesk.common.i18n import N_
from certdesk.domain.profiles import RetentionSpec

KEPT_FOR_GOOD = frozenset({"disposal_certificate"})


@dataclass(frozen=True)
class CertificateTerm:
    """What retention needs to know about one certificate."""

    number: str
    issue_date: date
    expiry_date: date
    ended_on: date | None = None
    """Effective date of a revocation or cancellation, if any."""
    ended_by: str | None = None
    """``revocation`` | ``cancellation``"""
    recorded_on: date | None = None
    """The day the revocation or cancellation was recorded. A back-dated end never starts
    the period before it: a record cannot become disposable earlier by back-dating."""


@dataclass(frozen=True)
class Closure:
    """An application refused or withdrawn on ``on``."""

    outcome: str
    on: date


@dataclass(frozen=True)
class Retention:
    rule: str
    """after_end | cycles | refused | kept | open"""
    anchor_kind: str
    anchor: date | None
    period: str
    retain_until: date | None
    """The last day the record must be kept; None while it cannot be known, or for good."""
    clause: str
    seed_default: bool = False
    certificate: str | None = None
    confidential: bool = False

    def due(self, on: date) -> bool:
        return self.retain_until is not None and on > self.retain_until

    @property
    def why(self) -> str:
        if self.retain_until is None:
            return f"{self.period} [{self.clause}]"
        default = "; certdesk default, the seed names no period" if self.seed_default else ""
        of = f" of {self.certificate}" if self.certificate else ""
        return (f"{self.period} after the {self.anchor_kind}{of} on {self.anchor} → kept "
                f"until {self.retain_until} [{self.clause}{default}]")

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "anchor_kind": self.anchor_kind, "anchor": self.anchor,
                "period": self.period, "retain_until": self.retain_until,
                "clause": self.clause, "seed_default": self.seed_default,
                "certificate": self.certificate, "confidential": self.confidential,
                "why": self.why}


def add_years(day: date, years: int) -> date:
    """The corresponding day ``years`` later; the month's last day when there is none."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def _years(n: int) -> str:
    return f"{n} year" + ("s" if n != 1 else "")


def _for_certificate(spec: RetentionSpec, cert: CertificateTerm) -> Retention:
    if spec.rule == "cycles":
        years = spec.cycles * spec.cycle_years
        if spec.cap_years is not None:
            years = min(years, spec.cap_years)
        period = f"{spec.cycles} cycles of {_years(spec.cycle_years)}" + (
            f", at most {_years(spec.cap_years)}" if spec.cap_years is not None else "")
        return Retention("cycles", "issue", cert.issue_date, f"{period} = {_years(years)}",
                         add_years(cert.issue_date, years), spec.clause, spec.seed_default,
                         cert.number)
    if spec.rule == "after_end":
        ended_on = cert.ended_on
        if ended_on is not None and cert.recorded_on is not None:
            ended_on = max(ended_on, cert.recorded_on)
        ended_first = ended_on is not None and ended_on < cert.expiry_date
        kind, anchor = ((cert.ended_by or "end"), ended_on) if ended_first else \
            ("expiry", cert.expiry_date)
        assert anchor is not None, "ended first: ended_on is set"
        if ended_first and ended_on != cert.ended_on:
            kind = f"recording of the {kind} (effective {cert.ended_on})"
        return Retention("after_end", kind, anchor, _years(spec.years),
                         add_years(anchor, spec.years), spec.clause, spec.seed_default,
                         cert.number)
    raise ConfigError(N_("未知的保存期规则 {rule}（应为 after_end 或 cycles）"),
                      rule=repr(spec.rule))


def _for_closure(spec: RetentionSpec, closure: Closure) -> Retention:
    return Retention("refused", f"{closure.outcome} application", closure.on,
                     _years(spec.refused_years), add_years(closure.on, spec.refused_years),
                     spec.refused_clause, confidential=True)


def retention(spec: RetentionSpec, record_type: str, certificates: Sequence[CertificateTerm],
              closure: Closure | None = None) -> Retention:
    """How long a record must be kept.

    ``certificates`` are those the record belongs to: its own certificate, or for a record
    filed under the client only, every certificate of that client. With several candidates
    the latest end wins (a record is never disposed of while any period still runs).
    """
    if record_type in KEPT_FOR_GOOD:
        return Retention("kept", "disposal", None, "kept for good", None,
                         "certdesk: the trace of a disposal outlives it")
    candidates = [_for_certificate(spec, c) for c in certificates]
    if closure is not None:
        candidates.append(_for_closure(spec, closure))
    if not candidates:
        return Retention("open", "certification", None,
                         "kept until a certificate or a refusal or withdrawal decides the "
                         "period", None, spec.clause, spec.seed_default)
    return max(candidates, key=_until)


def _until(r: Retention) -> date:
    assert r.retain_until is not None, "a certificate's or a closure's period has an end"
    return r.retain_until


def earliest_retain_until(spec: RetentionSpec, record_type: str,
                          certificates: Sequence[CertificateTerm], closure: Closure | None,
                          today: date) -> date | None:
    """The earliest last day the record could still get, if every running certificate were
    revoked today or, with nothing decided yet, the application were refused today.

    Object lock keeps a blob until then and no longer, so it never blocks a lawful
    disposal; None means nothing bounds it (kept for good)."""
    if record_type in KEPT_FOR_GOOD:
        return None
    if not certificates and closure is None:
        refused = retention(spec, record_type, [], Closure("refused", today))
        issued_and_ended = retention(spec, record_type, [CertificateTerm("", today, today)])
        return min(_until(refused), _until(issued_and_ended))
    ended_today = [c if c.ended_on is not None else
                   replace(c, ended_on=min(today, c.expiry_date), ended_by="revocation")
                   for c in certificates]
    return retention(spec, record_type, ended_today, closure).retain_until
