"""Signed QR tokens: whoever holds the body's published keys can tell, offline, that a QR
code was made by the body for this certificate, holder and validity. Only the online page
knows the certificate's *current* status.

A token is the base64url text (no padding) of::

    version (1 byte, = 1)
    key id (8 bytes: the token key's kid, 16 hex digits)
    issue date, expiry date (2 bytes each: days since 2000-01-01, big-endian)
    holder (GB 18030 bytes)
    Ed25519 signature (64 bytes)

The signature covers ``b"certdesk-qr-v1\\0" + number + b"\\0"`` followed by every byte
before the signature. The number is not repeated inside the token because the URL path
already carries it (``/v/<number>?t=<token>``); the holder is in GB 18030 (two bytes per
common hanzi where UTF-8 needs three). Both keep the QR code small enough to print at 2 cm.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from certdesk.common.errors import InputError
from certdesk.common.settings import Settings
from certdesk.domain.numbering import parse
from certdesk.signing.keys import (
    ca_certificate,
    current_token_key,
    current_token_kid,
    token_certificates,
    token_certificates_in,
)

VERSION = 1
EPOCH = date(2000, 1, 1)
DOMAIN = b"certdesk-qr-v1\0"
SIGNATURE_LENGTH = 64
MAX_TOKEN_LENGTH = 1024
"""Longer text is refused before decoding: no genuine token comes near it."""

_HEAD = struct.Struct(">B8sHH")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
KEYSET_FORMAT = "certdesk-keys/1"


class InvalidToken(InputError):
    """A QR token is malformed, forged, or signed by a key the body never published."""


@dataclass(frozen=True)
class TokenClaims:
    """What a token vouches for."""

    number: str
    holder: str
    issue_date: date
    expiry_date: date

    def as_dict(self) -> dict:
        return {"number": self.number, "holder": self.holder, "issue_date": self.issue_date,
                "expiry_date": self.expiry_date}


@dataclass(frozen=True)
class VerifiedToken:
    claims: TokenClaims
    kid: str

    def as_dict(self) -> dict:
        return {**self.claims.as_dict(), "kid": self.kid}


def _days(d: date) -> int:
    days = (d - EPOCH).days
    if not 0 <= days <= 0xFFFF:
        raise InputError(f"date {d} is outside what a QR token can carry (2000-2179)")
    return days


def _message(number: str, signed: bytes) -> bytes:
    return DOMAIN + number.encode("ascii") + b"\0" + signed


def _b64url(data: bytes) -> str:
    """Base64url without padding (tokens and JWK values)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(claims: TokenClaims, kid: str, key: Ed25519PrivateKey) -> str:
    number = str(parse(claims.number))
    signed = _HEAD.pack(VERSION, bytes.fromhex(kid), _days(claims.issue_date),
                        _days(claims.expiry_date)) + claims.holder.encode("gb18030")
    raw = signed + key.sign(_message(number, signed))
    return _b64url(raw)


def current_token(settings: Settings, claims: TokenClaims) -> str:
    """A token for ``claims`` signed with the install's current token key."""
    kid, key = current_token_key(settings)
    return make_token(claims, kid, key)


def _decode(token: str) -> bytes:
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken(f"token is {len(token)} characters long; a genuine one is far shorter")
    if not _BASE64URL.fullmatch(token):
        raise InvalidToken("token is not base64url text")
    try:
        raw = _unb64url(token)
    except (binascii.Error, ValueError):
        raise InvalidToken("token is not valid base64url") from None
    if len(raw) < _HEAD.size + SIGNATURE_LENGTH:
        raise InvalidToken("token is too short to carry a signature")
    return raw


@lru_cache(maxsize=4096)
def _canonical(number: str) -> str:
    """``number`` as printed in the signed message (the public page checks a token on every
    request, for the same few numbers)."""
    return str(parse(number))


def _verify(key: Ed25519PublicKey, signature: bytes, message: bytes) -> None:
    """Ed25519 verification by libsodium: twice as fast as OpenSSL's (56 against 104 µs on
    the 2-core bench machine), and the largest cost of the public page, which checks the
    token on every request. Raises ``InvalidSignature`` as ``key.verify`` would."""
    try:
        crypto_sign_open(signature + message, key.public_bytes_raw())
    except BadSignatureError:
        raise InvalidSignature from None


def verify_token(token: str, number: str, keys: Mapping[str, Ed25519PublicKey]) -> VerifiedToken:
    """Check ``token`` for certificate ``number`` against ``keys`` (kid → public key).

    Returns what the token vouches for; raises ``InvalidToken`` saying why it is not genuine.
    """
    number = _canonical(number)
    raw = _decode(token.strip())
    signed, signature = raw[:-SIGNATURE_LENGTH], raw[-SIGNATURE_LENGTH:]
    version, kid_bytes, issue, expiry = _HEAD.unpack_from(signed)
    if version != VERSION:
        raise InvalidToken(f"token format {version} is not one this body issues (expected "
                           f"{VERSION})")
    kid = kid_bytes.hex()
    key = keys.get(kid)
    if key is None:
        raise InvalidToken(f"token is signed with key {kid}, which is not among the body's "
                           "published keys")
    try:
        _verify(key, signature, _message(number, signed))
    except InvalidSignature:
        raise InvalidToken(f"the token's signature does not match certificate {number}: "
                           "the QR code was altered or made for another certificate") from None
    try:
        holder = signed[_HEAD.size:].decode("gb18030")
    except UnicodeDecodeError:  # signed by the body, so only a bug of ours gets here
        raise InvalidToken("token holder is not GB 18030 text") from None
    claims = TokenClaims(number, holder, EPOCH + timedelta(days=issue),
                         EPOCH + timedelta(days=expiry))
    return VerifiedToken(claims, kid)


def split_url(url_or_token: str) -> tuple[str | None, str]:
    """``(number, token)`` from a scanned verification URL, or ``(None, token)`` for a bare one."""
    text = url_or_token.strip()
    if "/" not in text and "?" not in text:
        return None, text
    parts = urlsplit(text)
    match = re.search(r"/v/([^/?#]+)/?$", parts.path)
    tokens = parse_qs(parts.query).get("t")
    if not match or not tokens:
        raise InvalidToken("not a verification URL: expected …/v/<number>?t=<token>")
    return unquote(match.group(1)), tokens[0]


def claim_differences(claims: TokenClaims, holder: str, issue_date: date,
                      expiry_date: date) -> list[str]:
    """Which of a genuine token's claims the certificate record no longer states."""
    found = [("holder", claims.holder, holder), ("issue date", claims.issue_date, issue_date),
             ("expiry date", claims.expiry_date, expiry_date)]
    return [f"{name}: QR says {said}, record says {now}" for name, said, now in found
            if said != now]


# -- the published key set ------------------------------------------------------------------

def local_keys(settings: Settings) -> Mapping[str, Ed25519PublicKey]:
    """Every token key of this install, current and retired (old QR codes keep verifying)."""
    return _key_folder(settings.key_dir)


class KeyFolder(Mapping[str, Ed25519PublicKey]):
    """The token keys of a key folder, parsed once: the public page checks a token on every
    request. Rotation only ever adds a key file (a new kid; none is rewritten or removed),
    so the folder is read again only when asked for a kid not seen yet."""

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir
        self._keys: dict[str, Ed25519PublicKey] = {}

    def _read(self) -> dict[str, Ed25519PublicKey]:
        # certdesk makes every token key Ed25519 (keys.py)
        self._keys = {kid: cast(Ed25519PublicKey, cert.public_key()) for kid, cert in
                      token_certificates_in(self.key_dir).items()}
        return self._keys

    def __getitem__(self, kid: str) -> Ed25519PublicKey:
        keys = self._keys
        return keys[kid] if kid in keys else self._read()[kid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


@lru_cache(maxsize=8)
def _key_folder(key_dir: Path) -> KeyFolder:
    return KeyFolder(key_dir)


def keyset(settings: Settings) -> dict:
    """The document served at ``/.well-known/certdesk-keys.json``: a JWK set of the token keys
    (each with its certificate chain to the body's CA in ``x5c``) and the CA certificate that
    PDF signatures chain to."""
    ca = ca_certificate(settings)
    ca_der = ca.public_bytes(serialization.Encoding.DER)
    current = current_token_kid(settings)
    keys = []
    for kid, cert in token_certificates(settings).items():
        raw = cert.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
        keys.append({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
            "x": _b64url(raw), "status": "current" if kid == current else "retired",
            "not_before": cert.not_valid_before_utc.date().isoformat(),
            "not_after": cert.not_valid_after_utc.date().isoformat(),
            "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode(),
                    base64.b64encode(ca_der).decode()],
        })
    return {"format": KEYSET_FORMAT, "token_format": VERSION, "keys": keys,
            "ca_pem": ca.public_bytes(serialization.Encoding.PEM).decode("ascii")}


def keys_from_keyset(doc: object) -> dict[str, Ed25519PublicKey]:
    """The token keys of a published key set (as saved from the body's web site)."""
    if not isinstance(doc, dict) or doc.get("format") != KEYSET_FORMAT:
        raise InputError(f"not a certdesk key set (expected \"format\": \"{KEYSET_FORMAT}\")")
    out = {}
    for entry in doc.get("keys") or []:
        try:
            if entry["kty"] != "OKP" or entry["crv"] != "Ed25519":
                continue
            raw = _unb64url(entry["x"])
            out[entry["kid"]] = Ed25519PublicKey.from_public_bytes(raw)
        except (KeyError, TypeError, ValueError, binascii.Error):
            kid = entry.get("kid") if isinstance(entry, dict) else None
            raise InputError(f"key set entry {kid or '?'} is malformed") from None
    if not out:
        raise InputError("the key set holds no Ed25519 token key")
    return out
