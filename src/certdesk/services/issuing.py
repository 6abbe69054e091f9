"""Issuing certificates: number → Word → PDF/A → certification signature → archive.

The number is drawn in its own short transaction (so concurrent issuers do not wait on a
whole conversion); if anything after that fails, the number is recorded void with the
reason, so a gap in the sequence is always explained and never reused. Template problems
are found by a dry run *before* a number is drawn.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from certdesk.common import clock
from certdesk.common.batch import reason, run_jobs
from certdesk.common.errors import (
    AlreadyHeld,
    ArchiveError,
    CertdeskError,
    InputError,
    RuleViolation,
)
from certdesk.common.i18n import N_
from certdesk.common.proc import process_tag
from certdesk.common.settings import Settings, get_settings
from certdesk.common.signals import signals_held
from certdesk.documents.context import CertificateFacts, certificate_context
from certdesk.documents.converter import Converter
from certdesk.documents.merge import Part, convert_many
from certdesk.documents.qr import QR_WIDTH_MM, qr_png, verify_url
from certdesk.documents.render import Image, render_docx
from certdesk.domain.dates import CertificateDates, certificate_dates
from certdesk.domain.guards import not_after_today
from certdesk.domain.numbering import CertNumber, parse
from certdesk.domain.profiles import Profile, Profiles
from certdesk.domain.spec import Audit
from certdesk.domain.status import ENDED, HOLDING, STATUS_LABELS, CertStatus
from certdesk.services.inputs import OrganisationInput
from certdesk.services.publisher import Publisher, body_signature
from certdesk.services.successor import PREFIX as SUCCESSOR_PREFIX
from certdesk.signing.pdf import SignatureSpec
from certdesk.signing.tokens import TokenClaims, current_token
from certdesk.store import events
from certdesk.store.allocate import allocate, peek, taken, void
from certdesk.store.blobs import sha256_hex
from certdesk.store.db import retrying, session_scope
from certdesk.store.models import Certificate, Organisation, VoidNumber, utcnow
from certdesk.store.rows import stored_id
from certdesk.store.state import next_due_date

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
class IssuePreview:
    """What issuing would do (a dry run): the dates, and the numbers that would be drawn
    next — not drawn, so another issue may take them first."""

    organisation: str
    uscc: str
    numbers: tuple[str, ...]
    """Main certificate first, then one per site."""
    dates: CertificateDates
    supersedes: str | None = None

    def as_dict(self) -> dict:
        d = self.dates
        return {"dry_run": True, "organisation": self.organisation, "uscc": self.uscc,
                "next_number": self.numbers[0], "next_numbers": list(self.numbers),
                "decision_date": d.decision_date, "issue_date": d.issue_date,
                "effective_from": d.effective_from, "expiry_date": d.expiry_date,
                "late_recertification": d.late_recertification, "supersedes": self.supersedes}


@dataclass(frozen=True)
class Skipped:
    """An organisation a batch left alone: it already holds ``number``."""

    organisation: str
    number: str
    reason: str
    held: AlreadyHeld | None = field(default=None, compare=False)
    """The refusal itself, for a face to show in its reader's language."""

    def text(self, lang: str) -> str:
        return self.held.text(lang) if self.held is not None else self.reason

    def as_dict(self) -> dict:
        return {"organisation": self.organisation, "number": self.number, "reason": self.reason}


@dataclass(frozen=True)
class BatchResult:
    issued: list[IssuedCertificate]
    failed: list[tuple[str, str]]
    """(organisation, one-line reason) per failed record."""
    interrupted: bool = False
    skipped: tuple[Skipped, ...] = ()


@contextlib.contextmanager
def _column(name: str) -> Iterator[None]:
    """A refusal inside names the input column at fault (``field``), as the file's reading
    does: a file's per-row preview shows it."""
    try:
        yield
    except CertdeskError as exc:
        exc.field = name  # type: ignore[attr-defined]  # as InputError has it
        raise


def held_certificate(s: Session, profile_id: str, uscc: str, on: date) -> Certificate | None:
    """The main certificate of scheme ``profile_id`` that organisation ``uscc`` holds on
    ``on``: valid, suspended or not yet valid. One current certificate per organisation and
    scheme: ``issue`` skips such an organisation and ``certify`` refuses it; a second
    certificate comes only by re-certification, re-issue or scope change."""
    return s.exec(select(Certificate).join(Organisation).where(
        Organisation.uscc == uscc, Certificate.profile == profile_id,
        col(Certificate.main_number).is_(None),
        col(Certificate.status).in_(HOLDING),
        Certificate.expiry_date >= on).order_by(col(Certificate.expiry_date).desc())).first()


class Stopped(CertdeskError):
    """The batch was asked to stop before this organisation's certificates were stored."""

    def __init__(self) -> None:
        super().__init__("interrupted")


def qr_url(settings: Settings, facts: CertificateFacts) -> str:
    """The URL in an issued certificate's QR code: the public page and ``?t=`` a token that
    signs number, holder and dates (``signing.tokens``)."""
    claims = TokenClaims(facts.number, facts.holder_name, facts.issue_date, facts.expiry_date)
    return f"{verify_url(settings.public_url, facts.number)}?t={current_token(settings, claims)}"


class Issuer(Publisher):
    """Issues certificates for one body profile. Thread-safe; use as a context manager."""

    def __init__(self, profile: Profile, *, settings: Settings | None = None,
                 engine: Engine | None = None, pool: Converter | None = None,
                 actor: str = "issuer", allow_unverified: bool = False,
                 shared: Publisher | None = None, profiles: Profiles | None = None) -> None:
        """``allow_unverified``: the caller (the demo) opts in to a profile's unconfirmed
        values, as ``CERTDESK_ALLOW_UNVERIFIED_PROFILE`` does for the install. ``shared``:
        a running publisher to issue with (see ``Publisher``)."""
        if shared is not None:
            settings = shared.settings
        # Checked before the converter pool and the keys are opened (nothing to close).
        profile.require_verified(
            allow_unverified or (settings or get_settings()).allow_unverified_profile)
        super().__init__(settings=settings, engine=engine, pool=pool, shared=shared,
                         profiles=profiles)
        self.profile = profile
        self.actor = actor
        self.template = profile.template_path("certificate")
        self.sub_template = profile.template_path("sub_certificate")
        self._stop = threading.Event()
        self._dry_rendered: set[tuple] = set()
        """Context shapes a dry run has rendered without error (see ``_dry_render``)."""

    def stop(self) -> None:
        """Ask running issues to stop at their next safe point (their numbers are voided)."""
        self._stop.set()

    def _checkpoint(self) -> None:
        if self._stop.is_set():
            raise Stopped()

    # -- one organisation ----------------------------------------------------------------

    def _facts(self, org: OrganisationInput, number: CertNumber,
               dates: CertificateDates) -> list[CertificateFacts]:
        sites: tuple[dict[str, Any], ...]
        sites = tuple({"address": s.address, "scope": s.scope, "temporary": s.temporary,
                       **({"name": s.name} if s.name else {})} for s in org.sites)
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

    def _refuse_held(self, s: Session, org: OrganisationInput) -> None:
        cert = held_certificate(s, self.profile.id, org.uscc, org.decision_date)
        if cert is not None:
            raise AlreadyHeld(org.name, cert.number, STATUS_LABELS[cert.status][0],
                              cert.expiry_date)

    def refuse_held(self, org: OrganisationInput) -> None:
        """``AlreadyHeld`` when ``org`` holds a current certificate of this scheme."""
        with Session(self.engine) as s:
            self._refuse_held(s, org)

    def _check(self, org: OrganisationInput,
               previous: Certificate | None = None) -> CertificateDates:
        today = clock.today()
        with _column("decision_date"):
            not_after_today(org.decision_date, "决定日期 decision date" if previous is None
                            else "再认证决定日期 re-certification decision date", today)
        if org.issue_date is not None:
            with _column("issue_date"):
                not_after_today(org.issue_date, "发证日期 issue date", today)
        if self.profile.scheme.graded:
            grades = self.profile.rules.scoring.grade_names
            with _column("grade"):
                if not org.grade:
                    raise InputError(N_("{name}：认证方案 {profile} 须填写等级（{grades}）"),
                                     name=org.name, profile=repr(self.profile.id),
                                     grades=" / ".join(grades))
                if org.grade not in grades:
                    raise InputError(N_("{name}：等级 {grade} 不在 {grades} 之列"),
                                     name=org.name, grade=repr(org.grade),
                                     grades=" / ".join(grades))
        if previous is None:
            return certificate_dates(self.profile.rules.dates, Audit.INITIAL,
                                     org.decision_date, issue=org.issue_date)
        return certificate_dates(self.profile.rules.dates, Audit.RECERTIFICATION,
                                 org.decision_date, issue=org.issue_date,
                                 previous_expiry=previous.expiry_date)

    def _draw(self, s: Session, dates: CertificateDates, previous: Certificate | None, *,
              dry_after: int | None = None) -> CertNumber:
        """Draw the number; with ``dry_after`` only say which one would be drawn after that
        many others (``peek``), drawing none."""
        def fresh(cycle: int = 0) -> CertNumber:
            if dry_after is None:
                return allocate(s, self.profile, dates.issue_date.year, cycle=cycle)
            return peek(s, self.profile, dates.issue_date.year, cycle=cycle, after=dry_after)

        if previous is None:
            return fresh()
        cycle = parse(previous.number).cycle + 1
        if self.profile.numbering.recert_redraw:
            return fresh(cycle)
        kept = parse(previous.number).next_cycle()  # same body/year/sequence, R+1 [XBHT A.4]
        if taken(s, str(kept)):
            raise RuleViolation(N_("编号 {number} 已被使用或已作废 [XBHT A.4, A.5]"), number=kept)
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
        if previous is None:
            self.refuse_held(org)  # re-checked under the write lock before storing
        self._dry_render(org, dates)
        self._checkpoint()
        number: CertNumber | None = None
        try:
            # a stop request between the draw's commit and here is raised once ``number``
            # is known, so it is voided below (it used to be left for `archive recover`)
            with signals_held():
                number = retrying(lambda: self._draw_logged(dates, previous))
            out, kept, exports = self._produce_and_store(org, number, dates, previous,
                                                         list(records), decision)
        except BaseException as exc:
            if number is None:
                raise
            why, drawn = _void_reason(exc), number
            # If even this fails (the database is gone), `archive recover` voids it later:
            # the draw's log entry names this process, which is then no longer running.
            retrying(lambda: self._void(drawn, why))
            raise
        self.export_all(exports)  # after the commit: a failure here voids nothing issued
        return out, kept

    def _draw_logged(self, dates: CertificateDates, previous: Certificate | None) -> CertNumber:
        with session_scope(self.engine) as s:
            number = self._draw(s, dates, previous)
            events.append(s, "number.drawn", str(number),
                          {"profile": self.profile.id, "process": process_tag()}, self.actor)
        return number

    def _void(self, number: CertNumber, why: str) -> None:
        with session_scope(self.engine) as s:
            # A commit whose answer was lost with the connection may have gone through.
            issued = s.exec(select(Certificate.id).where(Certificate.number == str(number)))
            if s.get(VoidNumber, str(number)) is None and issued.first() is None:
                void(s, number, f"issue failed: {why}")
                events.append(s, "number.void", str(number), {"reason": why}, self.actor)

    def _dry_render(self, org: OrganisationInput, dates: CertificateDates) -> None:
        """Render main + one sub with a placeholder number: template errors before a draw.

        The context is always built (it refuses bad input, such as unnamed sites); the
        document is rendered once per template and context shape (the keys, the type and
        truth of each value, the length of lists): a template fails on a missing key, a
        None or a missing list item in the branches its ``if``s take, not on the wording
        of a value, so a second organisation of the same shape would only repeat the
        render. Whatever still fails after the draw voids the number with the reason."""
        placeholder = CertNumber("000", dates.issue_date.year % 100, self.profile.scheme.code,
                                 "0" * (self.profile.numbering.sequence_width - 1) + "1")
        for facts in self._facts(org, placeholder, dates)[:2]:
            template, context = self.context_for(facts, None)
            key = (template, template.stat().st_mtime_ns, _shape(context))
            if key not in self._dry_rendered:
                render_docx(template, context)
                self._dry_rendered.add(key)

    def preview(self, org: OrganisationInput, previous: Certificate | None = None, *,
                after: int = 0) -> IssuePreview:
        """Everything ``issue`` checks, and the numbers it would draw (after ``after`` other
        previews of the same batch); nothing drawn, rendered to disk or stored."""
        dates = self._check(org, previous)
        if previous is None:
            self.refuse_held(org)
        self._dry_render(org, dates)
        with Session(self.engine) as s:
            number = self._draw(s, dates, previous, dry_after=after)
        return IssuePreview(org.name, org.uscc,
                            tuple(f.number for f in self._facts(org, number, dates)), dates,
                            previous.number if previous else None)

    def _produce_and_store(self, org: OrganisationInput, number: CertNumber,
                           dates: CertificateDates, previous: Certificate | None,
                           records: list[Document], decision: dict | None,
                           produced: list[tuple[CertificateFacts, bytes, str]] | None = None,
                           ) -> tuple[list[IssuedCertificate], list[Kept],
                                      list[tuple[str, bytes]]]:
        """Produce (unless a batch already did: ``produced``) and store the certificates;
        returns them, the records kept, and the out/ copies to write once committed."""
        if produced is None:
            spec = body_signature(self.profile, "认证证书")
            produced = []
            for facts in self._facts(org, number, dates):
                self._checkpoint()
                produced.append((facts, *self.certificate_pdf(facts, spec)))
        self._checkpoint()
        out, exports = [], []
        with session_scope(self.engine) as s:
            if s.get(VoidNumber, str(number)) is not None:
                raise ArchiveError(N_("编号 {number} 在签发过程中被作废（另一台主机执行了 archive "
                                      "recover？）；请重新签发"), number=number)
            org_row = _upsert_organisation(s, org)  # locks the organisation's row
            if previous is None:
                self._refuse_held(s, org)  # a parallel issue for the same organisation won
            else:
                supersede(s, previous.number, str(number), self.actor)
            for facts, signed, url in produced:
                sha = sha256_hex(signed)
                cert = Certificate(
                    number=facts.number, main_number=facts.main_number, profile=self.profile.id,
                    organisation_id=stored_id(org_row.id), sub=parse(facts.number).sub,
                    cycle=number.cycle, holder_name=facts.holder_name, scope=facts.scope,
                    site_address=facts.site["address"] if facts.site else None,
                    sites_json=json.dumps(list(facts.sites), ensure_ascii=False),
                    products_json=json.dumps([] if facts.main_number else list(org.products),
                                             ensure_ascii=False),
                    grade=facts.grade, decision_date=org.decision_date,
                    issue_date=dates.issue_date, effective_from=dates.effective_from,
                    expiry_date=dates.expiry_date, pdf_sha256=sha)
                cert.next_surveillance_due = next_due_date(self.profile.rules.dates, cert, [])
                s.add(cert)
                s.flush()
                self.keep(s, signed, record_type="certificate", filename=f"{facts.number}.pdf",
                          profile=self.profile, organisation_id=org_row.id,
                          certificate_number=facts.number, actor=self.actor)
                events.append(s, "certificate.issued", facts.number, {
                    "sha256": sha, "profile": self.profile.id, "holder": facts.holder_name,
                    "issue_date": dates.issue_date, "expiry_date": dates.expiry_date,
                    "main_number": facts.main_number, "cycle": number.cycle,
                    "late_recertification": dates.late_recertification}, self.actor,
                    profiles=self.profiles)
                exports.append((f"{facts.number}.pdf", signed))
                out.append(IssuedCertificate(facts.number, facts.main_number,
                                             self.out_path(exports[-1][0]), url, sha))
            kept = self._file(s, org_row, records, decision, str(number), exports)
        return out, kept, exports

    def file(self, org: OrganisationInput, records: Iterable[Document],
             decision: dict) -> list[Kept]:
        """Archive a case's records when the decision refuses registration."""
        exports: list[tuple[str, bytes]] = []
        with session_scope(self.engine) as s:
            kept = self._file(s, _upsert_organisation(s, org), list(records), decision, None,
                              exports)
        self.export_all(exports)
        return kept

    def _file(self, s: Session, org_row: Organisation, records: list[Document],
              decision: dict | None, number: str | None,
              exports: list[tuple[str, bytes]]) -> list[Kept]:
        """Archive ``records`` in ``s``; their out/ copies are added to ``exports`` (to
        write after the commit)."""
        kept = []
        for record_type, filename, pdf in records:
            sha = self.keep(s, pdf, record_type=record_type, filename=filename,
                            profile=self.profile, organisation_id=org_row.id,
                            certificate_number=number, actor=self.actor)
            exports.append((filename, pdf))
            kept.append(Kept(record_type, filename, sha, self.out_path(filename)))
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

        On Ctrl-C or SIGTERM (``common.signals``), no new organisation is started; those
        under way stop at their next safe point with their number void (or finish, when
        already storing) before this returns with ``interrupted=True``. A transient database
        error (a dropped connection, SQLite busy) re-runs the organisation after a pause.
        """
        issued: list[IssuedCertificate] = []
        failed: list[tuple[str, str]] = []
        skipped: list[Skipped] = []

        def record(org: OrganisationInput, outcome: Outcome) -> None:
            error = None
            if isinstance(outcome, list):
                issued.extend(outcome)
            elif isinstance(outcome, AlreadyHeld):
                skipped.append(Skipped(org.name, outcome.number, str(outcome), outcome))
            else:
                error = reason(outcome)
                failed.append((org.name, error))
            if on_done:
                on_done(org, outcome if isinstance(outcome, list) else None, error)

        def record_batch(batch: list[OrganisationInput], fut: Future) -> None:  # this thread
            exc = fut.exception()
            for org, outcome in zip(batch, [exc] * len(batch) if exc else fut.result(),
                                    strict=True):
                record(org, outcome)

        # An organisation listed again runs after its first entry has finished, so it is
        # skipped as held instead of racing it for a second number.
        first: list[OrganisationInput] = []
        again: list[OrganisationInput] = []
        seen: set[str] = set()
        for org in orgs:
            (again if org.uscc in seen else first).append(org)
            seen.add(org.uscc)
        interrupted = False
        for part in (first, again):
            if part and not interrupted:
                size = batch_size(len(part), self.pool.size)
                batches = [part[i:i + size] for i in range(0, len(part), size)]
                self.pool.prestart()  # LibreOffice starts while the first batch renders
                interrupted = run_jobs(batches, self.issue_batch, self.pool.size, record_batch,
                                       name="issue", on_interrupt=lambda _exc: self.stop())
        return BatchResult(issued, failed, interrupted, tuple(skipped))

    def issue_batch(self, orgs: list[OrganisationInput]) -> list[Outcome]:
        """Issue for ``orgs`` (initial issues) with one LibreOffice conversion for all their
        certificates (``documents.merge``); the outcome of each, in order. A failure after
        an organisation's draw voids its number only; the others go on."""
        outcomes: list[Outcome | None] = [None] * len(orgs)
        drawn: list[_Drawn] = []
        stored: set[int] = set()
        try:
            for i, org in enumerate(orgs):
                try:
                    self._draw_and_render(i, org, drawn)
                except Exception as exc:
                    outcomes[i] = exc
            ready = [d for d in drawn if outcomes[d.index] is None]
            pdfs = iter(convert_many(self.pool, [Part(facts.number, docx) for d in ready
                                                 for facts, _url, docx in d.docs]))
            for d in ready:
                converted = [next(pdfs) for _ in d.docs]
                try:
                    self._checkpoint()
                    out, exports = self._sign_and_store(d, converted)
                    stored.add(d.index)
                    self.export_all(exports)  # after the commit, as in ``issue_decided``
                    outcomes[d.index] = out
                except Exception as exc:
                    outcomes[d.index] = exc
        except BaseException as exc:
            for d in drawn:
                if outcomes[d.index] is None:
                    outcomes[d.index] = exc
            raise
        finally:
            for d in drawn:
                outcome = outcomes[d.index]
                if d.index not in stored and isinstance(outcome, BaseException):
                    # The other organisations' outcomes must still be reported; a number
                    # left drawn (the database is gone) is voided by `archive recover`.
                    with contextlib.suppress(Exception):
                        retrying(partial(self._void, d.number, _void_reason(outcome)))
        done = [o for o in outcomes if o is not None]
        assert len(done) == len(orgs)  # every organisation failed, was skipped or issued
        return done

    def _draw_and_render(self, index: int, org: OrganisationInput,
                         drawn: list[_Drawn]) -> None:
        """Checks, draw (the number goes into ``drawn`` at once, for the caller to void on
        a failure), then the documents with their real QR codes."""
        self._checkpoint()
        dates = self._check(org)
        retrying(lambda: self.refuse_held(org))
        self._dry_render(org, dates)
        entry = _Drawn(index, org, retrying(lambda: self._draw_logged(dates, None)), dates, [])
        drawn.append(entry)
        for facts in self._facts(org, entry.number, dates):
            self._checkpoint()
            url = qr_url(self.settings, facts)
            entry.docs.append((facts, url, render_docx(*self.context_for(facts, url))))

    def _sign_and_store(self, d: _Drawn, converted: list[bytes | CertdeskError],
                        ) -> tuple[list[IssuedCertificate], list[tuple[str, bytes]]]:
        pdfs = [pdf for pdf in converted if isinstance(pdf, bytes)]
        for pdf in converted:
            if isinstance(pdf, CertdeskError):
                raise pdf
        spec = body_signature(self.profile, "认证证书")
        produced = [(facts, self.sign(pdf, spec), url)
                    for (facts, url, _docx), pdf in zip(d.docs, pdfs, strict=True)]
        out, _kept, exports = retrying(lambda: self._produce_and_store(
            d.org, d.number, d.dates, None, [], None, produced))
        return out, exports


Outcome = list[IssuedCertificate] | BaseException
"""An organisation's certificates, or why it has none."""

BATCH_MAX = 25
"""Organisations of one merged conversion at most (a multi-site one brings a certificate
per site): LibreOffice's cost per extra certificate is small, but a smaller batch starts
converting sooner and keeps both cores busy."""


def batch_size(organisations: int, workers: int) -> int:
    """Organisations per merged conversion: about three batches per converter worker, so
    rendering and signing one batch overlap converting another; 4 to ``BATCH_MAX``."""
    return max(4, min(BATCH_MAX, math.ceil(organisations / (3 * workers))))


@dataclass
class _Drawn:
    """An organisation of a batch whose number is drawn: its rendered documents."""

    index: int
    org: OrganisationInput
    number: CertNumber
    dates: CertificateDates
    docs: list[tuple[CertificateFacts, str, bytes]]
    """(facts, QR URL, .docx) per certificate, main first."""


def _void_reason(exc: BaseException) -> str:
    """Why a drawn number is void: the one line recorded with it."""
    return ("interrupted" if isinstance(exc, KeyboardInterrupt | Stopped)
            else str(exc) if isinstance(exc, CertdeskError) else type(exc).__name__)


def _shape(value: object) -> object:
    """What a template can fail on in a context (see ``Issuer._dry_render``)."""
    if isinstance(value, dict):
        return tuple((k, _shape(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_shape(v) for v in value))
    return type(value).__name__, bool(value)


def supersede(s: Session, number: str, by: str, actor: str) -> None:
    """Mark a main certificate and its subs superseded by ``by`` (re-certification)."""
    rows = s.exec(select(Certificate).where(
        (Certificate.number == number) | (Certificate.main_number == number))).all()
    for row in rows:
        if row.status in ENDED:
            continue
        events.append(s, "certificate.superseded", row.number,
                      {"from": row.status, "by": by}, actor)
        row.status, row.status_reason = CertStatus.SUPERSEDED, f"{SUCCESSOR_PREFIX}{by}"
        row.superseded_by = by
        s.add(row)


def _upsert_organisation(s: Session, org: OrganisationInput) -> Organisation:
    """The organisation's row, created or updated — and locked for the rest of the
    transaction. ``ON CONFLICT DO NOTHING`` waits for a concurrent insert of the same
    credit code instead of failing on it, so the caller's re-check then sees its outcome."""
    s.execute(text("INSERT INTO organisation (uscc, name, registered_address, created) "
                   "VALUES (:u, :n, :a, :c) ON CONFLICT (uscc) DO NOTHING"),
              {"u": org.uscc, "n": org.name, "a": org.registered_address, "c": utcnow()})
    row = s.exec(select(Organisation).where(Organisation.uscc == org.uscc).with_for_update()
                 .execution_options(populate_existing=True)).one()
    row.name, row.registered_address = org.name, org.registered_address
    s.add(row)
    s.flush()
    return row
