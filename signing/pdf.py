"""PAdES certification signatures with pyHanko, and strict validation.

Certification (DocMDP P=1, "no changes") marks the PDF as final: any later change is
detectable. pyHanko's default diff policy still accepts metadata-only updates after the
signature, so ``validate`` is stricter: the signature must cover the whole file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from common.errors import SigningError
from signing.keys import SignerKey

CERTIFICATION_FIELD = "CertdeskCertification"


@dataclass(frozen=True)
class SignatureSpec:
    reason: str
    location: str = ""
    name: str | None = None
    field_name: str = CERTIFICATION_FIELD
    certify: bool = True


def load_signer(key: SignerKey, passphrase: str) -> signers.SimpleSigner:
    signer = signers.SimpleSigner.load_pkcs12(str(key.p12_path), passphrase=passphrase.encode())
    if signer is None:
        raise SigningError(f"cannot load signing key {key.kid}: wrong passphrase?")
    return signer


def sign_pdf(data: bytes, signer: signers.Signer, spec: SignatureSpec,
             tsa_url: str | None = None) -> bytes:
    meta = signers.PdfSignatureMetadata(
        field_name=spec.field_name,
        md_algorithm="sha256",
        reason=spec.reason,
        location=spec.location or None,
        name=spec.name,
        certify=spec.certify,
        docmdp_permissions=MDPPerm.NO_CHANGES if spec.certify else MDPPerm.FILL_FORMS,
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    timestamper = timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        out = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper)
    except (PdfReadError, ValueError) as exc:
        raise SigningError(f"cannot sign: not a readable PDF ({exc})") from None
    return out.getvalue()


@dataclass(frozen=True)
class SignatureReport:
    """What validation found; ``problems`` is empty only for a good certification."""

    signed: bool
    intact: bool = False
    trusted: bool = False
    certified: bool = False
    whole_file: bool = False
    signer_kid: str | None = None
    signer_subject: str | None = None
    signed_at: datetime | None = None
    timestamped: bool = False
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems


def _kid(cert: asn1_x509.Certificate) -> str:
    from signing.keys import key_id

    return key_id(x509.load_der_x509_certificate(cert.dump()))


def validate(data: bytes, trust_roots: list[x509.Certificate]) -> SignatureReport:
    """Strictly validate the single certification signature of ``data``."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = reader.embedded_signatures
    except Exception as exc:  # any parse failure means "not a usable PDF"
        return SignatureReport(signed=False, problems=(f"not a readable PDF ({exc})",))
    if not sigs:
        return SignatureReport(signed=False, problems=("the PDF carries no signature",))
    roots = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
             for c in trust_roots]
    vc = ValidationContext(trust_roots=roots, allow_fetching=False)
    problems: list[str] = []
    sig = sigs[0]
    try:
        status = validate_pdf_signature(sig, vc)
    except (SignatureValidationError, ValueError, KeyError) as exc:
        return SignatureReport(signed=True, problems=(f"signature cannot be validated ({exc})",))
    if len(sigs) > 1:
        problems.append(f"{len(sigs)} signatures where one certification is expected")
    if not status.intact:
        problems.append("the content was changed after signing (digest mismatch)")
    elif not status.valid:
        problems.append("the signature value is not valid")
    if not status.trusted:
        problems.append("signed by a key this body does not trust")
    certified = sig.docmdp_level == MDPPerm.NO_CHANGES
    if not certified:
        problems.append("not a certification signature with DocMDP 'no changes'")
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    if not whole:
        problems.append("the file was updated after it was signed (incremental update)")
    cert = status.signing_cert
    return SignatureReport(
        signed=True, intact=status.intact, trusted=status.trusted, certified=certified,
        whole_file=whole, signer_kid=_kid(cert) if cert else None,
        signer_subject=cert.subject.human_friendly if cert else None,
        signed_at=status.signer_reported_dt, timestamped=status.timestamp_validity is not None,
        problems=tuple(problems),
    )
