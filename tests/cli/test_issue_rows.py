"""``certdesk issue --dry-run`` lists every input row as the desk's preview does (line,
organisation, state, number and dates or the error), and ``--template`` writes the
template sheet (issue 17)."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from certdesk.services.inputs import COLUMNS, OrganisationInput, load_organisations
from tests.services.test_import_files import _gbk_csv


def test_a_dry_run_prints_one_line_per_row_with_its_real_line(cli, tmp_path):
    result = cli("issue", "-p", "cacq", "-i", str(_gbk_csv(tmp_path, bad_temporary="也许")),
                 "--dry-run")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("line 3    error  杭州智联家居服务有限公司  [site_temporary] "
                               "机构.csv: line 3 (杭州智联家居服务有限公司)")
    assert lines[1].startswith("line 5    would issue  北京京东方维修服务有限公司  ")
    assert "(next)  2026-11-20 – " in lines[1]
    assert lines[-1].startswith("1 organisation(s) would be issued; 0 skipped; 1 of 2")


def test_a_dry_runs_json_lists_the_rows_with_line_field_organisation_and_state(cli, tmp_path):
    result = cli("issue", "-p", "cacq", "-i", str(_gbk_csv(tmp_path, bad_temporary="也许")),
                 "--dry-run", "--json")
    rows = json.loads(result.stdout)["rows"]
    assert [(r["row"], r["line"], r["state"], r["field"]) for r in rows] == [
        (1, 3, "error", "site_temporary"), (2, 5, "ok", None)]
    assert rows[1]["organisation"] == "北京京东方维修服务有限公司"
    assert rows[1]["numbers"][0] == json.loads(result.stdout)["would_issue"][0]["next_number"]
    assert rows[1]["issue_date"] == "2026-11-20"


def test_the_template_is_written_as_xlsx_or_csv_and_reads_back(cli, tmp_path):
    for name in ("组织.xlsx", "组织.csv"):
        result = cli("issue", "--template", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        (org,) = load_organisations(tmp_path / name)
        assert isinstance(org, OrganisationInput) and org.name == COLUMNS[0].example
    header = next(load_workbook(tmp_path / "组织.xlsx").worksheets[0].iter_rows(values_only=True))
    assert list(header) == [c.zh[0] for c in COLUMNS]
    again = cli("issue", "--template", str(tmp_path / "组织.csv"))
    assert again.returncode != 0 and "already exists" in again.stderr


def test_a_rule_refusal_and_a_repeated_credit_code_name_their_column(cli, tmp_path):
    org = {"name": "北京京东方维修服务有限公司", "uscc": "91110108MA01CD3E6R",
           "registered_address": "北京市", "scope": "维修", "decision_date": "2026-11-17"}
    path = tmp_path / "orgs.json"
    path.write_text(json.dumps([{**org, "grade": "一星"}, {**org, "grade": "五星级"},
                                {**org, "grade": "五星级"}], ensure_ascii=False), "utf-8")
    result = cli("issue", "-p", "xbht", "-i", str(path), "--dry-run", "--json",
                 env={"CERTDESK_ALLOW_UNVERIFIED_PROFILE": "1"})
    rows = json.loads(result.stdout)["rows"]
    assert [(r["row"], r["line"], r["state"], r["field"]) for r in rows] == [
        (1, None, "error", "grade"), (2, None, "ok", None), (3, None, "error", "uscc")]
    assert "same credit code as record 2" in rows[2]["message"]  # LANG unset: English
