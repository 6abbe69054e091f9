"""Is this PDF a genuine, intact record of ours, and may its certificate be relied on today?

Two independent checks must agree: the signatures validate strictly, and the file's sha256
is an archived record. A certificate (or notice) carries one certification signature
(``signing.pdf.validate``: whole file covered, DocMDP no-changes, our CA, a valid timestamp
if any). A record several people approve carries approval signatures
(``signing.pdf.validate_approvals``: each ours and intact, nothing but signatures added
after each, the final one locking and covering the whole file); only its final, archived
file is genuine — an intermediate revision with fewer signatures is not archived and
answers ``unknown`` (``approval_open``). The answer is a ``domain.verdict.Verdict``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypedDict

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from certdesk.common.settings import Settings
from certdesk.domain.status import CertStatus, effective_status
from certdesk.domain.verdict import Reason, Signer, Verdict, certificate_verdict, reason
from certdesk.signing.pdf import ApprovalReport, SignatureReport
from certdesk.signing.sandbox import bounded
from certdesk.signing.trust import Trust
from certdesk.store.blobs import sha256_hex
from certdesk.store.models import Certificate, Record
from certdesk.store.records import RECORD_TYPES

Inspection = tuple[SignatureReport, ApprovalReport | None]


def verify_pdf(data: bytes, settings: Settings, engine: Engine | Connection,
               today: date | None = None, *, checked: Inspection | None = None) -> Verdict:
    """``checked``: the signature checks of ``data`` already made, e.g. in a bounded worker
    (``signing.sandbox``) for a file from outside; else they are made here."""
    sha = sha256_hex(data)
    report, approvals = checked or Trust.of(settings).inspect(data)
    with Session(engine) as s:
        record = s.exec(select(Record).where(Record.sha256 == sha)).first()
        cert = None
        if record is not None and record.record_type == "certificate":
            cert = s.exec(select(Certificate).where(
                Certificate.number == record.certificate_number)).first()
    found = _Found(sha256=sha, signature=report.as_dict(),
                   signers=_signers(approvals) if approvals else ())
    if approvals is not None:
        return _approval_verdict(approvals, record, found)
    if record is None:
        return Verdict(*_not_ours(report), problems=report.problems, **found)
    if not report.ok:
        return Verdict("tampered", reason("archived_invalid"), number=record.certificate_number,
                       problems=report.problems, **found)
    if cert is None:  # archived, signed, ours — but a notice is no certificate
        return _record_verdict(record, "record", found)
    status = effective_status(cert.status, cert.expiry_date, today, issued=cert.issue_date)
    return certificate_verdict(status, number=cert.number, holder=cert.holder_name,
                               issue_date=cert.issue_date, expiry_date=cert.expiry_date,
                               reissued=cert.pdf_sha256 != sha, successor=_successor(cert),
                               **found)


def verify_file(data: bytes, settings: Settings, engine: Engine | Connection,
                today: date | None = None) -> tuple[Verdict, float]:
    """``verify_pdf`` for a file from outside (upload, ``certdesk verify FILE``): the PDF is
    parsed and validated in a bounded worker (``signing.sandbox``). Returns the verdict and
    the CPU seconds the check cost; raises ``TooComplex`` past the limits."""
    checked = bounded(settings, Trust.of(settings).inspect, data)
    return verify_pdf(data, settings, engine, today, checked=checked.value), checked.cpu_seconds


def _successor(cert: Certificate) -> str | None:
    return cert.superseded_by if cert.status == CertStatus.SUPERSEDED else None


class _Found(TypedDict):
    """What every verdict on a checked file repeats."""

    sha256: str
    signature: dict[str, Any]
    signers: tuple[Signer, ...]


def _not_ours(report: SignatureReport) -> tuple[str, Reason]:
    """Why a file that is not in the archive is not a genuine certificate."""
    if not report.signed:
        return "unknown", reason("unreadable" if report.problems and
                                 report.problems[0].startswith("not a readable PDF")
                                 else "unsigned")
    if not report.intact:
        return "tampered", reason("tampered_content")
    if not report.whole_file:
        return "tampered", reason("tampered_update")
    if not report.trusted:
        return "unknown", reason("untrusted")
    return "unknown", reason("not_archived")


def _kind(record: Record) -> tuple[str, str]:
    zh, _, en = RECORD_TYPES.get(record.record_type, record.record_type).partition(" ")
    return zh, en or zh


def _record_verdict(record: Record, code: str, found: _Found, **params: object) -> Verdict:
    kind = _kind(record)
    return Verdict("genuine", reason(code, kind=kind, **params), kind=record.record_type,
                   kind_label=kind, number=record.certificate_number, **found)


def _signers(approvals: ApprovalReport) -> tuple[Signer, ...]:
    return tuple(Signer(a.role, a.signer_name, a.report.signed_at, a.final,
                        a.report.signer_kid) for a in approvals.approvals)


def _approval_verdict(approvals: ApprovalReport, record: Record | None,
                      found: _Found) -> Verdict:
    problems = approvals.problems
    reports = [a.report for a in approvals.approvals]
    if not all(r.trusted for r in reports):
        return Verdict("unknown", reason("untrusted"), problems=problems, **found)
    if not all(r.intact for r in reports):
        return Verdict("tampered", reason("tampered_content"), problems=problems, **found)
    if problems:
        return Verdict("tampered", reason("tampered_approval"), problems=problems, **found)
    if record is None:
        code = "not_archived" if approvals.final else "approval_open"
        return Verdict("unknown", reason(code), **found)
    if not approvals.final:  # an open record filed as it was: genuine, not complete
        return _record_verdict(record, "approval_open", found)
    return _record_verdict(record, "approved", found, count=len(reports))
