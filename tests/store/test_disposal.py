"""Disposal: only records whose period has ended, under no hold, proposed by one officer and
approved by another; then the blob is gone, a tombstone and a signed certificate stay."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import select

from certdesk.common.errors import RuleViolation
from certdesk.services.audit import audit
from certdesk.services.disposal import approve, place_hold, propose, release_hold
from certdesk.services.publisher import Publisher
from certdesk.signing.keys import ca_certificate
from certdesk.signing.pdf import validate
from certdesk.store.db import session_scope
from certdesk.store.models import Disposal, Record
from certdesk.store.records import Filing, add_record
from tests.shipped import SHIPPED
from tests.store.conftest import add_certificate, make_pdf, make_uscc

TODAY = date.today()
OLD, CURRENT = make_uscc(21), make_uscc(22)


@pytest.fixture
def publisher(keyed_home, engine, settings, office_or_fake):
    with Publisher(settings=settings, engine=engine, pool=office_or_fake) as pub:
        yield pub


@pytest.fixture
def records(engine, store, settings):
    """Record ids: two of a certificate that expired in 2020 (due since 2023), one of a
    certificate still valid."""
    old = add_certificate(engine, "cacq", OLD, date(2017, 6, 1), date(2020, 5, 31))
    current = add_certificate(engine, "cacq", CURRENT, date(2025, 6, 1), date(2028, 5, 31))
    ids = []
    for text, number, uscc in (("old-report", old, OLD), ("old-plan", old, OLD),
                               ("current", current, CURRENT)):
        with session_scope(engine) as s:
            row, _ = add_record(s, store, settings, make_pdf(text), record_type="report",
                                filename=f"{text}.pdf",
                                filing=Filing(SHIPPED.get("cacq"), uscc, None, number), signer=None,
                                actor="test")
            ids.append(row.id)
    return {"due": ids[:2], "kept": ids[2], "old_cert": old}


def _propose(engine, ids, by="王芳"):
    with session_scope(engine) as s:
        return propose(s, SHIPPED, ids, by=by, reason="yearly disposal", today=TODAY).id


def test_a_record_not_yet_due_cannot_be_proposed(engine, records):
    with pytest.raises(RuleViolation, match=r"须保存至 2030-05-31.*CACQ 11\.1") as caught:
        _propose(engine, [records["due"][0], records["kept"]])
    assert caught.value.text("en").startswith("cannot dispose: record ")
    assert "must be kept until 2030-05-31" in caught.value.text("en")
    with session_scope(engine) as s:
        assert s.exec(select(Disposal)).all() == []


def test_a_record_under_hold_cannot_be_proposed(engine, records):
    with session_scope(engine) as s:
        place_hold(s, client=OLD, certificate=None, reason="诉讼 litigation", by="法务")
    with pytest.raises(RuleViolation, match="处于法律保全"):
        _propose(engine, records["due"])


def test_a_hold_placed_after_the_proposal_stops_the_approval(engine, store, publisher, records):
    pid = _propose(engine, records["due"])
    with session_scope(engine) as s:
        place_hold(s, client=None, certificate=records["old_cert"], reason="complaint",
                   by="法务")
    with pytest.raises(RuleViolation, match="处于法律保全"):
        approve(publisher, pid, by="李强", today=TODAY)
    assert all(store.exists(r.sha256) for r in _rows(engine, records["due"]))


def test_the_proposer_cannot_approve_their_own_proposal(engine, publisher, records):
    pid = _propose(engine, records["due"], by="王芳")
    with pytest.raises(RuleViolation, match="提出申请的人不能批准"):
        approve(publisher, pid, by=" 王　芳 ", today=TODAY)


def _rows(engine, ids) -> list[Record]:
    with session_scope(engine) as s:
        return [s.get(Record, i) for i in ids]


def test_an_approved_disposal_erases_blobs_keeps_tombstones_and_a_signed_certificate(
        engine, store, settings, publisher, records, monkeypatch):
    pid = _propose(engine, records["due"])
    with session_scope(engine) as s:  # a released hold no longer stops anything
        place_hold(s, client=OLD, certificate=None, reason="checked", by="法务")
        release_hold(s, client=OLD, certificate=None, reason="closed", by="法务")
    signed = []  # it loaded the key on every call, bypassing the publisher's lock and key
    monkeypatch.setattr(publisher, "sign", lambda pdf, spec: signed.append(spec.reason)
                        or Publisher.sign(publisher, pdf, spec))
    done = approve(publisher, pid, by="李强", today=TODAY)
    assert signed == [f"记录销毁证明 {pid}"]
    assert done.not_erased == [] and done.records == records["due"]
    gone = _rows(engine, records["due"])
    assert all(r.disposed_at and r.disposal_id == pid for r in gone)
    assert not any(store.exists(r.sha256) for r in gone)
    certificate = store.read(done.certificate_sha256)
    assert validate(certificate, [ca_certificate(settings)]).ok
    with session_scope(engine) as s:
        report = audit(s, store, SHIPPED)
        assert report.ok, report.as_dict()  # erased blobs are tombstones, not "missing"
        assert s.get(Disposal, pid).status == "approved"
        assert s.get(Record, done.certificate_record).signer == publisher.key.kid
    with pytest.raises(RuleViolation, match="已办结（已批准）"):
        approve(publisher, pid, by="赵敏", today=TODAY)


def test_officers_propose_and_approve_through_the_cli(keyed_home, engine, store, records, cli):
    from certdesk.web.staff.accounts import add_user

    for name in ("wangfang", "liqiang"):
        add_user(engine, name, "records_officer", f"{name}-password", actor="os:admin")
    wang, li = ({"CERTDESK_PASSWORD": f"{n}-password"} for n in ("wangfang", "liqiang"))
    due = [str(i) for i in records["due"]]
    r = cli("dispose", "propose", *due, "--as", "wangfang", "--reason", "2026 yearly disposal",
            "--json", env=wang)
    assert r.returncode == 0, r.stderr
    pid = str(json.loads(r.stdout)["id"])
    same = cli("dispose", "approve", pid, "--as", "wangfang", env=wang)
    assert same.returncode == 2 and "two officers" in same.stderr
    assert len(same.stderr.strip().splitlines()) == 1
    typed = cli("dispose", "approve", pid, "--by", "liqiang", env=wang)  # not her password
    assert typed.returncode == 2 and "Wrong user name or password" in typed.stderr
    ok = cli("dispose", "approve", pid, "--as", "liqiang", "--json", env=li)
    assert ok.returncode == 0, ok.stderr
    shown = json.loads(cli("archive", "show", due[0], "--json").stdout)
    assert shown["tombstone"]["approved_by"] == "liqiang" and shown["disposed_at"]
    assert [e["kind"] for e in shown["events"]] == ["record.added", "record.disposed"]
    assert cli("archive", "audit").returncode == 0


def test_approving_without_json_prints_the_disposal_and_exits_0(keyed_home, engine, records,
                                                                cli):
    # It printed "approved", then crashed on the erased ids (exit 70, internal error).
    from certdesk.web.staff.accounts import add_user

    for name in ("wangfang", "liqiang"):
        add_user(engine, name, "records_officer", f"{name}-password", actor="os:admin")
    due = [str(i) for i in records["due"]]
    pid = json.loads(cli("dispose", "propose", *due, "--as", "wangfang", "--reason", "yearly",
                         "--json", env={"CERTDESK_PASSWORD": "wangfang-password"}).stdout)["id"]
    ok = cli("dispose", "approve", str(pid), "--as", "liqiang",
             env={"CERTDESK_PASSWORD": "liqiang-password"})
    assert ok.returncode == 0, ok.stderr
    assert "approved" in ok.stdout and f"record {due[0]} report" in ok.stdout
    assert ok.stderr == ""


def test_retention_due_lists_due_records_with_why_and_holds(engine, records, cli):
    cli("hold", "add", "--client", OLD, "--reason", "tax inspection", "--by", "法务")
    r = cli("retention", "due", "--json", "--profile", "cacq")
    rows = json.loads(r.stdout)["due"]
    assert [x["id"] for x in rows] == records["due"]
    assert rows[0]["retain_until"] == "2022-05-31" and rows[0]["anchor_kind"] == "expiry"
    assert "CACQ 11.1" in rows[0]["why"] and rows[0]["holds"] == [1]
    later = json.loads(cli("retention", "due", "--on", "2030-06-01", "--json").stdout)["due"]
    assert records["kept"] in [x["id"] for x in later]
