"""PAdES signatures with pyHanko, and strict validation.

Two kinds of signed record:

* **Certified** (certificates, notices): one certification signature with DocMDP P=1
  ("no changes"). pyHanko's default diff policy still accepts metadata-only updates after
  a signature, so ``validate`` is stricter: the signature must cover the whole file.
* **Approved** (reports, decisions that several people sign): approval signatures, one
  per role in signing order, the last one *final* — its field lock holds P=1, which locks
  the document. A certification must be the first signature and P=1 would forbid the
  approvals after it, so these records are not certified (docs/verification.md says why
  not P=2 either). ``validate_approvals`` checks each signature, that each later revision
  only added signatures, and that the final one covers the whole file.

When a TSA is configured every signature carries an RFC 3161 timestamp; a timestamp that
is present must validate against the TSA roots, or the signature is not accepted.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyhanko.pdf_utils.generic import DictionaryObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import attributes, fields, signers, timestamps
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm, SigFieldSpec
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from certdesk.common.errors import InputError, SigningError
from certdesk.signing.keys import KeyMaterial, SignerKey, key_id, load_key_file

CERTIFICATION_FIELD = "CertdeskCertification"
APPROVAL_FIELD = "CertdeskApproval{n}"

# pyHanko logs each refused revision with a full traceback at WARNING. With no handler
# anywhere, Python prints those on stderr; the verdict already says what is wrong, and no
# traceback may reach a user, so pyHanko's log stops at a null handler unless an
# application configures logging on purpose.
logging.getLogger("pyhanko").addHandler(logging.NullHandler())
logging.getLogger("pyhanko_certvalidator").addHandler(logging.NullHandler())


@dataclass(frozen=True)
class SignatureSpec:
    reason: str
    location: str = ""
    name: str | None = None
    field_name: str = CERTIFICATION_FIELD
    certify: bool = True


class _KnownSigningCertificate(attributes.SigningCertificateV2Provider):
    """The signing-certificate-v2 attribute, built once: it names the signer's certificate
    (hash, issuer, serial), the same in every signature, and asn1crypto took ~6 ms to
    encode it each time. Each signature gets a fresh object parsed from the stored
    encoding, which encodes back to those bytes without work."""

    def __init__(self, signing_cert: asn1_x509.Certificate) -> None:
        super().__init__(signing_cert)
        self._der = as_signing_certificate_v2(signing_cert).dump()

    async def build_attr_value(self, dry_run: bool = False) -> tsp.SigningCertificateV2:
        return tsp.SigningCertificateV2.load(self._der)


class _ParsedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses and checks its private key again for every signature
    (about 35 ms for RSA, as long as the rest of the signing); this one keeps the parsed
    key and uses it for PKCS#1 v1.5, certdesk's mechanism, leaving others to pyHanko. It
    also builds the signing-certificate attribute once (``_KnownSigningCertificate``)."""

    def __init__(self, material: KeyMaterial) -> None:
        der = serialization.Encoding.DER
        cert = asn1_x509.Certificate.load(material.certificate.public_bytes(der))
        super().__init__(
            signing_cert=cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(material.key.private_bytes(
                der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
            cert_registry=SimpleCertificateStore.from_certs(
                [asn1_x509.Certificate.load(c.public_bytes(der)) for c in material.chain]))
        self._key = material.key
        self._signing_certificate = _KnownSigningCertificate(cert)

    def _signed_attr_providers(self, *args: Any, **kwargs: Any
                               ) -> Iterator[attributes.CMSAttributeProvider]:
        for provider in super()._signed_attr_providers(*args, **kwargs):
            yield (self._signing_certificate
                   if type(provider) is attributes.SigningCertificateV2Provider else provider)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo == "rsassa_pkcs1v15" and \
                isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(),
                                  get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)


def load_signer(key: SignerKey, passphrase: str) -> signers.SimpleSigner:
    """The signer with its CA chain, which every signature then embeds."""
    return _ParsedKeySigner(load_key_file(key.p12_path, passphrase))


RESERVED = 16 * 1024
RESERVED_TSA = 48 * 1024


def _sign(data: bytes, meta: signers.PdfSignatureMetadata, signer: signers.Signer,
          tsa_url: str | None, new_field: SigFieldSpec | None = None) -> bytes:
    timestamper = timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        # A fixed reservation spares pyHanko a full dry-run signature to measure the size
        # (half the signing time); a timestamp token needs room for the TSA's chain.
        out = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper,
                               new_field_spec=new_field,
                               bytes_reserved=RESERVED_TSA if timestamper else RESERVED)
    except timestamps.TimestampRequestError as exc:
        raise SigningError(f"time-stamping authority {tsa_url} failed: {exc}") from None
    except (PdfReadError, ValueError, PyHankoSigningError) as exc:
        raise SigningError(f"cannot sign: not a readable PDF ({exc})") from None
    return out.getvalue()


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
    return _sign(data, meta, signer, tsa_url)


def sign_approval(data: bytes, signer: signers.Signer, role: str, name: str, *,
                  final: bool = False, tsa_url: str | None = None) -> bytes:
    """Add the next approval signature by ``name`` in ``role``; ``final`` locks the record.

    Refused on a certified or already final record, and for a role that already signed.
    """
    role, name = role.strip(), name.strip()
    if not role or not name:
        raise InputError("an approval needs both a role and a signer's name")
    try:
        sigs = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception as exc:  # any parse failure means "not a usable PDF"
        raise SigningError(f"cannot sign: not a readable PDF ({exc})") from None
    for sig in sigs:
        if _docmdp(sig) == MDPPerm.NO_CHANGES:
            what = "final" if sig.field_name.startswith("CertdeskApproval") else "certified"
            raise SigningError(f"the record is {what} ({sig.field_name}): it takes no further "
                               "signature")
        if _text(sig, "/Reason") == role:
            raise SigningError(f"role {role!r} has already signed ({_text(sig, '/Name')})")
    field_name = APPROVAL_FIELD.format(n=len(sigs) + 1)
    lock = FieldMDPSpec(FieldMDPAction.ALL) if final else None
    new_field = SigFieldSpec(field_name, field_mdp_spec=lock,
                             doc_mdp_update_value=MDPPerm.NO_CHANGES if final else None)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm="sha256", reason=role, name=name,
        docmdp_permissions=MDPPerm.NO_CHANGES if final else MDPPerm.FILL_FORMS,
        subfilter=fields.SigSeedSubFilter.PADES)
    return _sign(data, meta, signer, tsa_url, new_field)


# -- validation ------------------------------------------------------------------------------

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
    """The signature carries an RFC 3161 timestamp (``timestamp_ok`` says if it validates)."""
    timestamp_ok: bool = False
    timestamp_at: datetime | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"signed": self.signed, "intact": self.intact, "trusted": self.trusted,
                "certified": self.certified, "whole_file": self.whole_file,
                "signer_kid": self.signer_kid, "signer_subject": self.signer_subject,
                "signed_at": self.signed_at, "timestamped": self.timestamped,
                "timestamp_ok": self.timestamp_ok, "timestamp_at": self.timestamp_at,
                "problems": list(self.problems)}


@dataclass(frozen=True)
class Approval:
    """One approval signature as found in the file."""

    field_name: str
    role: str | None
    signer_name: str | None
    report: SignatureReport
    final: bool

    def as_dict(self) -> dict:
        return {"field": self.field_name, "role": self.role, "signer": self.signer_name,
                "final": self.final, **self.report.as_dict()}


@dataclass(frozen=True)
class ApprovalReport:
    approvals: tuple[Approval, ...]
    problems: tuple[str, ...]

    @property
    def final(self) -> bool:
        return bool(self.approvals) and self.approvals[-1].final

    @property
    def ok(self) -> bool:
        """Every signature good, nothing but signatures added, and locked by a final one."""
        return self.final and not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "final": self.final, "problems": list(self.problems),
                "approvals": [a.as_dict() for a in self.approvals]}


def _text(sig: EmbeddedPdfSignature, key: str) -> str | None:
    value = sig.sig_object.get(key)
    return None if value is None else str(value)


def _contexts(trust_roots: Sequence[x509.Certificate],
              tsa_roots: Sequence[x509.Certificate]) -> tuple[ValidationContext, ValidationContext]:
    def ctx(certs: Sequence[x509.Certificate]) -> ValidationContext:
        roots = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
                 for c in certs]
        return ValidationContext(trust_roots=roots, allow_fetching=False)

    # Separate contexts: a TSA root vouches for timestamps only, never for a PDF signer.
    return ctx(trust_roots), ctx(tsa_roots)


def _embedded(data: bytes) -> tuple[list[EmbeddedPdfSignature], DictionaryObject | None, str]:
    """Signatures and document root, or a reason the file cannot be read."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        return list(reader.embedded_signatures), reader.root, ""
    except Exception as exc:  # any parse failure means "not a usable PDF"
        return [], None, f"not a readable PDF ({exc})"


def _docmdp(sig: EmbeddedPdfSignature) -> MDPPerm | None:
    """The modification level the signature imposes (certification or field lock), if any."""
    try:
        return sig.docmdp_level
    except (ValueError, KeyError, TypeError):  # a malformed /P imposes nothing we can honour
        return None


def _check(sig: EmbeddedPdfSignature, signer_vc: ValidationContext,
           tsa_vc: ValidationContext) -> tuple[PdfSignatureStatus | None, SignatureReport]:
    """The checks every signature must pass, whatever kind of record it is on."""
    try:
        return _checked(sig, signer_vc, tsa_vc)
    except Exception as exc:  # whatever stops validation, the signature is not validated
        return None, SignatureReport(signed=True,
                                     problems=(f"signature cannot be validated ({exc})",))


def _checked(sig: EmbeddedPdfSignature, signer_vc: ValidationContext,
             tsa_vc: ValidationContext) -> tuple[PdfSignatureStatus, SignatureReport]:
    status = validate_pdf_signature(sig, signer_vc, ts_validation_context=tsa_vc)
    problems = []
    if not status.intact:
        problems.append("the content was changed after signing (digest mismatch)")
    elif not status.valid:
        problems.append("the signature value is not valid")
    if not status.trusted:
        problems.append("signed by a key this body does not trust")
    ts = status.timestamp_validity
    ts_ok = ts is not None and ts.intact and ts.valid and ts.trusted
    if ts is not None and not (ts.intact and ts.valid):
        problems.append("the timestamp token does not match the signature")
    elif ts is not None and not ts.trusted:
        problems.append("timestamped by a TSA this body does not trust (CERTDESK_TSA_ROOTS)")
    cert = status.signing_cert
    report = SignatureReport(
        signed=True, intact=status.intact, trusted=status.trusted,
        certified=_docmdp(sig) == MDPPerm.NO_CHANGES and _is_certification(sig),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer_kid=key_id(x509.load_der_x509_certificate(cert.dump())) if cert else None,
        signer_subject=cert.subject.human_friendly if cert else None,
        signed_at=status.signer_reported_dt, timestamped=ts is not None, timestamp_ok=ts_ok,
        timestamp_at=ts.timestamp if ts is not None else None, problems=tuple(problems))
    return status, report


def _is_certification(sig: EmbeddedPdfSignature) -> bool:
    refs = sig.sig_object.get("/Reference") or []
    return any(ref.get("/TransformMethod") == "/DocMDP" for ref in refs)


def validate(data: bytes, trust_roots: list[x509.Certificate],
             tsa_roots: Sequence[x509.Certificate] = ()) -> SignatureReport:
    """Strictly validate the single certification signature of ``data``."""
    sigs, _, unreadable = _embedded(data)
    if unreadable:
        return SignatureReport(signed=False, problems=(unreadable,))
    if not sigs:
        return SignatureReport(signed=False, problems=("the PDF carries no signature",))
    signer_vc, tsa_vc = _contexts(trust_roots, tsa_roots)
    status, report = _check(sigs[0], signer_vc, tsa_vc)
    if status is None:
        return report
    problems = list(report.problems)
    if len(sigs) > 1:
        problems.append(f"{len(sigs)} signatures where one certification is expected")
    if not report.certified:
        problems.append("not a certification signature with DocMDP 'no changes'")
    if not report.whole_file:
        problems.append("the file was updated after it was signed (incremental update)")
    return replace(report, problems=tuple(problems))


def _only_signed(status: PdfSignatureStatus, later: set[str]) -> bool:
    changed = getattr(status.diff_result, "changed_form_fields", None)
    return changed is not None and changed <= later


def validate_approvals(data: bytes, trust_roots: list[x509.Certificate],
                       tsa_roots: Sequence[x509.Certificate] = ()) -> ApprovalReport:
    """Check an approved record: every signature good, in order, final one last and whole."""
    sigs, root, unreadable = _embedded(data)
    if unreadable or not sigs:
        return ApprovalReport((), (unreadable or "the PDF carries no signature",))
    assert root is not None, "a readable PDF has its root"
    signer_vc, tsa_vc = _contexts(trust_roots, tsa_roots)
    problems: list[str] = []
    if "/DocMDP" in (root.get("/Perms") or {}):
        problems.append("the record is certified; approved records carry approval "
                        "signatures only")
    approvals = []
    for i, sig in enumerate(sigs):
        last = i == len(sigs) - 1
        status, report = _check(sig, signer_vc, tsa_vc)
        final = _docmdp(sig) == MDPPerm.NO_CHANGES
        mine = [*report.problems]
        if status is not None and last and not report.whole_file:
            mine.append("the file was updated after the last signature (incremental update)")
        # The revision after each signature must be the next signature's own (pyHanko
        # allows a metadata-only revision in between; we do not), and it may only sign:
        # "form filling" is the level a signature is, and the only fields it may fill are
        # the later approval signatures' own (no other form field changes meanwhile).
        if status is not None and not last and (
                sigs[i + 1].signed_revision != sig.signed_revision + 1
                or not status.docmdp_ok or status.modification_level is None
                or status.modification_level.value > ModificationLevel.FORM_FILLING.value
                or not _only_signed(status, {s.field_name for s in sigs[i + 1:]})):
            mine.append("the record was changed after this signature, not only signed")
        if final and not last:
            mine.append("signed again after the final signature locked the record")
        problems += [f"{sig.field_name}: {p}" for p in mine]
        approvals.append(Approval(sig.field_name, _text(sig, "/Reason"), _text(sig, "/Name"),
                                  replace(report, problems=tuple(mine)),
                                  final))
    return ApprovalReport(tuple(approvals), tuple(problems))
