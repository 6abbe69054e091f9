"""Fixtures of the signing tests: a local RFC 3161 time-stamping authority on loopback."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper


@dataclass(frozen=True)
class LocalTSA:
    url: str
    roots: Path
    """PEM of the TSA's root: what CERTDESK_TSA_ROOTS points at."""
    requests: list


def _cert(subject: str, issuer_key, issuer_name: x509.Name | None, key, *, ca: bool):
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1))
               .not_valid_after(now + timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True,
                                                      True, False, False), critical=True)
    else:  # RFC 3161 §2.3: a TSA certificate has exactly the critical timeStamping EKU
        builder = builder.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="session")
def tsa(tmp_path_factory):
    """pyHanko's test time-stamper behind a tiny HTTP server on 127.0.0.1."""
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _cert("certdesk test TSA root", root_key, None, root_key, ca=True)
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_cert = _cert("certdesk test TSA", root_key, root.subject, tsa_key, ca=False)

    def asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    stamper = DummyTimeStamper(
        tsa_cert=asn1(tsa_cert), certs_to_embed=[asn1(root)],
        tsa_key=asn1_keys.PrivateKeyInfo.load(tsa_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())))
    requests: list = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            req = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append(req)
            body = stamper.request_tsa_response(req).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # keep pytest's output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    roots = tmp_path_factory.mktemp("tsa") / "tsa-root.pem"
    roots.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    yield LocalTSA(f"http://127.0.0.1:{server.server_address[1]}/tsa", roots, requests)
    server.shutdown()
    server.server_close()
