"""One key set, always: processes started together on a fresh home create one CA, one
signer and one token key (a lock in the home, then a second look), whatever the database;
what any key of the body signed verifies, and ``archive audit`` validates every archived
certificate's signature, so a certificate signed by another key is never "clean"."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from sqlalchemy import text

from certdesk.signing.keys import (
    current_signer,
    ensure_keys,
    known_signers,
    token_certificates,
    trust_anchors,
)
from certdesk.signing.pdf import SignatureSpec, load_signer, sign_pdf
from certdesk.signing.trust import Trust
from certdesk.store.blobs import BlobStore
from certdesk.store.db import init_db, make_engine, session_scope
from certdesk.store.records import Filing, add_record
from tests.conftest import CERTDESK, REPO, run_cli
from tests.shipped import SHIPPED
from tests.signing.support import make_settings, small_pdf
from tests.store.conftest import make_uscc


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(CERTDESK), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})


def _finish(procs: list[subprocess.Popen]) -> list[str]:
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        outs.append(out)
    return outs


@pytest.mark.slow  # four processes at once
def test_four_keys_init_started_together_on_a_fresh_home_make_one_key_set(tmp_path):
    home = tmp_path / "home"
    shown = [json.loads(out) for out in _finish(
        [_start(["keys", "init", "--json"], {"CERTDESK_HOME": str(home)}) for _ in range(4)])]
    settings = make_settings(home)
    assert len(known_signers(settings)) == 1 and len(token_certificates(settings)) == 1
    assert len(trust_anchors(settings)) == 1 and len(list((home / "keys").rglob("*.p12"))) == 3
    assert all(s == shown[0] for s in shown)  # every process ended up with the same keys
    (signer,) = shown[0]["signers"]
    assert signer["current"] and signer["subject"].startswith("CN=certdesk demo signer")
    assert signer["created"] and signer["issuer"] == shown[0]["ca"]["subject"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_env(request) -> dict[str, str]:
    if request.param == "sqlite":
        return {"CERTDESK_DATABASE_URL": ""}
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    with engine.begin() as conn:  # a fresh database, as on a new install
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return {"CERTDESK_DATABASE_URL": url}


@pytest.mark.office
def test_four_issuing_processes_started_together_leave_one_key_set_and_all_verify(
        tmp_path, database_env):
    home = tmp_path / "home"
    env = {"CERTDESK_HOME": str(home), "CERTDESK_CONVERTER_WORKERS": "1", **database_env}
    orgs = json.loads((REPO / "examples" / "organisations.json").read_text(encoding="utf-8"))
    inputs = []
    for i in range(4):
        path = tmp_path / f"batch{i}.json"
        # One organisation each: the test is about keys, not two batches naming one client.
        org = {**orgs[0], "uscc": make_uscc(7100 + i), "name": f"{orgs[0]['name']}{i}"}
        path.write_text(json.dumps([org], ensure_ascii=False), encoding="utf-8")
        inputs.append(path)
    outs = _finish([_start(["issue", "-p", "xbht", "-i", str(p), "--json"], env)
                    for p in inputs])
    pdfs = [c["pdf"] for out in outs for c in json.loads(out)["certificates"]]
    assert len(pdfs) == 4
    keys = json.loads(run_cli("keys", "show", "--json", env=env).stdout)
    assert [k["current"] for k in keys["signers"]] == [True]
    assert [k["current"] for k in keys["token_keys"]] == [True]
    for pdf in pdfs:
        verdict = run_cli("verify", pdf, "--json", env=env)
        assert verdict.returncode == 0, verdict.stdout
        assert json.loads(verdict.stdout)["signature"]["signer_kid"] == keys["signers"][0]["kid"]
    assert run_cli("archive", "audit", env=env).returncode == 0


def test_an_archived_certificate_signed_by_a_foreign_key_is_reported_by_archive_audit(
        tmp_path):
    home = tmp_path / "home"
    assert run_cli("keys", "init", home=home).returncode == 0
    settings, elsewhere = make_settings(home), make_settings(tmp_path / "another-body")
    foreign = sign_pdf(small_pdf("forged"), load_signer(ensure_keys(elsewhere),
                                                        elsewhere.key_passphrase),
                       SignatureSpec(reason="x"))
    own = sign_pdf(small_pdf("ours"), load_signer(current_signer(settings),
                                                  settings.key_passphrase),
                   SignatureSpec(reason="x"))
    engine = make_engine(settings.db_url)
    init_db(engine)
    store = BlobStore(settings.blob_dir)
    with session_scope(engine) as s:
        for name, data in (("ours.pdf", own), ("forged.pdf", foreign)):
            add_record(s, store, settings, data, record_type="certificate", filename=name,
                       filing=Filing(SHIPPED.get("xbht"), None, None, None), signer=None,
                       actor="test")
    engine.dispose()
    audit = run_cli("archive", "audit", "--json", home=home)
    assert audit.returncode == 1
    (bad,) = json.loads(audit.stdout)["bad_signature"]
    assert bad["filename"] == "forged.pdf"
    assert "does not trust" in " ".join(bad["problems"])
    human = run_cli("archive", "audit", home=home)
    assert "forged.pdf" in human.stdout and "clean" not in human.stdout


def test_a_signer_of_an_earlier_ca_of_the_body_still_verifies_and_is_listed(tmp_path):
    """A home where keys were created twice before the lock existed: the signer certified by
    the overwritten CA is still the body's, so what it signed keeps verifying."""
    home = tmp_path / "home"
    assert run_cli("keys", "init", home=home).returncode == 0
    settings = make_settings(home)
    old = current_signer(settings)
    data = sign_pdf(small_pdf(), load_signer(old, settings.key_passphrase),
                    SignatureSpec(reason="x"))
    for name in ("ca.p12", "ca.pem", "current", "current-token"):  # what a second process did
        (home / "keys" / name).unlink()
    assert run_cli("keys", "init", home=home).returncode == 0
    assert len(trust_anchors(settings)) == 2 and old.kid in known_signers(settings)
    assert Trust.of(settings).check(data).ok
    shown = json.loads(run_cli("keys", "show", "--json", home=home).stdout)
    assert {k["kid"] for k in shown["signers"]} >= {old.kid}


def test_a_key_certified_by_the_body_ca_but_not_among_its_signer_keys_is_not_trusted(tmp_path):
    settings = make_settings(tmp_path / "home")
    key = ensure_keys(settings)
    data = sign_pdf(small_pdf(), load_signer(key, settings.key_passphrase),
                    SignatureSpec(reason="x"))
    assert Trust.of(settings).check(data).ok
    for path in (settings.key_dir / "signers").glob(f"{key.kid}.*"):
        path.unlink()  # a key the body no longer counts among its own
    report = Trust.of(settings).check(data)
    assert not report.trusted and "does not trust" in " ".join(report.problems)


def test_signer_keys_made_before_they_had_a_public_file_get_one_on_the_next_keys_init(
        tmp_path):
    home = tmp_path / "home"
    assert run_cli("keys", "init", home=home).returncode == 0
    (pem,) = (home / "keys" / "signers").glob("*.pem")
    before = pem.read_bytes()
    pem.unlink()  # as an install from before this change has it
    assert run_cli("keys", "init", home=home).returncode == 0
    assert pem.read_bytes() == before
    wrong = make_settings(home, key_passphrase="not the passphrase")
    assert Trust.of(wrong).signers == Trust.of(make_settings(home)).signers  # no passphrase
