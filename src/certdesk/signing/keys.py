"""Signing keys: a CA, the PDF signer(s) and the QR token key(s) it certified, PKCS#12
encrypted at rest with ``CERTDESK_KEY_PASSPHRASE``.

Layout under ``<home>/keys``::

    ca.p12             CA key + certificate (passphrase-protected)
    ca.pem             CA certificate, public (the trust anchor verifiers use)
    signers/<kid>.p12  RSA signer key + certificate + CA chain (passphrase-protected)
    signers/<kid>.pem  its certificate and CA, public: verifiers need no passphrase
    current            the signer key id new PDF signatures use
    tokens/<kid>.p12   Ed25519 QR-token key + certificate + CA chain (passphrase-protected)
    tokens/<kid>.pem   its certificate, public: the web app publishes it without the passphrase
    current-token      the token key id new QR codes use
    .lock              held (flock) while keys are created or rotated

The first run creates a self-signed *demo* CA, signer and token key; a body installs its
own. Rotation adds a new signer and token key and keeps the old ones, so everything signed
before still verifies. A key id (kid) is the first 16 hex digits of sha256 over the public key.

Creation takes an exclusive lock on ``.lock`` and looks again once it holds it: processes
started together on a fresh home (four ``certdesk issue``, PostgreSQL batches sharing the
home) must end with one CA, one signer and one token key, not one each. The keys live in
the home whatever the database is, so every process that signs must share that folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
    PrivateKeyTypes,
)
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from certdesk.common.errors import ConfigError, SigningError
from certdesk.common.files import private_dir
from certdesk.common.settings import Settings


@dataclass(frozen=True)
class SignerKey:
    kid: str
    p12_path: Path
    certificate: x509.Certificate


@dataclass(frozen=True)
class TokenKey:
    """An Ed25519 key that signs QR tokens, certified by the same CA as the PDF signer."""

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
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    # Readers take no lock: they must see the whole file or none.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@contextmanager
def _creation_lock(settings: Settings) -> Iterator[None]:
    """Exclusive for key creation across processes; released when the holder exits or dies."""
    private_dir(settings.key_dir)
    with open(settings.key_dir / ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _encryption(settings: Settings) -> serialization.KeySerializationEncryption:
    return serialization.BestAvailableEncryption(settings.key_passphrase.encode())


@dataclass(frozen=True)
class KeyMaterial:
    """What one PKCS#12 key file holds, decrypted: its key, certificate and CA chain."""

    key: PrivateKeyTypes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def load_key_file(path: Path, passphrase: str) -> KeyMaterial:
    """The decrypted key file at ``path``; a missing file or wrong passphrase is a
    ``SigningError`` naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SigningError(f"key file {path} is missing: run 'certdesk keys init'") from None
    try:
        key, cert, chain = _decrypt(data, passphrase)
    except ValueError:
        raise SigningError(f"cannot open {path.name}: wrong CERTDESK_KEY_PASSPHRASE?") from None
    if key is None or cert is None:
        raise SigningError(f"{path.name} holds no key and certificate")
    return KeyMaterial(key, cert, tuple(chain))


@lru_cache(maxsize=16)
def _decrypt(data: bytes, passphrase: str) -> tuple[PrivateKeyTypes | None,
                                                    x509.Certificate | None,
                                                    list[x509.Certificate]]:
    # Cached by the file's bytes: decrypting and checking a key costs ~0.1 s (the KDF's
    # rounds, RSA's consistency check) and every Publisher, command and QR token needs one.
    # A key file is written once and never changed (rotation makes a new one), and equal
    # bytes are the same key whatever path they were read from.
    return pkcs12.load_key_and_certificates(data, passphrase.encode())


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
    _write_public(kd / "ca.pem", cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def _certify(ca_key: CertificateIssuerPrivateKeyTypes, ca_cert: x509.Certificate,
             public_key: CertificateIssuerPublicKeyTypes, common_name: str, years: int,
             key_usage: x509.KeyUsage,
             eku: list[x509.ObjectIdentifier] | None = None) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(common_name))
               .issuer_name(ca_cert.subject).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1))
               .not_valid_after(min(now + timedelta(days=365 * years),
                                    ca_cert.not_valid_after_utc))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(key_usage, critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   cast(CertificateIssuerPublicKeyTypes, ca_cert.public_key())), critical=False))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def _store(settings: Settings, folder: str, pointer: str,
           key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, cert: x509.Certificate,
           ca_cert: x509.Certificate, *, chain: bool = False) -> tuple[str, Path]:
    """Write the key and its public certificate (with the CA if ``chain``), then point at
    it: a crash in between leaves the previous key current, never a pointer to a missing
    file."""
    kid = key_id(cert)
    path = settings.key_dir / folder / f"{kid}.p12"
    _write_private(path, pkcs12.serialize_key_and_certificates(
        kid.encode(), key, cert, [ca_cert], _encryption(settings)))
    _write_public(path.with_suffix(".pem"),
                  _pem(cert) + (_pem(ca_cert) if chain else b""))
    tmp = settings.key_dir / f".{pointer}.tmp"
    tmp.write_text(kid + "\n")
    os.replace(tmp, settings.key_dir / pointer)
    return kid, path


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _ca(settings: Settings
        ) -> tuple[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, x509.Certificate]:
    ca = load_key_file(settings.key_dir / "ca.p12", settings.key_passphrase)
    if not isinstance(ca.key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningError("ca.p12 holds neither an RSA nor an EC key: not a CA's key")
    return ca.key, ca.certificate


def issue_signer(settings: Settings, years: int = 5) -> SignerKey:
    """Create a new PDF signer key certified by the CA and make it current (the caller
    holds the creation lock)."""
    ca_key, ca_cert = _ca(settings)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Email protection is the EKU NSS (poppler's pdfsig) asks of a document signer.
    cert = _certify(ca_key, ca_cert, key.public_key(), "certdesk demo signer", years,
                    x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                    [ExtendedKeyUsageOID.EMAIL_PROTECTION])
    kid, path = _store(settings, "signers", "current", key, cert, ca_cert, chain=True)
    return SignerKey(kid, path, cert)


def issue_token_key(settings: Settings, years: int = 5) -> TokenKey:
    """Create a new Ed25519 QR-token key certified by the CA and make it current (the
    caller holds the creation lock)."""
    ca_key, ca_cert = _ca(settings)
    key = ed25519.Ed25519PrivateKey.generate()
    cert = _certify(ca_key, ca_cert, key.public_key(), "certdesk demo QR token key", years,
                    x509.KeyUsage(True, False, False, False, False, False, False, False, False))
    kid, path = _store(settings, "tokens", "current-token", key, cert, ca_cert)
    return TokenKey(kid, path, cert)


def rotate(settings: Settings) -> tuple[SignerKey, TokenKey]:
    """New signer and token keys become current; the old ones stay to verify what they signed."""
    ensure_keys(settings)
    with _creation_lock(settings):
        return issue_signer(settings), issue_token_key(settings)


def ensure_keys(settings: Settings) -> SignerKey:
    """The current signer key, creating the demo CA, signer and token key on first use.

    Also refuses a TSA whose timestamps could not be verified later (no TSA roots), so no
    record is signed that its own verification would reject.
    """
    if settings.tsa_url and not tsa_roots(settings):
        raise ConfigError("CERTDESK_TSA_URL is set but CERTDESK_TSA_ROOTS is not: name the "
                          "PEM file of the TSA's root certificate(s)")
    kd = settings.key_dir
    # Created in this order, so both pointers existing means all three keys do.
    if (kd / "current").exists() and (kd / "current-token").exists() \
            and not _unpublished_signers(settings):
        return current_signer(settings)
    with _creation_lock(settings):
        if not (kd / "ca.p12").exists():
            _create_ca(settings)
        if not (kd / "current-token").exists():
            issue_token_key(settings)
        if not (kd / "current").exists():
            issue_signer(settings)
        for p12 in _unpublished_signers(settings):
            _write_public(p12.with_suffix(".pem"),
                          b"".join(_pem(c) for c in _signer_chain(settings, p12)))
    return current_signer(settings)


def _unpublished_signers(settings: Settings) -> list[Path]:
    """Signer keys made before each got a public ``.pem`` (the web reads no passphrase)."""
    return [p for p in (settings.key_dir / "signers").glob("*.p12")
            if not p.with_suffix(".pem").exists()]


def _current_kid(settings: Settings, pointer: str) -> str:
    try:
        return (settings.key_dir / pointer).read_text().strip()
    except FileNotFoundError:
        raise SigningError(f"no current key ({pointer}): run 'certdesk keys init'") from None


def current_signer(settings: Settings) -> SignerKey:
    kid = _current_kid(settings, "current")
    path = settings.key_dir / "signers" / f"{kid}.p12"
    return SignerKey(kid, path, load_key_file(path, settings.key_passphrase).certificate)


def current_token_key(settings: Settings) -> tuple[str, ed25519.Ed25519PrivateKey]:
    """The key id and private key new QR tokens are signed with."""
    kid = _current_kid(settings, "current-token")
    path = settings.key_dir / "tokens" / f"{kid}.p12"
    key = load_key_file(path, settings.key_passphrase).key
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise SigningError(f"{path.name} does not hold an Ed25519 QR-token key")
    return kid, key


def ca_certificate(settings: Settings) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate((settings.key_dir / "ca.pem").read_bytes())
    except FileNotFoundError:
        raise SigningError("no CA certificate: run 'certdesk keys init'") from None


def token_certificates(settings: Settings) -> dict[str, x509.Certificate]:
    """Every QR-token key certificate, read from public files (no passphrase needed)."""
    return token_certificates_in(settings.key_dir)


def token_certificates_in(key_dir: Path) -> dict[str, x509.Certificate]:
    return {path.stem: x509.load_pem_x509_certificate(path.read_bytes())
            for path in sorted((key_dir / "tokens").glob("*.pem"))}


def current_token_kid(settings: Settings) -> str:
    return _current_kid(settings, "current-token")


def _signer_chain(settings: Settings, p12: Path) -> list[x509.Certificate]:
    """The signer certificate then its CA: from the public file, or (for a key made before
    signers had one) from the PKCS#12 file, which needs the passphrase."""
    pem = p12.with_suffix(".pem")
    if pem.exists():
        return x509.load_pem_x509_certificates(pem.read_bytes())
    material = load_key_file(p12, settings.key_passphrase)
    return [material.certificate, *material.chain]


def known_signers(settings: Settings) -> dict[str, x509.Certificate]:
    """Every signer certificate this body made (rotated keys included): the keys whose
    signatures it trusts."""
    return {path.stem: _signer_chain(settings, path)[0]
            for path in sorted((settings.key_dir / "signers").glob("*.p12"))}


def trust_anchors(settings: Settings) -> list[x509.Certificate]:
    """The CA and every CA a signer key of this body was certified by. Normally one; a home
    where keys were once created twice (before the creation lock) holds signers of another
    CA of the body's own making, and what they signed must keep verifying."""
    found: dict[str, x509.Certificate] = {}
    ca = settings.key_dir / "ca.pem"
    if ca.exists():
        cert = ca_certificate(settings)
        found[key_id(cert)] = cert
    for path in sorted((settings.key_dir / "signers").glob("*.p12")):
        for cert in _signer_chain(settings, path)[1:]:
            found.setdefault(key_id(cert), cert)
    return list(found.values())


def _cert_info(cert: x509.Certificate, key_file: Path) -> dict[str, Any]:
    # A key file is written once (rotation makes a new one), so its time is the key's birth;
    # the certificate's not_before is back-dated a day for clock skew.
    created = datetime.fromtimestamp(key_file.stat().st_mtime, UTC) if key_file.exists() else None
    return {"kid": key_id(cert), "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(), "created": created,
            "sha256": cert.fingerprint(hashes.SHA256()).hex(),
            "not_before": cert.not_valid_before_utc, "not_after": cert.not_valid_after_utc}


def describe(settings: Settings) -> dict[str, Any]:
    """What ``certdesk keys show`` prints: the CA(s), every signer key the body trusts and
    every token key, which are current."""
    signer, token = current_signer(settings).kid, _current_kid(settings, "current-token")
    kd = settings.key_dir  # (opening the current signer refuses a wrong passphrase now)
    return {
        "key_dir": str(kd),
        "demo_passphrase": settings.key_passphrase == Settings.model_fields[
            "key_passphrase"].default,
        "ca": _cert_info(ca_certificate(settings), kd / "ca.p12"),
        "trust_anchors": [key_id(c) for c in trust_anchors(settings)],
        "signers": [_cert_info(c, kd / "signers" / f"{kid}.p12") | {"current": kid == signer}
                    for kid, c in known_signers(settings).items()],
        "token_keys": [_cert_info(c, kd / "tokens" / f"{kid}.p12") | {"current": kid == token}
                       for kid, c in token_certificates(settings).items()],
    }


def tsa_roots(settings: Settings) -> list[x509.Certificate]:
    """The TSA root certificates timestamps must chain to (``CERTDESK_TSA_ROOTS``)."""
    if settings.tsa_roots is None:
        return []
    try:
        return x509.load_pem_x509_certificates(settings.tsa_roots.read_bytes())
    except OSError as exc:
        raise ConfigError(f"CERTDESK_TSA_ROOTS {settings.tsa_roots}: {exc.strerror}") from None
    except ValueError:
        raise ConfigError(f"CERTDESK_TSA_ROOTS {settings.tsa_roots} holds no PEM "
                          "certificate") from None
