"""Fixtures for the records archive: small PDFs, credit codes, certificates put straight
into the database with chosen dates (retention is about the past), and the blob store."""

from __future__ import annotations

import io
import itertools
from datetime import date

import pikepdf
import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from certdesk.domain.numbering import CertNumber
from certdesk.domain.uscc import check_character
from certdesk.store import events
from certdesk.store.blobs import BlobStore
from certdesk.store.db import make_engine
from certdesk.store.models import Certificate, Organisation
from certdesk.store.state import next_due_date
from tests.shipped import SHIPPED

_serial = itertools.count(1)


def make_uscc(n: int) -> str:
    first17 = f"91110000{n:09d}"
    return first17 + check_character(first17)


def make_pdf(text: str) -> bytes:
    """A one-page PDF whose bytes differ by ``text``."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Title"] = text
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def add_certificate(engine, profile: str, uscc: str, issue: date, expiry: date,
                    status: str = "valid", name: str = "测试有限公司", *,
                    logged: bool = True) -> str:
    """A main certificate row (and its organisation) with the given dates; its number.
    ``logged``: with its ``certificate.issued`` log entry, as issuing writes it (so that
    the audit's state check finds the two agree)."""
    p = SHIPPED.get(profile)
    number = str(CertNumber(p.body.body_code, issue.year % 100, p.scheme.code,
                            f"{next(_serial):04d}", 0, p.body.accreditation_code))
    with Session(engine) as s:
        org = s.exec(select(Organisation).where(Organisation.uscc == uscc)).first()
        if org is None:
            org = Organisation(uscc=uscc, name=name, registered_address="北京市")
            s.add(org)
            s.flush()
        cert = Certificate(number=number, profile=profile, organisation_id=org.id,
                           holder_name=name, scope="家用电器", decision_date=issue,
                           issue_date=issue, effective_from=issue, expiry_date=expiry,
                           status=status)
        cert.next_surveillance_due = next_due_date(p.rules.dates, cert, [])
        s.add(cert)
        if logged:
            events.append(s, "certificate.issued", number,
                          {"issue_date": issue, "expiry_date": expiry}, "test", profiles=SHIPPED)
        s.commit()
    return number


@pytest.fixture
def store(settings) -> BlobStore:
    return BlobStore(settings.blob_dir)


@pytest.fixture
def pdf_file(tmp_path):
    def _make(text: str, name: str | None = None):
        path = tmp_path / (name or f"{text}.pdf")
        path.write_bytes(make_pdf(text))
        return path

    return _make


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request, tmp_path):
    """An empty database, SQLite or PostgreSQL (not migrated)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    else:
        url = request.getfixturevalue("postgres_url")
        engine = make_engine(url)
        with engine.begin() as conn:  # each test starts from an empty database
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    yield engine
    engine.dispose()
