"""Verdicts from the archive's point of view: a genuine certificate, an earlier version of a
re-issued one and a re-certified one are told apart; a genuine status notice is not taken
for a certificate; a certificate is relied on only while valid (not before its issue date)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from certdesk.services.issuing import supersede
from certdesk.services.verification import verify_pdf
from certdesk.signing.keys import ensure_keys
from certdesk.signing.pdf import SignatureSpec, load_signer, sign_pdf
from certdesk.store.blobs import sha256_hex
from certdesk.store.db import init_db, make_engine, session_scope
from certdesk.store.models import Certificate, Organisation, Record
from tests.conftest import install_keys
from tests.signing.support import make_settings, small_pdf

NUMBER = "027326FWF0001R000"


@pytest.fixture(scope="module")
def signed(tmp_path_factory, key_material):
    settings = make_settings(install_keys(key_material, tmp_path_factory.mktemp("home")))
    signer = load_signer(ensure_keys(settings), settings.key_passphrase)
    return settings, {name: sign_pdf(small_pdf(name), signer, SignatureSpec(reason=name))
                      for name in ("v1", "v2", "notice")}


@pytest.fixture
def archive(signed, tmp_path):
    """An archive holding two certified PDFs of one certificate (v1 re-issued as v2) and a
    certified status notice about it; a fresh database per test."""
    settings, files = signed
    engine = make_engine(f"sqlite:///{tmp_path / 'certdesk.db'}")
    init_db(engine)
    with session_scope(engine) as s:
        org = Organisation(uscc="91110105MA01XB8H2N", name="甲公司", registered_address="北京")
        s.add(org)
        s.flush()
        for name, data in files.items():
            s.add(Record(sha256=sha256_hex(data), size=len(data), filename=f"{name}.pdf",
                         record_type="notice" if name == "notice" else "certificate",
                         certificate_number=NUMBER))
        s.add(Certificate(number=NUMBER, profile="xbht", organisation_id=org.id,
                          holder_name="甲公司", scope="家电维修", decision_date=date(2026, 11, 20),
                          issue_date=date(2026, 11, 23), effective_from=date(2026, 11, 23),
                          expiry_date=date(2029, 11, 22), pdf_sha256=sha256_hex(files["v2"])))
    return settings, engine, files


def test_the_current_file_of_a_certificate_is_genuine(archive):
    settings, engine, files = archive
    verdict = verify_pdf(files["v2"], settings, engine, today=date(2027, 1, 1))
    assert (verdict.verdict, verdict.status, verdict.number) == ("genuine", "valid", NUMBER)
    assert verdict.reliable_now and verdict.tone == "valid" and verdict.headline("zh") == "有效"


def test_an_earlier_version_of_a_re_issued_certificate_is_superseded(archive):
    settings, engine, files = archive
    verdict = verify_pdf(files["v1"], settings, engine)
    assert (verdict.verdict, verdict.status, verdict.reason.code) == \
        ("genuine", "superseded", "reissued")
    assert verdict.current_number == NUMBER and not verdict.reliable_now


def test_a_re_certified_certificate_is_superseded_and_names_its_successor(archive):
    settings, engine, files = archive
    with session_scope(engine) as s:  # as re-certification does: column and log entry
        supersede(s, NUMBER, "027329FWF0004R100", "issuer")
    verdict = verify_pdf(files["v2"], settings, engine)
    assert (verdict.verdict, verdict.status) == ("genuine", "superseded")
    assert verdict.current_number == "027329FWF0004R100"
    assert "027329FWF0004R100" in verdict.reason.zh and verdict.headline("zh") == "已换发"


def test_a_genuine_status_notice_is_not_taken_for_a_certificate(archive):
    settings, engine, files = archive
    verdict = verify_pdf(files["notice"], settings, engine)
    assert (verdict.verdict, verdict.kind, verdict.status) == ("genuine", "notice", None)
    assert "不是证书" in verdict.reason.zh and "not a certificate" in verdict.reason.en
    assert verdict.tone == "record" and verdict.headline("zh") == "本机构存档记录：通知书"
    assert not verdict.reliable_now  # a genuine notice is nothing to rely on as a certificate


def test_an_expired_certificate_is_genuine_with_status_expired(archive):
    settings, engine, files = archive
    verdict = verify_pdf(files["v2"], settings, engine, today=date(2030, 1, 1))
    assert (verdict.verdict, verdict.status) == ("genuine", "expired")
    assert not verdict.reliable_now and "2029年11月22日" in verdict.reason.zh


def test_a_certificate_before_its_issue_date_is_genuine_but_not_yet_valid(archive):
    settings, engine, files = archive
    verdict = verify_pdf(files["v2"], settings, engine, today=date(2026, 11, 22))
    assert (verdict.verdict, verdict.status, verdict.reliable_now) == \
        ("genuine", "not_yet_valid", False)
    assert verdict.headline("zh") == "尚未生效" and "2026年11月23日" in verdict.reason.zh
    assert verdict.as_dict()["reason"]["code"] == "not_yet_valid"


@pytest.mark.parametrize("status", ["suspended", "revoked", "cancelled"])
def test_a_genuine_certificate_that_is_not_valid_is_never_reliable(archive, status):
    settings, engine, files = archive
    with session_scope(engine) as s:
        row = s.exec(select(Certificate).where(Certificate.number == NUMBER)).one()
        row.status = status
    verdict = verify_pdf(files["v2"], settings, engine, today=date(2027, 1, 1))
    out = verdict.as_dict()
    assert (out["genuine"], out["status"], out["reliable_now"]) == (True, status, False)
    assert out["reason"]["code"] == status and verdict.tone == status
