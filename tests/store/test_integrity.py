"""Tampering is found: a changed byte, a deleted blob, an extra file, an edited row, and an
edited, deleted, reordered or cut-off log entry — by ``archive audit`` and ``log verify``."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import select

from certdesk.services.audit import audit
from certdesk.store.db import session_scope
from certdesk.store.events import verify_chain
from certdesk.store.models import Record
from certdesk.store.records import Filing, add_record
from certdesk.store.retention import add_years
from tests.shipped import SHIPPED
from tests.store.conftest import make_pdf, make_uscc

USCC = make_uscc(1)


def add(engine, store, settings, text_: str, record_type: str = "report") -> Record:
    with session_scope(engine) as s:
        row, _ = add_record(s, store, settings, make_pdf(text_), record_type=record_type,
                            filename=f"{text_}.pdf",
                            filing=Filing(SHIPPED.get("cacq"), USCC, None, None),
                            signer=None, actor="test")
    return row


@pytest.fixture
def three(engine, store, settings):
    return [add(engine, store, settings, t) for t in ("one", "two", "three")]


def run_audit(engine, store):
    with session_scope(engine) as s:
        return audit(s, store, SHIPPED)


def sql(engine, statement: str, **params) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def test_a_fresh_archive_audits_clean_and_every_blob_is_read_only(engine, store, three):
    report = run_audit(engine, store)
    assert report.ok and report.records == 3 and report.files == 3
    assert all(store.path(r.sha256).stat().st_mode & 0o222 == 0 for r in three)


def test_the_same_bytes_added_twice_are_one_record(engine, store, settings, three):
    again = add(engine, store, settings, "one")
    assert again.id == three[0].id and run_audit(engine, store).records == 3


def test_a_changed_byte_is_found(engine, store, three, cli):
    path = store.path(three[1].sha256)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    report = run_audit(engine, store)
    assert [c["record"] for c in report.changed] == [three[1].id] and not report.ok
    r = cli("archive", "audit")
    assert r.returncode == 1 and "changed blob" in r.stdout and "Traceback" not in r.stderr


def test_a_deleted_blob_is_found(engine, store, three, cli):
    store.path(three[0].sha256).unlink()
    assert [m["record"] for m in run_audit(engine, store).missing] == [three[0].id]
    r = cli("archive", "audit", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["missing"][0]["record"] == three[0].id


def test_an_extra_file_in_the_blob_folder_is_an_orphan(engine, store, three):
    stray = store.root / "ab" / "cd" / "not-a-record.pdf"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"%PDF-1.4 smuggled")
    assert run_audit(engine, store).orphans == ["ab/cd/not-a-record.pdf"]


def test_an_edited_row_contradicts_its_log_entry(engine, store, three):
    sql(engine, "UPDATE record SET record_type = 'contract', filename = 'x.pdf' WHERE id = :i",
        i=three[2].id)
    report = run_audit(engine, store)
    assert report.row_mismatch == [{"record": three[2].id, "sha256": three[2].sha256,
                                    "filename": "x.pdf", "fields": ["record_type", "filename"]}]


def test_a_row_pointed_at_other_bytes_is_unlogged_missing_and_leaves_an_orphan(engine, store,
                                                                               three):
    sql(engine, "UPDATE record SET sha256 = :h WHERE id = :i", h="f" * 64, i=three[0].id)
    report = run_audit(engine, store)
    assert [u["record"] for u in report.unlogged] == [three[0].id]
    assert [m["record"] for m in report.missing] == [three[0].id]
    assert len(report.orphans) == 1


def chain(engine):
    with session_scope(engine) as s:
        return verify_chain(s)


def test_an_intact_log_verifies_through_the_cli(three, cli):
    r = cli("log", "verify", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) | {"head_hash": None} == {
        "ok": True, "entries": 3, "head_seq": 3, "head_hash": None, "broken_at": None,
        "problem": None, "state": []}


def test_an_edited_log_entry_is_named(engine, three, cli):
    sql(engine, "UPDATE event SET actor = 'someone else' WHERE seq = 2")
    assert (chain(engine).broken_at, "changed" in chain(engine).problem) == (2, True)
    r = cli("log", "verify")
    assert r.returncode == 1 and "broken at entry 2" in r.stdout


def test_an_edited_entry_with_its_hash_recomputed_breaks_the_next_link(engine, three):
    from certdesk.store.events import entry_hash
    from certdesk.store.models import Event

    with session_scope(engine) as s:
        ev = s.get(Event, 1)
        ev.actor = "forger"
        ev.hash = entry_hash(ev.prev_hash, ev.seq, ev.at, ev.kind, ev.subject, ev.actor, ev.data)
        s.add(ev)
    assert chain(engine).broken_at == 2


def test_a_deleted_log_entry_is_named(engine, three):
    sql(engine, "DELETE FROM event WHERE seq = 2")
    report = chain(engine)
    assert (report.broken_at, report.problem) == (2, "entry 2 is missing (the next one is 3)")


def test_reordered_log_entries_are_found(engine, three):
    sql(engine, "UPDATE event SET seq = -1 WHERE seq = 2")
    sql(engine, "UPDATE event SET seq = 2 WHERE seq = 3")
    sql(engine, "UPDATE event SET seq = 3 WHERE seq = -1")
    assert chain(engine).broken_at == 2


def test_a_cut_log_tail_is_found_by_log_verify_and_audit(engine, store, three, cli):
    sql(engine, "DELETE FROM event WHERE seq = 3")
    report = chain(engine)
    assert report.broken_at == 3 and "entries 3–3 were removed" in report.problem
    r = cli("archive", "audit", "--json")
    data = json.loads(r.stdout)
    assert r.returncode == 1 and data["log"]["broken_at"] == 3
    assert [u["record"] for u in data["unlogged"]] == [three[2].id]


@pytest.mark.office
def test_certificates_and_notices_certdesk_issued_audit_clean(home, settings, engine, pool,
                                                              store, cli):
    from certdesk.services.inputs import OrganisationInput
    from certdesk.services.issuing import Issuer
    from certdesk.services.transitions import change_status

    org = OrganisationInput(
        name="审计家电有限公司", uscc=make_uscc(9), registered_address="北京市朝阳区",
        scope="家用电器的维修", decision_date=date(2026, 11, 20), grade="三星级")
    with Issuer(SHIPPED.get("xbht"), pool=pool, engine=engine) as issuer:
        (cert,) = issuer.issue(org)
        change_status(issuer, cert.number, "suspend", "未按期接受监督审查")
    report = run_audit(engine, store)
    assert report.ok and report.records == 2, report.as_dict()
    listed = json.loads(cli("archive", "list", "--client", org.uscc, "--json").stdout)
    assert [r["record_type"] for r in listed["records"]] == ["certificate", "notice"]
    until = {r["retention"]["retain_until"] for r in listed["records"]}
    assert until == {str(add_years(_expiry(engine, cert.number), 2))}  # XBHT: CACQ's default


def _expiry(engine, number: str) -> date:
    from certdesk.store.models import Certificate

    with session_scope(engine) as s:
        return s.exec(select(Certificate.expiry_date).where(Certificate.number == number)).one()
