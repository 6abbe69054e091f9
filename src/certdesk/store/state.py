"""A certificate's current state in typed columns, and the check that it agrees with the log.

The columns (``status``, ``suspended_on``/``suspended_until``, ``superseded_by``,
``next_surveillance_due``) and the ``surveillance`` rows are written in the transaction of
the log entry recording the change, so readers (the sweep, the due list, verification) need
no JSON out of the log. The log stays the audit trail: ``replay`` derives the same state
from the log alone and ``disagreements`` names each certificate and column where the two
differ (``certdesk log verify``, ``certdesk archive audit``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select
from sqlmodel import Session, select

from certdesk.domain.dates import DateRules, SurveillanceDue, surveillance_plan
from certdesk.domain.profiles import Profiles
from certdesk.domain.status import CertStatus
from certdesk.store.models import REPORT_ARCHIVED, REPORT_PENDING, Certificate, Event, Surveillance

STATUS_KINDS = ("certificate.suspend", "certificate.restore", "certificate.revoke",
                "certificate.cancel")
"""Log entries of a status change whose data carries the new status as ``to``."""


def next_surveillance(rules: DateRules, cert: Certificate,
                      held: Sequence[date]) -> SurveillanceDue | None:
    """The next surveillance of a main certificate's cycle not yet held (``held``: the
    dates of those held, in order; ``rules``: its profile's); None for a sub-certificate
    and once all are held."""
    if cert.main_number:
        return None
    anchor = cert.decision_date if rules.surveillance.anchor == "decision" else cert.issue_date
    plan = surveillance_plan(rules, anchor, first_held=held[0] if held else None)
    return plan[len(held)] if len(held) < len(plan) else None


def next_due_date(rules: DateRules, cert: Certificate, held: Sequence[date]) -> date | None:
    step = next_surveillance(rules, cert, held)
    return step.due_by if step else None


def surveillances(s: Session, number: str) -> list[Surveillance]:
    """The surveillances held of certificate ``number``, in order."""
    return list(s.exec(select(Surveillance).where(Surveillance.certificate_number == number)
                       .order_by(Surveillance.number)))  # type: ignore[arg-type]


def surveillances_of(s: Session, numbers: Select[Any]) -> dict[str, list[Surveillance]]:
    """The surveillances held of each certificate that query ``numbers`` selects the
    number of (one query), in order."""
    out: dict[str, list[Surveillance]] = {}
    rows = s.exec(select(Surveillance).where(
        Surveillance.certificate_number.in_(numbers))  # type: ignore[attr-defined]
        .order_by(Surveillance.certificate_number, Surveillance.number))  # type: ignore[arg-type]
    for row in rows:
        out.setdefault(row.certificate_number, []).append(row)
    return out


def add_surveillance(s: Session, rules: DateRules, cert: Certificate, event: Event,
                     held_on: date, sites: Sequence[int], products: Sequence[str] = (),
                     *, reported: bool = False) -> None:
    """Store the surveillance that ``event`` logs (the sites visited, the products covered,
    whether its report came with it) and move the certificate's next due date on, in the
    caller's transaction."""
    held = [row.held_on for row in surveillances(s, cert.number)] + [held_on]
    s.add(Surveillance(certificate_number=cert.number, number=len(held), held_on=held_on,
                       sites_json=json.dumps(list(sites)),
                       products_json=json.dumps(list(products), ensure_ascii=False),
                       report=REPORT_ARCHIVED if reported else REPORT_PENDING,
                       event_seq=event.seq))
    cert.next_surveillance_due = next_due_date(rules, cert, held)
    s.add(cert)


def archive_report(s: Session, number: str, nth: int) -> None:
    """Mark the ``nth`` surveillance of ``number`` as having its report archived, in the
    transaction of its ``certificate.surveillance_report`` log entry."""
    row = s.get_one(Surveillance, (number, nth))
    row.report = REPORT_ARCHIVED
    s.add(row)


@dataclass
class Held:
    """One surveillance as the log tells it, or as its row stores it."""

    held_on: date
    sites: list[int]
    products: list[str]
    report: str

    @classmethod
    def of(cls, row: Surveillance) -> Held:
        return cls(row.held_on, json.loads(row.sites_json or "[]"),
                   json.loads(row.products_json or "[]"), row.report)


# -- the log's view, and the check --------------------------------------------------------

@dataclass
class Logged:
    """A certificate's state as its log entries tell it."""

    status: str | None = None
    suspended_on: date | None = None
    suspended_until: date | None = None
    superseded_by: str | None = None
    held: list[Held] = field(default_factory=list)

    def apply(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "certificate.issued":
            self.status = CertStatus.VALID
        elif kind == "certificate.superseded":
            self.status, self.superseded_by = CertStatus.SUPERSEDED, data.get("by")
        elif kind == "certificate.surveillance":
            self.held.append(Held(date.fromisoformat(data["held_on"]),
                                  list(data.get("sites", [])), list(data.get("products", [])),
                                  REPORT_ARCHIVED if "report" in data else REPORT_PENDING))
        elif kind == "certificate.surveillance_report" and \
                0 < (nth := int(data.get("number", 0))) <= len(self.held):
            self.held[nth - 1].report = REPORT_ARCHIVED
        elif kind in STATUS_KINDS:
            self.status = data.get("to")
            if self.status == CertStatus.SUSPENDED:
                self.suspended_on = _day(data.get("on"))
                self.suspended_until = _day(data.get("until"))
            elif self.status == CertStatus.VALID:
                self.suspended_on = self.suspended_until = None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def replay(s: Session) -> dict[str, Logged]:
    """Each certificate's state from the log alone."""
    out: dict[str, Logged] = {}
    rows = s.exec(select(Event).where(Event.kind.startswith("certificate."))
                  .order_by(Event.seq).execution_options(yield_per=2000))  # type: ignore[arg-type]
    for ev in rows:
        out.setdefault(ev.subject, Logged()).apply(ev.kind, json.loads(ev.data or "{}"))
    return out


@dataclass(frozen=True)
class Disagreement:
    """A column of certificate ``number`` that says other than the log."""

    number: str
    column: str
    stored: Any
    logged: Any

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "column": self.column,
                "stored": _plain(self.stored), "logged": _plain(self.logged)}

    def __str__(self) -> str:
        return (f"{self.number}: {self.column} is {_plain(self.stored)!r} but the log says "
                f"{_plain(self.logged)!r}")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _visits(held: list[Held]) -> list[tuple[date, list[int]]]:
    return [(h.held_on, h.sites) for h in held]


def compare(rules: DateRules, cert: Certificate, logged: Logged,
            held: list[Surveillance]) -> list[Disagreement]:
    """Where ``cert``'s columns and surveillance rows differ from ``logged``."""
    found = [Disagreement(cert.number, column, getattr(cert, column), want)
             for column, want in (("status", logged.status),
                                  ("suspended_on", logged.suspended_on),
                                  ("suspended_until", logged.suspended_until),
                                  ("superseded_by", logged.superseded_by))
             if getattr(cert, column) != want]
    stored = [Held.of(row) for row in held]
    if _visits(stored) != _visits(logged.held):
        found.append(Disagreement(cert.number, "surveillance",
                                  [h.held_on.isoformat() for h in stored],
                                  [h.held_on.isoformat() for h in logged.held]))
    else:  # the same surveillances: do they say the same of each?
        found += [Disagreement(cert.number, f"surveillance.{column}", mine, want)
                  for column, attr in (("products_json", "products"), ("report", "report"))
                  if (mine := [getattr(h, attr) for h in stored])
                  != (want := [getattr(h, attr) for h in logged.held])]
    want_due = next_due_date(rules, cert, [h.held_on for h in logged.held])
    if cert.next_surveillance_due != want_due:
        found.append(Disagreement(cert.number, "next_surveillance_due",
                                  cert.next_surveillance_due, want_due))
    return found


def disagreements(s: Session, profiles: Profiles) -> list[Disagreement]:
    """Every certificate column (and surveillance row) the log does not bear out (the next
    due date by the certificate's profile among ``profiles``, the install's)."""
    logged = replay(s)
    held: dict[str, list[Surveillance]] = {}
    for row in s.exec(select(Surveillance).order_by(
            Surveillance.certificate_number, Surveillance.number)):  # type: ignore[arg-type]
        held.setdefault(row.certificate_number, []).append(row)
    found: list[Disagreement] = []
    for cert in s.exec(select(Certificate).order_by(Certificate.number)
                       .execution_options(yield_per=1000)):
        found += compare(profiles.get(cert.profile).rules.dates, cert,
                         logged.pop(cert.number, Logged()), held.pop(cert.number, []))
    for number, rows in held.items():  # rows of no certificate at all
        found.append(Disagreement(number, "surveillance", [r.held_on.isoformat() for r in rows],
                                  [h.held_on.isoformat()
                                   for h in logged.get(number, Logged()).held]))
    return found
