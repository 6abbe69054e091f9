"""What this body trusts, as one value: its CA(s), the signer keys it made, the TSA roots.

A signature is the body's only if it chains to one of the body's CAs *and* its signer key
is one the body made (``certdesk keys show`` lists them). The certificates are held as DER
bytes so a ``Trust`` crosses into a sandbox worker process (``signing.sandbox``) as is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certdesk.common.settings import Settings
from certdesk.signing.keys import known_signers, trust_anchors, tsa_roots
from certdesk.signing.pdf import ApprovalReport, SignatureReport, validate, validate_approvals

UNTRUSTED = "signed by a key this body does not trust"


def _der(certs: list[x509.Certificate]) -> tuple[bytes, ...]:
    return tuple(c.public_bytes(serialization.Encoding.DER) for c in certs)


def _certs(ders: tuple[bytes, ...]) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(d) for d in ders]


@dataclass(frozen=True)
class Trust:
    anchors: tuple[bytes, ...]
    signers: frozenset[str]
    """Key ids of every signer key the body made, current and retired."""
    tsa_roots: tuple[bytes, ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> Trust:
        """The body's trust as its key folder states it now (public files; only a signer
        key made before signers had a ``.pem`` is read with the passphrase)."""
        return cls(_der(trust_anchors(settings)), frozenset(known_signers(settings)),
                   _der(tsa_roots(settings)))

    def roots(self) -> list[x509.Certificate]:
        return _certs(self.anchors)

    def check(self, data: bytes) -> SignatureReport:
        """Strictly validate the certification signature of ``data`` against this trust."""
        return self.restrict(validate(data, self.roots(), _certs(self.tsa_roots)))

    def restrict(self, report: SignatureReport) -> SignatureReport:
        """A signature chaining to a body CA by a key not on the body's list is not trusted."""
        if not report.trusted or report.signer_kid in self.signers:
            return report
        return replace(report, trusted=False, problems=(*report.problems, UNTRUSTED))

    def check_approvals(self, data: bytes) -> ApprovalReport:
        """Check a record's approval chain; every approval must be by a key on the list."""
        found = validate_approvals(data, self.roots(), _certs(self.tsa_roots))
        approvals = tuple(replace(a, report=self.restrict(a.report)) for a in found.approvals)
        untrusted = [f"{a.field_name}: {UNTRUSTED}" for a in approvals
                     if UNTRUSTED in a.report.problems]
        return replace(found, approvals=approvals, problems=(*found.problems, *untrusted))

    def inspect(self, data: bytes) -> tuple[SignatureReport, ApprovalReport | None]:
        """The certification signature check and, for a file signed with approval
        signatures only (no certification), the approval chain's check."""
        report = self.check(data)
        if report.signed and not report.certified and report.intact:
            return report, self.check_approvals(data)
        return report, None
