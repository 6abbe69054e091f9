"""The reporting ledger's entries: for each logged certificate event, the report item the
regulator (认监委) must be told of and, for a revocation or cancellation, the return to chase.

``events.append`` calls ``record_event`` in the event's own transaction, so either both exist
or neither does; this module therefore appends nothing to the log itself (that is
``certdesk.store.reporting``: batches, sending, returns).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from certdesk.common.errors import NotFound
from certdesk.common.i18n import N_
from certdesk.domain.profiles import Profiles
from certdesk.domain.status import HOLDING
from certdesk.store.models import Certificate, CertificateReturn, Event, ReportItem

CHINA = ZoneInfo("Asia/Shanghai")

REPORTED: dict[str, str] = {
    "certificate.issued": "issued",
    "certificate.reissued": "reissued",
    "certificate.suspend": "suspended",
    "certificate.restore": "restored",
    "certificate.revoke": "revoked",
    "certificate.cancel": "cancelled",
    "certificate.expired": "expired",
}
"""Log kinds the regulator hears of, and the report's word for each (an issue in a later
cycle is a re-certification)."""

TO_RETURN = frozenset({"revoked", "cancelled"})


def report_kind(kind: str, data: Mapping[str, Any]) -> str | None:
    word = REPORTED.get(kind)
    if word == "issued" and int(data.get("cycle") or 0) > 0:
        return "recertified"
    return word


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def event_date(ev: Event, data: Mapping[str, Any]) -> date:
    """The day the event took effect: its ``on`` or issue date, else its log day in China."""
    for key in ("on", "issue_date"):
        if data.get(key):
            return _as_date(data[key])
    at = ev.at if ev.at.tzinfo else ev.at.replace(tzinfo=UTC)
    return at.astimezone(CHINA).date()


def _item(ev: Event, data: Mapping[str, Any], kind: str, cert: Certificate,
          profiles: Profiles) -> ReportItem:
    on = event_date(ev, data)
    reason = data.get("reason") or (f"有效期至 {cert.expiry_date}" if kind == "expired" else None)
    return ReportItem(certificate_number=cert.number, main_number=cert.main_number,
                      event_kind=kind, event_seq=ev.seq, event_date=on, reason=reason,
                      due_date=profiles.get(cert.profile).rules.reporting.due(on))


def _return(ev: Event, data: Mapping[str, Any], kind: str,
            cert: Certificate) -> CertificateReturn:
    return CertificateReturn(certificate_number=cert.number, main_number=cert.main_number,
                             event_kind=kind, event_seq=ev.seq, opened_on=event_date(ev, data))


def _certificate(s: Session, number: str) -> Certificate:
    cert = s.exec(select(Certificate).where(Certificate.number == number)).first()
    if cert is None:  # the event log names a certificate the register does not hold: a bug
        raise NotFound(N_("报送台账：没有证书 {number}"), number=number)
    return cert


def _reported(s: Session, ev: Event, kind: str) -> list[Certificate]:
    """The certificates an event reports: its subject, and for the expiry of a main
    certificate (logged once, for the main) the sub-certificates that expire with it."""
    cert = _certificate(s, ev.subject)
    if kind != "expired" or cert.main_number:
        return [cert]
    subs = s.exec(select(Certificate).where(Certificate.main_number == cert.number,
                                            col(Certificate.status).in_(HOLDING))
                  .order_by(col(Certificate.sub)))
    return [cert, *subs]


def record_event(s: Session, ev: Event, data: Mapping[str, Any],
                 profiles: Profiles | None) -> list[ReportItem]:
    """The report items (and returns to chase) of a just-appended log entry, in its
    session; their due dates by the certificate's profile among ``profiles`` (the caller's:
    a reported event appended without them is a programming error)."""
    kind = report_kind(ev.kind, data)
    if kind is None:
        return []
    if profiles is None:
        raise TypeError(f"{ev.kind} is reported: append it with the install's profiles")
    items = []
    for cert in _reported(s, ev, kind):
        items.append(_item(ev, data, kind, cert, profiles))
        if kind in TO_RETURN:
            s.add(_return(ev, data, kind, cert))
    s.add_all(items)
    return items


def backfill(s: Session, profiles: Profiles) -> tuple[int, int]:
    """Items and returns for logged events that have none (events logged before the ledger
    existed); counts of (items, returns) added. Running it again adds nothing."""
    have_items = set(s.exec(select(ReportItem.event_seq, ReportItem.certificate_number)))
    have_returns = set(s.exec(select(CertificateReturn.event_seq,
                                     CertificateReturn.certificate_number)))
    items = returns = 0
    for ev in s.exec(select(Event).where(col(Event.kind).in_(tuple(REPORTED)))
                     .order_by(col(Event.seq))):
        data = json.loads(ev.data)
        kind = report_kind(ev.kind, data)
        assert kind is not None, "the query keeps the kinds REPORTED names"
        for cert in _reported(s, ev, kind):
            if (ev.seq, cert.number) not in have_items:
                s.add(_item(ev, data, kind, cert, profiles))
                items += 1
            if kind in TO_RETURN and (ev.seq, cert.number) not in have_returns:
                s.add(_return(ev, data, kind, cert))
                returns += 1
    return items, returns


# -- reading the ledger --------------------------------------------------------------------
