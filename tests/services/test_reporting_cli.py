"""``certdesk report`` as the records officer uses it: export → mark-sent → export gives only
what is new, the xlsx reads back as the register holds it, and overdue items show up in
``certdesk due --json``."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlmodel import Session

from certdesk.services.reporting import COLUMNS, export_rows
from certdesk.store import reporting
from certdesk.store.models import ReportBatch
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED


@pytest.fixture
def numbers(issuer):
    return [c.number for c in issuer.issue(TWO_SITES)]


def _ok(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _exported(path) -> list[str]:
    return [row["certificate_number"] + ":" + row["event_code"]
            for row in json.loads(path.read_text(encoding="utf-8"))["items"]]


def test_export_then_mark_sent_then_export_gives_only_the_new_items(cli, numbers, tmp_path,
                                                                   today):
    main = numbers[0]
    first = _ok(cli("report", "export", "--out", str(tmp_path / "1.json"), "--json"))
    assert (first["batch"], first["items"]) == (1, 3)
    # not marked sent yet: a second export repeats every unsent item, drops none
    again = _ok(cli("report", "export", "--out", str(tmp_path / "2.json"), "--json"))
    assert again["batch"] == 2
    assert _exported(tmp_path / "2.json") == _exported(tmp_path / "1.json")

    dry = _ok(cli("report", "mark-sent", "1", "--by", "rhea", "--dry-run", "--json"))
    assert len(dry["marked"]) == 3
    assert len(_ok(cli("report", "pending", "--json"))["items"]) == 3  # nothing changed
    sent = _ok(cli("report", "mark-sent", "1", "--by", "rhea", "--json"))
    assert sent["sent_by"] == "rhea" and len(sent["marked"]) == 3
    assert _ok(cli("report", "pending", "--json"))["items"] == []

    today(date(2027, 1, 5))
    _ok(cli("status", main, "suspend", "--reason", "未按期接受监督审核", "--on", "2027-01-05",
            "--json"))
    third = _ok(cli("report", "export", "--out", str(tmp_path / "3.json"), "--json"))
    assert _exported(tmp_path / "3.json") == [f"{n}:suspended" for n in numbers]
    assert third["batch"] == 3
    everything = _ok(cli("report", "export", "--out", str(tmp_path / "4.json"),
                         "--include-sent", "--json"))
    assert everything["items"] == 6
    # batch 2 held the same items as batch 1, which are reported now: nothing left to mark
    late = _ok(cli("report", "mark-sent", "2", "--by", "rhea", "--json"))
    assert (late["marked"], len(late["already_sent"])) == ([], 3)
    # the file of an earlier batch, written again: same items, no new batch
    _ok(cli("report", "export", "--batch", "1", "--out", str(tmp_path / "1b.json"), "--json"))
    assert _exported(tmp_path / "1b.json") == _exported(tmp_path / "1.json")
    assert len(_ok(cli("report", "batches", "--json"))["batches"]) == 4


def test_a_batch_is_marked_sent_once(cli, numbers, tmp_path):
    _ok(cli("report", "export", "--out", str(tmp_path / "1.csv"), "--json"))
    assert cli("report", "mark-sent", "1", "--by", "rhea").returncode == 0
    again = cli("report", "mark-sent", "1", "--by", "adam")
    assert again.returncode != 0
    assert "rhea" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    missing = cli("report", "mark-sent", "9", "--by", "rhea")
    assert missing.returncode != 0 and "9" in missing.stderr


def test_an_unknown_export_format_is_refused_and_no_batch_is_made(cli, numbers, tmp_path,
                                                                 engine):
    bad = cli("report", "export", "--out", str(tmp_path / "report.pdf"))
    assert bad.returncode != 0 and "report.pdf" in bad.stderr and ".xlsx" in bad.stderr
    assert "internal error" not in bad.stderr
    with Session(engine) as s:
        assert reporting.batches(s) == []


def test_the_xlsx_reads_back_as_the_register_holds_it(cli, numbers, tmp_path, engine):
    from openpyxl import load_workbook

    out = tmp_path / "认监委报送.xlsx"
    _ok(cli("report", "export", "--out", str(out), "--json"))
    sheet = load_workbook(out)["上报清单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(header for _, header in COLUMNS)
    with Session(engine) as s:
        register = export_rows(s, SHIPPED, reporting.batch_items(s, 1))
        assert s.get(ReportBatch, 1).items == 3
    read = [dict(zip((k for k, _ in COLUMNS), row, strict=True)) for row in rows[1:]]
    for got, want in zip(read, register, strict=True):
        for key, _ in COLUMNS:
            value = got[key]
            if isinstance(value, datetime):  # a date cell, as Excel and WPS show it
                value = value.date()
            assert value == (want[key] or None), key
    assert read[0]["credit_code"] == TWO_SITES.uscc and read[0]["issue_date"].date() == \
        date(2026, 3, 15)
    cells = {c.column_letter: c for c in sheet[2]}
    assert cells["E"].data_type == "s" and cells["E"].number_format == "@"  # credit code
    assert cells["J"].is_date and cells["J"].number_format == "yyyy-mm-dd"  # issue date
    assert load_workbook(out)["columns"]["A3"].value == "item"


def test_overdue_items_appear_in_due_json(cli, numbers, today):
    # issued 2026-03-15, xbht reports within 5 days: due 2026-03-20
    early = _ok(cli("due", "--on", "2026-03-20", "--json"))
    assert early["report_overdue"] == []
    late = _ok(cli("due", "--on", "2026-03-21", "--json"))
    assert [(i["certificate_number"], i["event_kind"], i["due_date"])
            for i in late["report_overdue"]] == [(n, "issued", "2026-03-20") for n in numbers]
    assert all(i["overdue"] for i in late["report_overdue"])
    today(date(2026, 3, 21))  # the sweep acts for today only
    swept = _ok(cli("lifecycle", "sweep", "--json"))
    assert len(swept["report_overdue"]) == 3


def test_returns_are_listed_after_a_revocation_and_recorded_from_the_command_line(cli, numbers,
                                                                                  today):
    main = numbers[0]
    today(date(2026, 6, 1))
    _ok(cli("status", main, "revoke", "--reason", "违规使用证书", "--on", "2026-06-01", "--json"))
    today(date(2026, 6, 10))
    listed = _ok(cli("returns", "list", "--json"))["returns"]
    assert [(r["certificate_number"], r["event_kind"], r["opened_on"]) for r in listed] == [
        (n, "revoked", "2026-06-01") for n in numbers]

    dry = _ok(cli("returns", "record", main, "--on", "2026-06-10", "--how", "邮寄收回",
                  "--by", "rhea", "--dry-run", "--json"))
    assert dry["dry_run"] and len(_ok(cli("returns", "list", "--json"))["returns"]) == 3
    early = cli("returns", "record", main, "--on", "2026-05-01", "--how", "邮寄", "--by", "rhea")
    assert early.returncode != 0 and "2026-06-01" in early.stderr
    assert "internal error" not in early.stderr
    _ok(cli("returns", "record", *numbers[1:], "--on", "2026-06-10", "--how",
            "本机构网站公告声明作废", "--declared-void", "--by", "rhea", "--json"))
    left = _ok(cli("returns", "list", "--json"))["returns"]
    assert [r["certificate_number"] for r in left] == [main]
    closed = _ok(cli("returns", "list", "--all", "--json"))["returns"]
    assert {r["status"] for r in closed if r["certificate_number"] != main} == {"declared_void"}
