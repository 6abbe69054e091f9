"""``certdesk certificates list``: the register on the command line."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from tests.register.support import seed


def test_list_json_filters_sorts_and_hands_out_the_next_pages_cursor(cli, engine):
    made = seed(engine)
    out = cli("certificates", "list", "--status", "valid", "--status", "suspended",
              "--sort", "expiry_date", "--limit", "2", "--json")
    assert out.returncode == 0, out.stderr
    first = json.loads(out.stdout)
    assert [c["number"] for c in first["certificates"]] == [made["soon"], made["suspended"]]
    assert first["total"] == 3 and first["certificates"][0]["status"] == "valid"
    rest = json.loads(cli("certificates", "list", "--status", "valid", "--status",
                          "suspended", "--sort", "expiry_date", "--limit", "2", "--after",
                          first["next_cursor"], "--json").stdout)
    assert [c["number"] for c in rest["certificates"]] == [made["valid"]]
    assert rest["next_cursor"] is None


def test_list_prints_a_table_that_does_not_wrap_when_piped(cli, engine):
    made = seed(engine)
    out = cli("certificates", "list", "--search", "恒信")
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if made["valid"] in line]
    assert len(lines) == 1 and "北京恒信达家电售后服务有限公司" in lines[0]
    assert "2 of 2 certificates" in out.stdout


def test_export_writes_the_whole_view_to_xlsx(cli, engine, tmp_path):
    made = seed(engine)
    target = tmp_path / "register.xlsx"
    out = cli("certificates", "list", "--expiring-within", "400", "--export", str(target),
              "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["certificates"] == 2
    rows = list(load_workbook(target)["证书登记"].values)[1:]
    assert {r[0] for r in rows} == {made["soon"], made["suspended"]}


def test_bad_options_fail_in_one_line_and_write_nothing(cli, engine, tmp_path):
    seed(engine)
    for args, message in ((["--status", "lost"], "status must be one of"),
                          (["--sort", "colour"], "sort must be one of"),
                          (["--issued-from", "2026-02-30"], "--issued-from"),
                          (["--export", str(tmp_path / "x.pdf")], "export to .xlsx or .csv"),
                          (["--export", str(tmp_path / "no" / "x.xlsx")], "does not exist")):
        out = cli("certificates", "list", *args)
        assert out.returncode != 0, args
        assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert "internal error" not in out.stderr
    assert list(tmp_path.glob("x.*")) == []
