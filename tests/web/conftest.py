"""Fixtures of the web tests: a data home seeded with certificates in every status (rows
and events written directly: no LibreOffice needed), signed stand-in PDFs of the valid and
the revoked certificate in its archive, and a test client on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from certdesk.common.settings import Settings
from certdesk.signing.keys import ensure_keys
from certdesk.signing.pdf import SignatureSpec, load_signer, sign_pdf
from certdesk.store import events
from certdesk.store.blobs import sha256_hex
from certdesk.store.db import init_db, make_engine, session_scope
from certdesk.store.models import Certificate, Organisation, Record
from certdesk.web import create_app
from tests.conftest import install_keys
from tests.shipped import SHIPPED
from tests.signing.support import make_settings, small_pdf

HOLDER = "北京恒信达家电售后服务有限公司"
MAIN = "027326FWF0001R000"
ISSUED, EXPIRES = date(2026, 11, 23), date(2029, 11, 22)
STAFF_ONLY = ("内部原因：客户投诉处理记录缺失", "王审核员")
"""A reason and a staff name logged with a status change: never shown to the public."""

BY_STATUS = {
    "valid": MAIN,
    "suspended": "027326FWF0002R000",
    "revoked": "027326FWF0003R000",
    "cancelled": "027326FWF0004R000",
    "expired": "027326FWF0005R000",
    "superseded": "027326FWF0006R000",
    "not_yet_valid": "027326FWF0008R000",
}
FUTURE = date(2090, 1, 1)
"""The not-yet-valid certificate's issue date."""
WITH_PDF = (MAIN, BY_STATUS["revoked"], BY_STATUS["not_yet_valid"])
"""Certificates whose (stand-in) PDF is signed and archived: ``<home>/pdf/<number>.pdf``."""
SUCCESSOR = "027326FWF0007R100"
ALONE = ("198.51.100.7", 50000)
"""A client address of its own for a test that runs a client into the rate limit: the
shared bucket (in the database) outlives the app, in the database the module's tests share."""


@dataclass(frozen=True)
class Seeded:
    settings: Settings
    engine: Engine


def _certificate(org_id: int, number: str, status: str = "valid", *, main: str | None = None,
                 sub: int | None = None, site: str | None = None, issue: date = ISSUED,
                 expiry: date = EXPIRES) -> Certificate:
    return Certificate(
        number=number, main_number=main, profile="xbht", organisation_id=org_id, sub=sub,
        holder_name=HOLDER, scope="家用电器的安装、维修", site_address=site,
        sites_json='[{"address": "北京市朝阳区建国路88号", "scope": "家用电器的安装、维修", '
                   '"temporary": false}, {"address": "天津市和平区南京路189号", '
                   '"scope": "家用电器的维修", "temporary": true}]' if main is None else "[]",
        grade="四星级", decision_date=issue, issue_date=issue, effective_from=issue,
        expiry_date=expiry, status=status)


def seed(settings: Settings, keys: Path | None = None) -> Engine:
    """``keys``: a key set to install (the session's ``key_material``); without, the first
    signature makes one, as on a first run."""
    if keys is not None:
        install_keys(keys, settings.home)
    signer = load_signer(ensure_keys(settings), settings.key_passphrase)
    (settings.home / "pdf").mkdir()
    pdfs = {}
    for number in WITH_PDF:
        pdfs[number] = sign_pdf(small_pdf(number), signer, SignatureSpec(reason="认证证书"))
        (settings.home / "pdf" / f"{number}.pdf").write_bytes(pdfs[number])
    engine = make_engine(settings.db_url)
    init_db(engine)
    with session_scope(engine) as s:
        org = Organisation(uscc="91110105MA01XB8H2N", name=HOLDER,
                           registered_address="北京市朝阳区建国路88号")
        s.add(org)
        s.flush()
        rows = [
            _certificate(org.id, MAIN),
            _certificate(org.id, f"{MAIN}-1", main=MAIN, sub=1, site="北京市朝阳区建国路88号"),
            _certificate(org.id, f"{MAIN}-2", "suspended", main=MAIN, sub=2,
                         site="天津市和平区南京路189号"),
            *(_certificate(org.id, BY_STATUS[st], st) for st in
              ("suspended", "revoked", "cancelled", "superseded")),
            _certificate(org.id, BY_STATUS["expired"], issue=date(2022, 7, 1),
                         expiry=date(2025, 6, 30)),
            _certificate(org.id, SUCCESSOR),
            _certificate(org.id, BY_STATUS["not_yet_valid"], issue=FUTURE,
                         expiry=date(2092, 12, 31)),
        ]
        for row in rows:
            if row.number in pdfs:
                row.pdf_sha256 = sha256_hex(pdfs[row.number])
                s.add(Record(sha256=row.pdf_sha256, size=len(pdfs[row.number]),
                             record_type="certificate", filename=f"{row.number}.pdf",
                             certificate_number=row.number, organisation_id=org.id))
        s.add_all(rows)
        for row in rows:
            events.append(s, "certificate.issued", row.number,
                          {"issue_date": row.issue_date}, "issuer", profiles=SHIPPED)
        reason, staff = STAFF_ONLY
        for number, action in ((BY_STATUS["suspended"], "suspend"), (f"{MAIN}-2", "suspend"),
                               (BY_STATUS["revoked"], "suspend"),
                               (BY_STATUS["revoked"], "revoke")):
            events.append(s, f"certificate.{action}", number,
                          {"reason": reason, "on": date(2027, 1, 5)}, staff, profiles=SHIPPED)
        events.append(s, "certificate.superseded", BY_STATUS["superseded"],
                      {"from": "valid", "by": SUCCESSOR}, staff)
    return engine


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, key_material) -> Seeded:
    settings = make_settings(tmp_path_factory.mktemp("web-home"), public_rate_burst=10_000,
                             public_url="https://cert.example.cn")
    return Seeded(settings, seed(settings, key_material))


@pytest.fixture(scope="module")
def client(seeded):
    with TestClient(create_app(seeded.settings, seeded.engine)) as c:
        yield c


@pytest.fixture(autouse=True)
def _fresh_language(request):
    """Each test starts without a remembered ``?lang=`` (the shared client keeps cookies)."""
    yield
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.delete("certdesk_lang")
