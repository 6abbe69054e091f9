"""Key material: PKCS#12 encrypted at rest, ``certdesk keys init|show|rotate``, rotated keys
that keep verifying what they signed, and the CA chain embedded in every signature."""

from __future__ import annotations

import io
import json
import shutil
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader

from certdesk.common.errors import SigningError
from certdesk.signing import keys
from certdesk.signing.keys import (
    ca_certificate,
    current_signer,
    ensure_keys,
    key_id,
    load_key_file,
    rotate,
)
from certdesk.signing.pdf import SignatureSpec, load_signer, sign_pdf, validate
from tests.conftest import install_keys, run_cli
from tests.signing.support import make_settings, small_pdf


@pytest.fixture(scope="module")
def initialised(tmp_path_factory):
    """A home after ``certdesk keys init`` (generating an RSA CA is slow: do it once)."""
    home = tmp_path_factory.mktemp("keys-home")
    result = run_cli("keys", "init", "--json", home=home)
    assert result.returncode == 0, result.stderr
    return home, json.loads(result.stdout)


def test_keys_init_creates_a_ca_signer_and_token_key_encrypted_at_rest(initialised):
    home, keys = initialised
    assert [k["current"] for k in keys["signers"]] == [True]
    assert [k["current"] for k in keys["token_keys"]] == [True]
    p12s = sorted((home / "keys").rglob("*.p12"))
    assert len(p12s) == 3  # CA, signer, token key
    for path in p12s:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with pytest.raises(ValueError):
            pkcs12.load_key_and_certificates(path.read_bytes(), b"not the passphrase")
        key, cert, _ = pkcs12.load_key_and_certificates(path.read_bytes(),
                                                        b"certdesk-demo-passphrase")
        assert key is not None and cert is not None


def test_keys_init_run_again_keeps_the_same_keys(initialised):
    home, first = initialised
    assert json.loads(run_cli("keys", "init", "--json", home=home).stdout) == first


def test_keys_show_warns_while_the_demo_passphrase_protects_the_keys(initialised):
    home, _ = initialised
    assert "demo passphrase" in run_cli("keys", "show", home=home).stdout.replace("\n", " ")


def test_keys_with_their_own_passphrase_show_no_warning_and_refuse_a_wrong_one(cli):
    mine = {"CERTDESK_KEY_PASSPHRASE": "a long passphrase of the body"}
    assert cli("keys", "init", env=mine).returncode == 0
    assert "demo passphrase" not in cli("keys", "show", env=mine).stdout
    wrong = cli("keys", "show", env={"CERTDESK_KEY_PASSPHRASE": "wrong"})
    assert wrong.returncode == 2
    assert wrong.stderr.count("\n") == 1 and "CERTDESK_KEY_PASSPHRASE" in wrong.stderr


def test_keys_rotate_makes_new_keys_current_and_keeps_the_old_ones(cli):
    before = json.loads(cli("keys", "init", "--json").stdout)
    after = json.loads(cli("keys", "rotate", "--json").stdout)
    for kind in ("signers", "token_keys"):
        old = before[kind][0]["kid"]
        assert {k["kid"] for k in after[kind]} > {old}
        assert [k["kid"] for k in after[kind] if k["current"]] != [old]
        assert sum(k["current"] for k in after[kind]) == 1
    assert after["ca"] == before["ca"]


@pytest.fixture(scope="module")
def settings_with_keys(tmp_path_factory, key_material):
    return make_settings(install_keys(key_material, tmp_path_factory.mktemp("home")))


def test_every_signature_embeds_the_chain_from_the_signer_up_to_the_ca(settings_with_keys):
    settings = settings_with_keys
    signed = sign_pdf(small_pdf(), load_signer(ensure_keys(settings), settings.key_passphrase),
                      SignatureSpec(reason="test"))
    sig = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    embedded = {key_id_of(c) for c in sig.signed_data["certificates"]}
    assert key_id(ca_certificate(settings)) in embedded
    assert ensure_keys(settings).kid in embedded


def test_a_pdf_signed_before_rotation_still_validates_and_names_its_old_key(settings_with_keys):
    settings = settings_with_keys
    old = ensure_keys(settings)
    spec = SignatureSpec(reason="test")
    before = sign_pdf(small_pdf(), load_signer(old, settings.key_passphrase), spec)
    new, _ = rotate(settings)
    after = sign_pdf(small_pdf(), load_signer(new, settings.key_passphrase), spec)
    roots = [ca_certificate(settings)]
    assert validate(before, roots).ok and validate(before, roots).signer_kid == old.kid
    assert validate(after, roots).ok and validate(after, roots).signer_kid == new.kid != old.kid


def key_id_of(choice) -> str:
    return key_id(x509.load_der_x509_certificate(choice.chosen.dump()))


def test_the_kept_key_signs_exactly_as_pyhanko_would_and_the_certificate_verifies_it(
        settings_with_keys):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from pyhanko.sign.signers import SimpleSigner

    key = ensure_keys(settings_with_keys)
    signer = load_signer(key, settings_with_keys.key_passphrase)
    plain = SimpleSigner.load_pkcs12(str(key.p12_path),
                                     passphrase=settings_with_keys.key_passphrase.encode())
    raw = signer.sign_raw(b"record bytes", "sha256")
    # PKCS#1 v1.5 is deterministic: the fast path must give pyHanko's own bytes.
    assert raw == plain.sign_raw(b"record bytes", "sha256")
    public = x509.load_der_x509_certificate(signer.signing_cert.dump()).public_key()
    public.verify(raw, b"record bytes", padding.PKCS1v15(), hashes.SHA256())


def test_a_key_file_is_decrypted_once_however_often_and_wherever_it_is_opened(
        keyed_home, settings, tmp_path, monkeypatch):
    opened = []
    real = keys.pkcs12.load_key_and_certificates
    monkeypatch.setattr(keys.pkcs12, "load_key_and_certificates",
                        lambda data, pw: opened.append(data) or real(data, pw))
    keys._decrypt.cache_clear()
    signer = current_signer(settings)
    copy = shutil.copy(signer.p12_path, tmp_path / "copy.p12")
    first = load_key_file(signer.p12_path, settings.key_passphrase)
    assert load_key_file(copy, settings.key_passphrase) == first
    assert len(opened) == 1


def test_a_wrong_passphrase_is_refused_after_the_right_one_opened_the_file(keyed_home,
                                                                          settings):
    path = current_signer(settings).p12_path
    with pytest.raises(SigningError, match="wrong CERTDESK_KEY_PASSPHRASE"):
        load_key_file(path, "not the passphrase")
