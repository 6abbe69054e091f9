"""Issuing certificates: number → Word → PDF/A → certification signature → archive.

The number is drawn in its own short transaction (so concurrent issuers do not wait on a
whole conversion); if anything after that fails, the number is recorded void with the
reason, so a gap in the sequence is always explained and never reused. Template problems
are found by a dry run *before* a number is drawn.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from archive import events
from archive.blobs import sha256_hex
from archive.db import session_scope
from archive.models import Certificate, Organisation
from common.batch import reason, run_jobs
from common.errors import CertdeskError, InputError, RuleViolation
from common.settings import Settings
from docgen.context import CertificateFacts, certificate_context
from docgen.convert import ConverterPool
from docgen.qr import QR_WIDTH_MM, qr_png, verify_url
from docgen.render import Image, render_docx
from lifecycle.inputs import OrganisationInput
from lifecycle.publisher import Publisher, body_signature
from lifecycle.successor import PREFIX as SUCCESSOR_PREFIX
from numbering.allocate import allocate, taken, void
from numbering.grammar import CertNumber, parse
from rules.dates import CertificateDates, certificate_dates, date_rules
from rules.scoring import scoring_rules
from rules.spec import Audit
from signing.pdf import SignatureSpec
from signing.tokens import TokenClaims, current_token
from templates.profiles import Profile

_PLACEHOLDER_QR = qr_png("dry run")[0]


@dataclass(frozen=True)
class IssuedCertificate:
    number: str
    main_number: str | None
    pdf: Path
    verify_url: str
    sha256: str

    def as_dict(self) -> dict:
        return {"number": self.number, "main_number": self.main_number, "pdf": str(self.pdf),
                "verify_url": self.verify_url, "sha256": self.sha256}


@dataclass(frozen=True)
class Kept:
    """A record archived alongside the certificates (a case's programme, plan, report...)."""

    record_type: str
    filename: str
    sha256: str
    pdf: Path

    def as_dict(self) -> dict:
        return {"record_type": self.record_type, "filename": self.filename,
                "sha256": self.sha256, "pdf": str(self.pdf)}


Document = tuple[str, str, bytes]
"""(record type, file name, signed PDF) of a record to archive with a decision."""


@dataclass(frozen=True)
class BatchResult:
    issued: list[IssuedCertificate]
    failed: list[tuple[str, str]]
    """(organisation, one-line reason) per failed record."""
    interrupted: bool = False


def qr_url(settings: Settings, facts: CertificateFacts) -> str:
    """The URL in an issued certificate's QR code: the public page and ``?t=`` a token that
    signs number, holder and dates (``signing.tokens``)."""
    claims = TokenClaims(facts.number, facts.holder_name, facts.issue_date, facts.expiry_date)
    return f"{verify_url(settings.public_url, facts.number)}?t={current_token(settings, claims)}"


class Issuer(Publisher):
    """Issues certificates for one body profile. Thread-safe; use as a context manager."""

    def __init__(self, profile: Profile, *, settings: Settings | None = None,
                 engine: Engine | None = None, pool: ConverterPool | None = None,
                 actor: str = "issuer") -> None:
        super().__init__(settings=settings, engine=engine, pool=pool)
        self.profile = profile
        self.actor = actor
        self.template = profile.template_path("certificate")
        self.sub_template = profile.template_path("sub_certificate")

    # -- one organisation ----------------------------------------------------------------

    def _facts(self, org: OrganisationInput, number: CertNumber,
               dates: CertificateDates) -> list[CertificateFacts]:
        sites = tuple({"address": s.address, "scope": s.scope, "temporary": s.temporary}
                      for s in org.sites)
        main = CertificateFacts(
            number=str(number), main_number=None, holder_name=org.name, uscc=org.uscc,
            registered_address=org.registered_address, scope=org.scope, grade=org.grade,
            issue_date=dates.issue_date, expiry_date=dates.expiry_date, sites=sites)
        if len(sites) < 2:  # one site: the main certificate names it, no sub-certificate
            return [main]
        subs = [replace(main, number=str(number.with_sub(i)), main_number=str(number),
                        scope=site["scope"], site=site)
                for i, site in enumerate(sites, start=1)]
        return [main, *subs]

    def context_for(self, facts: CertificateFacts, url: str | None) -> tuple[Path, dict]:
        """Template and context of a certificate whose QR code carries ``url``. None is the
        dry run: it only looks for template errors, so any QR image will do (making and
        token-signing a real one costs as much as rendering the document)."""
        png = _PLACEHOLDER_QR if url is None else qr_png(url)[0]
        ctx = certificate_context(self.profile, facts, Image(png, QR_WIDTH_MM))
        return (self.sub_template if facts.main_number else self.template), ctx

    def certificate_pdf(self, facts: CertificateFacts, spec: SignatureSpec) -> tuple[bytes, str]:
        """The signed certificate PDF and the URL its QR code carries."""
        url = qr_url(self.settings, facts)
        return self.signed_pdf(*self.context_for(facts, url), facts.number, spec), url

    def _check(self, org: OrganisationInput,
               previous: Certificate | None = None) -> CertificateDates:
        if self.profile.scheme.graded:
            grades = scoring_rules(self.profile.id).grade_names
            if not org.grade:
                raise InputError(f"{org.name}: a grade is required for profile "
                                 f"{self.profile.id!r} ({' / '.join(grades)})")
            if org.grade not in grades:
                raise InputError(f"{org.name}: grade {org.grade!r} is not one of "
                                 f"{' / '.join(grades)}")
        if previous is None:
            return certificate_dates(date_rules(self.profile.id), Audit.INITIAL,
                                     org.decision_date, issue=org.issue_date)
        return certificate_dates(date_rules(self.profile.id), Audit.RECERTIFICATION,
                                 org.decision_date, issue=org.issue_date,
                                 previous_expiry=previous.expiry_date)

    def _draw(self, s: Session, dates: CertificateDates,
              previous: Certificate | None) -> CertNumber:
        if previous is None:
            return allocate(s, self.profile, dates.issue_date.year)
        cycle = parse(previous.number).cycle + 1
        if self.profile.numbering.recert_redraw:
            return allocate(s, self.profile, dates.issue_date.year, cycle=cycle)
        kept = parse(previous.number).next_cycle()  # same body/year/sequence, R+1 [XBHT A.4]
        if taken(s, str(kept)):
            raise RuleViolation(f"number {kept} is already used or void [XBHT A.4, A.5]")
        return kept

    def issue(self, org: OrganisationInput,
              previous: Certificate | None = None) -> list[IssuedCertificate]:
        """Issue for ``org``; with ``previous`` (a main certificate row) this is its
        re-certification: dates from the previous expiry, number R+1, previous superseded."""
        return self.issue_decided(org, previous)[0]

    def issue_decided(self, org: OrganisationInput, previous: Certificate | None = None, *,
                      records: Iterable[Document] = (), decision: dict | None = None,
                      ) -> tuple[list[IssuedCertificate], list[Kept]]:
        """Issue, archiving ``records`` (the case's signed programme, plan, report and
        decision) and logging ``decision`` in the same transaction as the certificates."""
        dates = self._check(org, previous)
        placeholder = CertNumber("000", dates.issue_date.year % 100, self.profile.scheme.code,
                                 "0" * (self.profile.numbering.sequence_width - 1) + "1")
        for facts in self._facts(org, placeholder, dates)[:2]:  # dry run: main + one sub
            render_docx(*self.context_for(facts, None))
        with session_scope(self.engine) as s:
            number = self._draw(s, dates, previous)
            events.append(s, "number.drawn", str(number), {"profile": self.profile.id},
                          self.actor)
        try:
            return self._produce_and_store(org, number, dates, previous, list(records),
                                           decision)
        except BaseException as exc:
            why = str(exc) if isinstance(exc, CertdeskError) else type(exc).__name__
            with session_scope(self.engine) as s:
                void(s, number, f"issue failed: {why}")
                events.append(s, "number.void", str(number), {"reason": why}, self.actor)
            raise

    def _produce_and_store(self, org: OrganisationInput, number: CertNumber,
                           dates: CertificateDates, previous: Certificate | None,
                           records: list[Document], decision: dict | None,
                           ) -> tuple[list[IssuedCertificate], list[Kept]]:
        spec = body_signature(self.profile, "认证证书")
        produced = [(facts, *self.certificate_pdf(facts, spec))
                    for facts in self._facts(org, number, dates)]
        out = []
        with session_scope(self.engine) as s:
            org_row = _upsert_organisation(s, org)
            if previous is not None:
                supersede(s, previous.number, str(number), self.actor)
            for facts, signed, url in produced:
                sha = sha256_hex(signed)
                s.add(Certificate(
                    number=facts.number, main_number=facts.main_number, profile=self.profile.id,
                    organisation_id=org_row.id, sub=parse(facts.number).sub, cycle=number.cycle,
                    holder_name=facts.holder_name, scope=facts.scope,
                    site_address=facts.site["address"] if facts.site else None,
                    sites_json=json.dumps(list(facts.sites), ensure_ascii=False),
                    grade=facts.grade, decision_date=org.decision_date,
                    issue_date=dates.issue_date, effective_from=dates.effective_from,
                    expiry_date=dates.expiry_date, pdf_sha256=sha))
                s.flush()
                self.keep(s, signed, record_type="certificate", filename=f"{facts.number}.pdf",
                          profile=self.profile.id, organisation_id=org_row.id,
                          certificate_number=facts.number, actor=self.actor)
                events.append(s, "certificate.issued", facts.number, {
                    "sha256": sha, "profile": self.profile.id, "holder": facts.holder_name,
                    "issue_date": dates.issue_date, "expiry_date": dates.expiry_date,
                    "main_number": facts.main_number, "cycle": number.cycle,
                    "late_recertification": dates.late_recertification}, self.actor)
                out.append(IssuedCertificate(facts.number, facts.main_number,
                                             self.export(f"{facts.number}.pdf", signed), url,
                                             sha))
            kept = self._file(s, org_row, records, decision, str(number))
        return out, kept

    def file(self, org: OrganisationInput, records: Iterable[Document],
             decision: dict) -> list[Kept]:
        """Archive a case's records when the decision refuses registration."""
        with session_scope(self.engine) as s:
            return self._file(s, _upsert_organisation(s, org), list(records), decision, None)

    def _file(self, s: Session, org_row: Organisation, records: list[Document],
              decision: dict | None, number: str | None) -> list[Kept]:
        kept = []
        for record_type, filename, pdf in records:
            sha = self.keep(s, pdf, record_type=record_type, filename=filename,
                            profile=self.profile.id, organisation_id=org_row.id,
                            certificate_number=number, actor=self.actor)
            kept.append(Kept(record_type, filename, sha, self.export(filename, pdf)))
        if decision is not None:
            events.append(s, "certification.decided", number or f"client:{org_row.uscc}",
                          {**decision, "profile": self.profile.id, "holder": org_row.name,
                           "records": [k.sha256 for k in kept]}, self.actor)
        return kept

    # -- batches ---------------------------------------------------------------------------

    def issue_many(self, orgs: Iterable[OrganisationInput],
                   on_done: Callable[[OrganisationInput, list | None, str | None], None]
                   | None = None) -> BatchResult:
        """Issue for each organisation; one failure never stops the others.

        On Ctrl-C, no new organisation is started; those under way finish (archived) or
        fail (number void) before this returns with ``interrupted=True``.
        """
        issued: list[IssuedCertificate] = []
        failed: list[tuple[str, str]] = []

        def record(org: OrganisationInput, fut: Future) -> None:  # in this thread
            exc = fut.exception()
            if exc is None:
                issued.extend(fut.result())
            else:
                failed.append((org.name, reason(exc)))
            if on_done:
                on_done(org, fut.result() if exc is None else None,
                        None if exc is None else failed[-1][1])

        interrupted = run_jobs(orgs, self.issue, self.pool.size, record, name="issue")
        return BatchResult(issued, failed, interrupted)


def supersede(s: Session, number: str, by: str, actor: str) -> None:
    """Mark a main certificate and its subs superseded by ``by`` (re-certification)."""
    rows = s.exec(select(Certificate).where(
        (Certificate.number == number) | (Certificate.main_number == number))).all()
    for row in rows:
        if row.status in ("revoked", "cancelled", "superseded"):
            continue
        events.append(s, "certificate.superseded", row.number,
                      {"from": row.status, "by": by}, actor)
        row.status, row.status_reason = "superseded", f"{SUCCESSOR_PREFIX}{by}"
        s.add(row)


def _upsert_organisation(s: Session, org: OrganisationInput) -> Organisation:
    row = s.exec(select(Organisation).where(Organisation.uscc == org.uscc)).first()
    if row is None:
        row = Organisation(uscc=org.uscc, name=org.name, registered_address=org.registered_address)
    else:
        row.name, row.registered_address = org.name, org.registered_address
    s.add(row)
    s.flush()
    return row
