"""The records officer's paths through the real ``certdesk`` script: adding (PDF as is,
Word and scans converted to PDF/A), refusing bad input in one line with nothing stored,
finding, and exporting a client's file as a BagIt bag. (--help on every command is
tested for the whole CLI in tests/desk.)"""

from __future__ import annotations

import io
import json
import re
import subprocess
from datetime import date

import bagit
import pytest
from docx import Document
from PIL import Image

from certdesk.store.db import session_scope
from certdesk.store.records import Filing, add_record
from tests.shipped import SHIPPED
from tests.store.conftest import add_certificate, make_pdf, make_uscc

CLIENT = make_uscc(31)


def add(cli, *args):
    r = cli("archive", "add", *map(str, args), "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["records"]


def test_a_pdf_is_stored_byte_for_byte_and_found_by_client_and_type(cli, pdf_file, home):
    path = pdf_file("申请书")
    (rec,) = add(cli, path, "--type", "application", "--client", CLIENT, "--profile", "xbht")
    assert rec["converted_from"] is None and rec["new"]
    blob = next((home / "blobs").glob(f"*/*/{rec['sha256']}"))
    assert blob.read_bytes() == path.read_bytes()
    found = json.loads(cli("archive", "list", "--client", CLIENT, "--type", "application",
                           "--json").stdout)["records"]
    assert [(r["id"], r["profile"], r["retention"]["rule"]) for r in found] == [
        (rec["id"], "xbht", "open")]
    assert json.loads(cli("archive", "list", "--type", "contract", "--json").stdout) == {
        "records": []}


@pytest.mark.office
def test_word_files_and_multi_page_scans_become_pdf_a(cli, tmp_path, engine, home):
    number = add_certificate(engine, "zpic", CLIENT, date(2025, 1, 2), date(2028, 1, 1))
    doc = Document()
    doc.add_paragraph("现场评价记录")
    docx = tmp_path / "onsite.docx"
    doc.save(docx)
    frames = [Image.new("RGB", (400, 560), c) for c in ("white", "gray")]
    scan = tmp_path / "signed-contract.tiff"
    frames[0].save(scan, save_all=True, append_images=frames[1:])
    recs = add(cli, docx, scan, "--type", "contract", "--certificate", number)
    assert [(r["filename"], r["converted_from"]) for r in recs] == [
        ("onsite.pdf", "docx"), ("signed-contract.pdf", "image")]
    pdfs = [p for r in recs for p in (home / "blobs").glob(
        f"*/*/{r['sha256']}")]
    info = subprocess.run(["pdfinfo", str(pdfs[1])], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+2$", info, re.M)
    meta = subprocess.run(["pdfinfo", "-meta", str(pdfs[0])], capture_output=True,
                          text=True).stdout
    assert "pdfaid:part" in meta  # PDF/A identification in the XMP metadata


@pytest.mark.parametrize(("args", "message"), [
    (["--type", "memo"], "unknown record type 'memo'"),
    (["--type", "report", "--client", "91110000000000000X"], "check character"),
    (["--type", "report", "--certificate", "0117 20 FWA 9999 R0 00"], "no certificate"),
    (["--type", "report"], "say whose record this is"),
])
def test_bad_options_are_one_line_errors_and_nothing_is_stored(cli, pdf_file, home, args,
                                                               message):
    r = cli("archive", "add", str(pdf_file("x")), *args)
    assert r.returncode == 2 and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not list((home / "blobs").glob("*/*/*"))


@pytest.mark.parametrize(("content", "message"), [
    (None, "No such file"),
    ("dir", "Is a directory"),
    (b"just some text, not a record", "not a format certdesk takes"),
    (b"%PDF-1.7 truncated garbage", "the PDF cannot be read"),
])
def test_missing_unreadable_or_unknown_files_are_refused(cli, tmp_path, home, content,
                                                         message):
    path = tmp_path / "input.pdf"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    r = cli("archive", "add", str(path), "--type", "report", "--client", CLIENT,
            "--profile", "cacq")
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not list((home / "blobs").glob("*/*/*"))


def test_in_a_batch_a_bad_file_does_not_stop_the_others(cli, pdf_file, tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00\x01")
    r = cli("archive", "add", str(pdf_file("a")), str(bad), str(pdf_file("b")), "--type",
            "plan", "--client", CLIENT, "--profile", "cacq", "--json")
    out = json.loads(r.stdout)
    assert r.returncode == 1 and len(out["records"]) == 2
    assert out["failed"] == [{"file": str(bad), "reason": out["failed"][0]["reason"]}]


def test_a_clients_whole_file_exports_as_a_valid_bag(cli, engine, store, settings, tmp_path):
    number = add_certificate(engine, "cacq", CLIENT, date(2025, 1, 2), date(2028, 1, 1))
    for text, record_type, filing in (
            ("plan", "plan", Filing(SHIPPED.get("cacq"), CLIENT, None, number)),
            ("app", "application", Filing(SHIPPED.get("cacq"), CLIENT, None, None)),
            ("other", "application", Filing(SHIPPED.get("cacq"), make_uscc(32), None, None))):
        with session_scope(engine) as s:
            add_record(s, store, settings, make_pdf(text), record_type=record_type,
                       filename=f"{text}.pdf", filing=filing, signer=None, actor="test")
    out = tmp_path / "bag"
    r = cli("export", "--client", CLIENT, "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    bag = bagit.Bag(str(out))
    bag.validate()
    assert "sha256" in bag.algorithms
    meta = json.loads((out / "data" / "metadata.json").read_text(encoding="utf-8"))
    assert [r["record_type"] for r in meta["records"]] == ["plan", "application"]
    assert [c["number"] for c in meta["certificates"]] == [number]
    assert {e["kind"] for e in meta["events"]} == {"record.added", "certificate.issued"}
    assert len(list((out / "data" / "records").iterdir())) == 2
    again = cli("export", "--client", CLIENT, "--out", str(out))
    assert again.returncode == 2 and "not an empty folder" in again.stderr


def test_a_refused_application_is_kept_confidentially_and_falls_due(cli, engine, store,
                                                                    settings):
    with session_scope(engine) as s:
        add_record(s, store, settings, make_pdf("refused"), record_type="application",
                   filename="application.pdf",
                   filing=Filing(SHIPPED.get("dni-spshfw"), CLIENT, None, None),
                   signer=None, actor="test")
    r = cli("archive", "close", "--client", CLIENT, "--outcome", "refused", "--on",
            "2026-01-15", "--reason", "scope outside accreditation", "--by", "王芳")
    assert r.returncode == 0, r.stderr
    (rec,) = json.loads(cli("archive", "list", "--json").stdout)["records"]
    assert rec["confidential"] and rec["retention"]["retain_until"] == "2029-01-15"
    assert "DNI 5.2.1" in rec["retention"]["why"]


def test_a_pdf_is_refused_when_it_is_encrypted(cli, tmp_path):
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(make_pdf("secret")))
    path = tmp_path / "locked.pdf"
    pdf.save(path, encryption=pikepdf.Encryption(owner="o", user="u"))
    r = cli("archive", "add", str(path), "--type", "report", "--client", CLIENT,
            "--profile", "cacq")
    assert r.returncode == 2 and "encrypted" in r.stderr
