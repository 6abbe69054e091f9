"""Signing keys: a CA and the signer certificate(s) it issued, PKCS#12 encrypted at rest.

Layout under ``<home>/keys``::

    ca.p12             CA key + certificate (passphrase-protected)
    ca.pem             CA certificate, public (the trust anchor verifiers use)
    signers/<kid>.p12  signer key + certificate + CA chain (passphrase-protected)
    current            the key id new signatures use

The first run creates a self-signed *demo* CA and signer; a body installs its own.
A key id (kid) is the first 16 hex digits of sha256 over the signer's public key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from common.errors import SigningError
from common.settings import Settings


@dataclass(frozen=True)
class SignerKey:
    kid: str
    p12_path: Path
    certificate: x509.Certificate


def key_id(cert: x509.Certificate) -> str:
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()[:16]


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "certdesk demo"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _encryption(settings: Settings):
    return serialization.BestAvailableEncryption(settings.key_passphrase.encode())


def _load_p12(path: Path, settings: Settings):
    try:
        return pkcs12.load_key_and_certificates(path.read_bytes(),
                                                settings.key_passphrase.encode())
    except FileNotFoundError:
        raise SigningError(f"key file {path} is missing: run 'certdesk keys init'") from None
    except ValueError:
        raise SigningError(f"cannot open {path.name}: wrong CERTDESK_KEY_PASSPHRASE?") from None


def _create_ca(settings: Settings) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    now = datetime.now(UTC)
    name = _name("certdesk demo CA")
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    kd = settings.key_dir
    _write_private(kd / "ca.p12", pkcs12.serialize_key_and_certificates(
        b"certdesk-ca", key, cert, None, _encryption(settings)))
    (kd / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def issue_signer(settings: Settings, years: int = 5) -> SignerKey:
    """Create a new signer key certified by the CA and make it current."""
    ca_key, ca_cert, _ = _load_p12(settings.key_dir / "ca.p12", settings)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("certdesk demo signer"))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(min(now + timedelta(days=365 * years), ca_cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_cert.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    kid = key_id(cert)
    path = settings.key_dir / "signers" / f"{kid}.p12"
    _write_private(path, pkcs12.serialize_key_and_certificates(
        kid.encode(), key, cert, [ca_cert], _encryption(settings)))
    (settings.key_dir / "current").write_text(kid + "\n")
    return SignerKey(kid, path, cert)


def ensure_keys(settings: Settings) -> SignerKey:
    """The current signer key, creating the demo CA and signer on first use."""
    kd = settings.key_dir
    if not (kd / "ca.p12").exists():
        _create_ca(settings)
    if not (kd / "current").exists():
        return issue_signer(settings)
    return current_signer(settings)


def current_signer(settings: Settings) -> SignerKey:
    kid = (settings.key_dir / "current").read_text().strip()
    path = settings.key_dir / "signers" / f"{kid}.p12"
    _, cert, _ = _load_p12(path, settings)
    return SignerKey(kid, path, cert)


def ca_certificate(settings: Settings) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate((settings.key_dir / "ca.pem").read_bytes())
    except FileNotFoundError:
        raise SigningError("no CA certificate: run 'certdesk keys init'") from None


def known_signers(settings: Settings) -> dict[str, x509.Certificate]:
    """Every signer certificate this install has used (rotated keys still verify)."""
    out = {}
    for path in sorted((settings.key_dir / "signers").glob("*.p12")):
        _, cert, _ = _load_p12(path, settings)
        out[key_id(cert)] = cert
    return out
