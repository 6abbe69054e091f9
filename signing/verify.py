"""Is this PDF a genuine, intact certificate of ours, and what is its status now?

Two independent checks must agree: the certification signature validates strictly (whole
file covered, DocMDP no-changes, our CA, a valid timestamp if any), and the file's sha256
is an archived certificate. A genuine file of a re-issued or re-certified certificate is
*superseded*; one that fails either check is *tampered* (ours, altered) or *unknown*.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from archive.blobs import sha256_hex
from archive.events import latest_data
from archive.models import Certificate, Record
from common.settings import Settings
from rules.status import effective_status
from signing.pdf import SignatureReport
from signing.sandbox import bounded
from signing.trust import Trust


@dataclass(frozen=True)
class Verdict:
    verdict: str
    """genuine | superseded | tampered | unknown"""
    reason: str
    sha256: str
    number: str | None = None
    status: str | None = None
    holder: str | None = None
    issue_date: date | None = None
    expiry_date: date | None = None
    current_number: str | None = None
    signature: SignatureReport | None = None

    @property
    def genuine(self) -> bool:
        return self.verdict in ("genuine", "superseded")

    def as_dict(self) -> dict:
        sig = self.signature
        return {
            "verdict": self.verdict, "genuine": self.genuine, "reason": self.reason,
            "sha256": self.sha256, "number": self.number, "status": self.status,
            "holder": self.holder, "issue_date": self.issue_date,
            "expiry_date": self.expiry_date, "current_number": self.current_number,
            "signature": None if sig is None else sig.as_dict(),
        }


def verify_pdf(data: bytes, settings: Settings, engine: Engine, today: date | None = None,
               *, report: SignatureReport | None = None) -> Verdict:
    """``report``: the signature check of ``data`` already made, e.g. in a bounded worker
    (``signing.sandbox``) for a file from outside; else it is made here."""
    sha = sha256_hex(data)
    if report is None:
        report = Trust.of(settings).check(data)
    with Session(engine) as s:
        record = s.exec(select(Record).where(Record.sha256 == sha)).first()
        cert = successor = None
        if record is not None and record.record_type == "certificate":
            cert = s.exec(select(Certificate).where(
                Certificate.number == record.certificate_number)).first()
        if cert is not None and cert.status == "superseded":
            successor = _successor(s, cert.number)
    if cert is None:
        if record is not None:  # archived, signed, ours — but a notice is no certificate
            return Verdict("unknown", f"an archived {record.record_type} about "
                           f"{record.certificate_number}, not a certificate", sha,
                           signature=report)
        return Verdict(_unknown_verdict(report), _unknown_reason(report), sha, signature=report)
    if not report.ok:
        return Verdict("tampered", "archived file fails signature validation: "
                       + "; ".join(report.problems), sha, cert.number, signature=report)
    status = effective_status(cert.status, cert.expiry_date, today)
    facts = dict(number=cert.number, status=status, holder=cert.holder_name,
                 issue_date=cert.issue_date, expiry_date=cert.expiry_date, signature=report)
    if cert.pdf_sha256 != sha:
        return Verdict("superseded", "a genuine earlier version; the certificate was re-issued",
                       sha, current_number=cert.number, **facts)
    if successor:
        return Verdict("superseded", f"genuine, but replaced on re-certification by {successor}",
                       sha, current_number=successor, **facts)
    return Verdict("genuine", f"genuine certificate, status {status}", sha, **facts)


def verify_file(data: bytes, settings: Settings, engine: Engine,
                today: date | None = None) -> tuple[Verdict, float]:
    """``verify_pdf`` for a file from outside (upload, ``certdesk verify FILE``): the PDF is
    parsed and validated in a bounded worker (``signing.sandbox``). Returns the verdict and
    the CPU seconds the check cost; raises ``TooComplex`` past the limits."""
    checked = bounded(settings, Trust.of(settings).check, data)
    return verify_pdf(data, settings, engine, today, report=checked.value), checked.cpu_seconds


def _successor(s: Session, number: str) -> str | None:
    data = latest_data(s, number, "certificate.superseded")
    return data.get("by") if data else None


def _unknown_verdict(report: SignatureReport) -> str:
    if report.signed and (not report.intact or not report.whole_file):
        return "tampered"
    return "unknown"


def _unknown_reason(report: SignatureReport) -> str:
    if not report.signed:
        return "not a certificate of this body: " + "; ".join(report.problems)
    if not report.intact or not report.whole_file:
        return "tampered: " + "; ".join(p for p in report.problems
                                         if "changed" in p or "updated" in p)
    if not report.trusted:
        return "not a certificate of this body: signed by a key this body does not trust"
    return "signed by this body's key but not in the archive (unknown record)"
