"""What the public may see of a certificate: what the certificate itself states, its
current status, its sub-certificates or main certificate, and the dates of its status
changes. Nothing else: no reasons, no staff names, no notices."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Row, bindparam, select
from sqlmodel import Session, col

from certdesk.common.errors import InputError, NotFound
from certdesk.documents.context import full_scope
from certdesk.domain.numbering import parse
from certdesk.domain.profiles import Profiles
from certdesk.domain.status import effective_status
from certdesk.domain.verdict import Verdict, page_verdict
from certdesk.signing.tokens import TokenClaims, claim_differences, verify_token
from certdesk.store.models import Certificate, Event, Organisation

CHINA = ZoneInfo("Asia/Shanghai")
"""Certificates state Chinese civil dates; an event's UTC time is shown as the day in China."""

PUBLIC_EVENTS = ("issued", "suspend", "restore", "revoke", "cancel", "reissued", "superseded",
                 "expired")


@dataclass(frozen=True)
class Related:
    number: str
    status: str
    site: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    on: date
    event: str
    """One of PUBLIC_EVENTS."""
    by: str | None = None
    """For ``superseded``: the new certificate's number."""


@dataclass(frozen=True)
class PublicCertificate:
    number: str
    number_spaced: str
    status: str
    body_name: str
    body_name_en: str
    body_website: str
    scheme: str
    standards: tuple[str, ...]
    holder: str
    uscc: str
    registered_address: str
    scope: str
    grade: str | None
    sites: tuple[dict, ...]
    site: str | None
    issue_date: date
    reissue_date: date | None
    expiry_date: date
    main: Related | None
    subs: tuple[Related, ...]
    history: tuple[HistoryEntry, ...]
    successor: str | None = None
    checked_on: date = field(default_factory=date.today)

    def as_dict(self) -> dict:
        return asdict(self)


def _day(at: datetime, data: dict) -> date:
    for key in ("on", "issue_date"):
        if data.get(key):
            return date.fromisoformat(str(data[key])[:10])
    at = at if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC"))
    return at.astimezone(CHINA).date()


# Built once: executing the same statement objects again skips SQLAlchemy's compiling and
# its matching of a new statement's columns to the cached one (which cost more than the
# queries themselves).
_RELATED = (col(Certificate.number), col(Certificate.status), col(Certificate.issue_date),
            col(Certificate.expiry_date), col(Certificate.site_address))
_SHOWN = (Certificate.number, Certificate.main_number, Certificate.profile,
          Certificate.holder_name, Certificate.scope, Certificate.grade, Certificate.sites_json,
          Certificate.site_address, Certificate.issue_date, Certificate.reissue_date,
          Certificate.expiry_date, Certificate.status, Certificate.superseded_by,
          Organisation.uscc, Organisation.registered_address)
_CERTIFICATE = (select(*(col(c) for c in _SHOWN))
                .join(Organisation, col(Organisation.id) == Certificate.organisation_id)
                .where(col(Certificate.number) == bindparam("number")))
_MAIN = select(*_RELATED).where(col(Certificate.number) == bindparam("number"))
_SUBS = (select(*_RELATED).where(col(Certificate.main_number) == bindparam("number"))
         .order_by(col(Certificate.sub)))
_HISTORY = (select(col(Event.kind), col(Event.data), col(Event.at))
            .where(col(Event.subject) == bindparam("number"),
                   col(Event.kind).in_([f"certificate.{k}" for k in PUBLIC_EVENTS]))
            .order_by(col(Event.seq)))


def _history(conn: Connection, number: str) -> tuple[HistoryEntry, ...]:
    out = []
    for ev in conn.execute(_HISTORY, {"number": number}):
        data = json.loads(ev.data)
        kind = ev.kind.removeprefix("certificate.")
        out.append(HistoryEntry(_day(ev.at, data), kind, data.get("by") if kind == "superseded"
                                else None))
    return tuple(out)


def public_certificate(s: Session, profiles: Profiles, number: str,
                       today: date | None = None) -> PublicCertificate:
    """The public view of certificate ``number``; ``InvalidNumber`` or ``NotFound`` if none.

    Three queries in one read transaction — the certificate with its organisation, its main
    or sub-certificates, its history — of the columns shown only: loading whole rows into
    ORM objects cost four times as much (an answer is built again whenever the log moves)."""
    today = today or datetime.now(CHINA).date()
    canonical = str(parse(number))
    conn = s.connection()
    cert = conn.execute(_CERTIFICATE, {"number": canonical}).first()
    if cert is None:
        raise NotFound(f"no certificate {canonical}")
    profile = profiles.get(cert.profile)

    def status(c: Row) -> str:
        return effective_status(c.status, c.expiry_date, today, issued=c.issue_date)

    main = subs = None
    if cert.main_number:
        row = conn.execute(_MAIN, {"number": cert.main_number}).one()
        main = Related(row.number, status(row))
    else:
        subs = tuple(Related(c.number, status(c), c.site_address)
                     for c in conn.execute(_SUBS, {"number": cert.number}))
    history = _history(conn, cert.number)
    return PublicCertificate(
        number=cert.number, number_spaced=parse(cert.number).format(spaced=True),
        status=status(cert), body_name=profile.body.name, body_name_en=profile.body.name_en,
        body_website=profile.body.website, scheme=profile.scheme.name,
        standards=tuple(profile.scheme.standards), holder=cert.holder_name, uscc=cert.uscc,
        registered_address=cert.registered_address, scope=full_scope(profile, cert.scope),
        grade=cert.grade if profile.scheme.graded else None,
        sites=tuple(json.loads(cert.sites_json)) if not cert.main_number else (),
        site=cert.site_address, issue_date=cert.issue_date, reissue_date=cert.reissue_date,
        expiry_date=cert.expiry_date, main=main, subs=subs or (), history=history,
        successor=cert.superseded_by, checked_on=today)


@dataclass(frozen=True)
class TokenResult:
    """What the QR token in a verification URL says about the certificate shown."""

    state: str
    """ok (genuine, matches the record) | differs (genuine, record changed since) | invalid"""
    details: tuple[str, ...] = ()
    kid: str | None = None
    claims: TokenClaims | None = None
    """What a genuine token states (the page shows it next to the record, in its language)."""

    def as_dict(self) -> dict:
        return {"state": self.state, "details": list(self.details), "kid": self.kid}


def check_token(keys: Mapping[str, Ed25519PublicKey], token: str,
                cert: PublicCertificate) -> TokenResult:
    """``token`` checked against ``keys`` (``local_keys``) and the record ``cert``."""
    try:
        found = verify_token(token, cert.number, keys)
    except InputError as exc:
        return TokenResult("invalid", (str(exc),))
    differences = claim_differences(found.claims, cert.holder, cert.issue_date, cert.expiry_date)
    return TokenResult("differs" if differences else "ok", tuple(differences), found.kid,
                       found.claims)


def certificate_page_verdict(cert: PublicCertificate, token: TokenResult | None) -> Verdict:
    """The answer the page leads with: the status today, or the token's warning."""
    return page_verdict(cert.status, number=cert.number, holder=cert.holder,
                        issue_date=cert.issue_date, expiry_date=cert.expiry_date,
                        successor=cert.successor, token=token.state if token else None)
