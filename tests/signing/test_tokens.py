"""Signed QR tokens: they verify offline against the published keys, survive key rotation,
and every altered, foreign or malformed token is refused with a reason — never a crash."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import date

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from certdesk.common.errors import InputError
from certdesk.signing.keys import ensure_keys, rotate
from certdesk.signing.tokens import (
    InvalidToken,
    TokenClaims,
    _verify,
    claim_differences,
    current_token,
    keys_from_keyset,
    keyset,
    local_keys,
    make_token,
    split_url,
    verify_token,
)
from tests.conftest import install_keys, run_cli
from tests.signing.support import make_settings

NUMBER = "027326FWF0001R000-1"
CLAIMS = TokenClaims(NUMBER, "北京恒信达家电售后服务有限公司", date(2026, 11, 23),
                     date(2029, 11, 22))


@pytest.fixture(scope="module")
def body(tmp_path_factory, key_material):
    return make_settings(install_keys(key_material, tmp_path_factory.mktemp("token-home")),
                         public_url="https://cert.example.cn")


@pytest.fixture(scope="module")
def token(body) -> str:
    return current_token(body, CLAIMS)


def test_a_token_verifies_and_gives_back_what_it_vouches_for(body, token):
    found = verify_token(token, NUMBER, local_keys(body))
    assert found.claims == CLAIMS
    assert found.kid in local_keys(body)


def test_the_same_facts_always_give_the_same_token(body, token):
    # Ed25519 is deterministic: the QR in the PDF equals the URL the issuer reports.
    assert current_token(body, CLAIMS) == token


def test_a_token_is_compact_base64url_of_about_a_hundred_bytes(token):
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(raw) == 1 + 8 + 4 + 2 * len(CLAIMS.holder) + 64  # holder in GB 18030


def test_a_token_moved_to_another_certificate_number_is_refused(body, token):
    with pytest.raises(InvalidToken, match="does not match certificate"):
        verify_token(token, "027326FWF0001R000-2", local_keys(body))


@pytest.mark.parametrize("position", [0, 3, 9, 12, 20, -1])
def test_a_token_with_any_byte_altered_is_refused(body, token, position):
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[position] ^= 0x01
    altered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        verify_token(altered, NUMBER, local_keys(body))


def test_a_token_signed_by_a_key_the_body_never_published_is_refused(body):
    forged = make_token(CLAIMS, "00112233aabbccdd", Ed25519PrivateKey.generate())
    with pytest.raises(InvalidToken, match="not among the body's published keys"):
        verify_token(forged, NUMBER, local_keys(body))


def test_a_forger_reusing_the_body_key_id_with_his_own_key_is_refused(body):
    kid = next(iter(local_keys(body)))
    forged = make_token(CLAIMS, kid, Ed25519PrivateKey.generate())
    with pytest.raises(InvalidToken, match="does not match"):
        verify_token(forged, NUMBER, local_keys(body))


@pytest.mark.parametrize("text", ["", "!!!!", "A" * 2000, "AAAA", "AQ", "Zm9v", "a b",
                                  "AgAAAAAAAAAAAAAAAAAA" + "A" * 90])
def test_malformed_tokens_are_refused_with_a_reason(body, text):
    with pytest.raises(InvalidToken):
        verify_token(text, NUMBER, local_keys(body))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_no_text_whatever_makes_token_checking_fail_other_than_politely(text):
    keys = {"00112233aabbccdd": Ed25519PrivateKey.generate().public_key()}
    with contextlib.suppress(InputError):  # a refusal with a reason is the polite answer
        verify_token(text, NUMBER, keys)


def test_claims_a_record_no_longer_states_are_named(token, body):
    found = verify_token(token, NUMBER, local_keys(body))
    assert claim_differences(found.claims, CLAIMS.holder, CLAIMS.issue_date,
                             CLAIMS.expiry_date) == []
    diffs = claim_differences(found.claims, "新名称有限公司", CLAIMS.issue_date, CLAIMS.expiry_date)
    assert len(diffs) == 1 and diffs[0].startswith("holder")


def test_the_published_key_set_alone_verifies_a_token(body, token):
    doc = json.loads(json.dumps(keyset(body)))  # exactly what /.well-known serves
    assert doc["keys"][0]["kty"] == "OKP" and doc["keys"][0]["status"] == "current"
    assert verify_token(token, NUMBER, keys_from_keyset(doc)).claims == CLAIMS


@pytest.mark.parametrize("doc", [[], {"format": "other"}, {"format": "certdesk-keys/1"},
                                 {"format": "certdesk-keys/1", "keys": [{"kty": "OKP"}]}])
def test_a_malformed_key_set_is_refused(doc):
    with pytest.raises(InputError):
        keys_from_keyset(doc)


def test_split_url_finds_number_and_token_in_a_scanned_url():
    assert split_url("https://cert.example.cn/v/027326FWF0001R000-1?t=abc") == (NUMBER, "abc")
    assert split_url("  abc  ") == (None, "abc")
    with pytest.raises(InvalidToken):
        split_url("https://cert.example.cn/other?x=1")


def test_a_token_made_before_key_rotation_still_verifies(tmp_path):
    settings = make_settings(tmp_path / "home")
    ensure_keys(settings)
    old = current_token(settings, CLAIMS)
    rotate(settings)
    new = current_token(settings, CLAIMS)
    keys = local_keys(settings)
    assert len(keys) == 2 and old != new
    assert verify_token(old, NUMBER, keys).kid != verify_token(new, NUMBER, keys).kid
    assert {k["status"] for k in keyset(settings)["keys"]} == {"current", "retired"}


# -- certdesk token verify ---------------------------------------------------------------------

def test_token_verify_accepts_the_scanned_url_offline(body, token):
    url = f"{body.public_url}/v/{NUMBER}?t={token}"
    result = run_cli("token", "verify", url, "--json", home=body.home)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["valid"] and out["holder"] == CLAIMS.holder and out["number"] == NUMBER


def test_token_verify_with_a_saved_key_set_needs_no_install(body, token, tmp_path):
    saved = tmp_path / "certdesk-keys.json"
    saved.write_text(json.dumps(keyset(body)))
    result = run_cli("token", "verify", token, "--number", NUMBER, "--keys", str(saved),
                     home=tmp_path / "empty-home")
    assert result.returncode == 0, result.stderr
    assert "genuine QR token" in result.stdout and "status not checked" in result.stdout


def test_token_verify_answers_a_forged_token_in_one_line_with_exit_1(body, token):
    url = f"{body.public_url}/v/027326FWF0001R000-2?t={token}"
    result = run_cli("token", "verify", url, home=body.home)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "not genuine" in result.stderr
    as_json = run_cli("token", "verify", url, "--json", home=body.home)
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["valid"] is False


def test_token_verify_asks_for_the_number_of_a_bare_token(body, token):
    result = run_cli("token", "verify", token, home=body.home)
    assert result.returncode == 2 and "--number" in result.stderr


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=120), st.integers(min_value=-1, max_value=8 * 184 - 1))
def test_the_token_signature_check_agrees_with_openssl(message, flipped_bit):
    # libsodium checks the tokens (speed); it must accept and refuse exactly what OpenSSL does
    key = Ed25519PrivateKey.generate()
    signed = bytearray(key.sign(message) + message)
    flipped = 0 <= flipped_bit < 8 * len(signed)
    if flipped:
        signed[flipped_bit // 8] ^= 1 << flipped_bit % 8
    signature, body = bytes(signed[:64]), bytes(signed[64:])
    verdicts = []
    for check in (key.public_key().verify, lambda s, m: _verify(key.public_key(), s, m)):
        try:
            check(signature, body)
            verdicts.append(True)
        except InvalidSignature:
            verdicts.append(False)
    assert verdicts == [not flipped, not flipped]
