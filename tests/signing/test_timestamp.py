"""RFC 3161 timestamps from a TSA on loopback: every signature gets one when a TSA is set,
the token validates (imprint and TSA chain), and a TSA nobody trusts or that is down is
reported in one line."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader

from certdesk.common.errors import ConfigError, SigningError
from certdesk.signing.keys import ca_certificate, ensure_keys, tsa_roots
from certdesk.signing.pdf import (
    SignatureSpec,
    load_signer,
    sign_approval,
    sign_pdf,
    validate,
    validate_approvals,
)
from tests.conftest import install_keys, run_cli
from tests.signing.support import make_settings, small_pdf


@pytest.fixture(scope="module")
def body(tmp_path_factory, key_material):
    settings = make_settings(install_keys(key_material, tmp_path_factory.mktemp("tsa-home")))
    return settings, load_signer(ensure_keys(settings), settings.key_passphrase)


@pytest.fixture(scope="module")
def stamped(body, tsa) -> bytes:
    return sign_pdf(small_pdf(), body[1], SignatureSpec(reason="证书"), tsa.url)


def tsa_root(tsa) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(tsa.roots.read_bytes())


def test_a_signature_made_with_a_tsa_carries_a_timestamp_that_validates(body, stamped, tsa):
    report = validate(stamped, [ca_certificate(body[0])], tsa_root(tsa))
    assert report.ok, report.problems
    assert report.timestamped and report.timestamp_ok
    assert abs(report.timestamp_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert tsa.requests  # the TSA really was asked


def test_the_timestamp_token_imprints_the_signature_value(stamped):
    sig = PdfFileReader(io.BytesIO(stamped)).embedded_signatures[0]
    signer_info = sig.signer_info
    token = next(a["values"][0] for a in signer_info["unsigned_attrs"]
                 if a["type"].native == "signature_time_stamp_token")
    tst_info = token["content"]["encap_content_info"]["content"].parsed
    imprint = tst_info["message_imprint"]
    assert imprint["hash_algorithm"]["algorithm"].native == "sha256"
    assert imprint["hashed_message"].native == hashlib.sha256(
        signer_info["signature"].native).digest()


def test_a_timestamp_from_a_tsa_the_body_does_not_trust_is_a_problem(body, stamped):
    report = validate(stamped, [ca_certificate(body[0])])
    assert not report.ok
    assert any("TSA this body does not trust" in p for p in report.problems)


def test_a_tsa_root_never_vouches_for_a_pdf_signer(body, tsa):
    # Trusting the TSA's root for timestamps must not make a signature by it trusted.
    unsigned = sign_pdf(small_pdf(), body[1], SignatureSpec(reason="x"))
    assert not validate(unsigned, tsa_root(tsa), tsa_root(tsa)).trusted


def test_approval_signatures_are_timestamped_too(body, tsa):
    data = sign_approval(small_pdf(), body[1], "审核组长", "张三", tsa_url=tsa.url)
    data = sign_approval(data, body[1], "认证决定人", "王五", final=True, tsa_url=tsa.url)
    report = validate_approvals(data, [ca_certificate(body[0])], tsa_root(tsa))
    assert report.ok, report.problems
    assert all(a.report.timestamp_ok for a in report.approvals)


def test_a_tsa_that_is_down_stops_signing_with_a_clear_error(body):
    with pytest.raises(SigningError, match="time-stamping authority http://127.0.0.1:9/"):
        sign_pdf(small_pdf(), body[1], SignatureSpec(reason="x"), "http://127.0.0.1:9/")


def test_certdesk_sign_timestamps_when_certdesk_tsa_url_is_set(body, tsa, tmp_path):
    record = tmp_path / "report.pdf"
    record.write_bytes(small_pdf())
    env = {"CERTDESK_TSA_URL": tsa.url, "CERTDESK_TSA_ROOTS": str(tsa.roots)}
    result = run_cli("sign", str(record), "-r", "审核组长", "-s", "张三", "--json",
                     home=body[0].home, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["approvals"][0]["timestamp_ok"]


def test_a_tsa_without_its_root_certificates_is_refused_before_anything_is_signed(tmp_path):
    settings = make_settings(tmp_path / "home", tsa_url="http://127.0.0.1:9/")
    with pytest.raises(ConfigError, match="CERTDESK_TSA_ROOTS"):
        ensure_keys(settings)
    missing = make_settings(tmp_path / "home", tsa_roots=tmp_path / "nowhere.pem")
    with pytest.raises(ConfigError, match="nowhere.pem"):
        tsa_roots(missing)
