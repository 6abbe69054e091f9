"""Organisation files as staff really have them: CSV saved by Excel on Chinese Windows
(GBK), Chinese headers, blank rows, .xlsx sheets; every problem names the file, the real
line, the column and the organisation (issue 17)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from certdesk.common.errors import InputError
from certdesk.services.inputs import OrganisationInput, Rejected, SiteInput, load_organisations

ZH_HEADER = ("组织名称,统一社会信用代码,注册地址,认证范围,等级,决定日期,签发日期,"
             "场所名称,场所地址,临时场所")
HANGZHOU = ("杭州智联家居服务有限公司,91330106MA2H3N7L5D,杭州市文三路90号,"
            "智能家居产品的维修,五星级,2026-11-16,")
BEIJING = ("北京京东方维修服务有限公司,91110108MA01CD3E6R,北京市中关村大街1号,"
           "显示器件的维修,达标级,2026-11-17,2026-11-20")


def _write(tmp_path, name: str, lines: list[str], encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def _gbk_csv(tmp_path, bad_temporary: str = "否"):
    return _write(tmp_path, "机构.csv", [
        ZH_HEADER,
        HANGZHOU + ",总部,杭州市文三路90号,否",
        HANGZHOU + f",宁波网点,宁波市天童南路588号,{bad_temporary}",
        ",,,,,,,,,",  # what Excel leaves for an emptied row
        BEIJING + ",,,",
    ], "gbk")


def test_a_gbk_csv_with_chinese_headers_and_a_blank_row_loads(tmp_path):
    hangzhou, beijing = load_organisations(_gbk_csv(tmp_path))
    scope = "智能家居产品的维修"
    assert hangzhou.sites == (SiteInput("杭州市文三路90号", scope, name="总部"),
                              SiteInput("宁波市天童南路588号", scope, name="宁波网点"))
    assert (hangzhou.line, hangzhou.grade) == (2, "五星级")
    assert (beijing.name, beijing.line, beijing.issue_date) == \
        ("北京京东方维修服务有限公司", 5, date(2026, 11, 20))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_utf8_with_or_without_bom_and_gb18030_read_the_same(tmp_path, encoding):
    path = _write(tmp_path, "o.csv", [ZH_HEADER, BEIJING + ",,,"], encoding)
    (org,) = load_organisations(path)
    assert isinstance(org, OrganisationInput) and org.registered_address == "北京市中关村大街1号"


def test_bytes_that_are_neither_utf8_nor_gb18030_are_refused_naming_the_file(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(b"name,uscc\n\xff\xfe\xff\n")
    with pytest.raises(InputError, match=r"^o\.csv：既不是 UTF-8 也不是 GB18030"):
        load_organisations(path)


def test_a_misspelled_column_is_refused_naming_the_file_and_the_column(tmp_path):
    path = _write(tmp_path, "o.csv", ["name,uscc,registered_address,scope,decision_date,isue_date",
                                      "某公司,91110108MA01CD3E6R,北京,维修,2026-11-17,2026-11-20"])
    with pytest.raises(InputError, match=r"^o\.csv：未知列 'isue_date'"):
        load_organisations(path)


def test_a_value_under_an_empty_header_is_refused_not_dropped(tmp_path):
    path = _write(tmp_path, "o.csv", ["name,uscc,registered_address,scope,decision_date,",
                                      "某公司,91110108MA01CD3E6R,北京,维修,2026-11-17,",
                                      "乙公司,91330106MA2H3N7L5D,杭州,维修,2026-11-17,备注"])
    with pytest.raises(InputError, match=r"^o\.csv：第 3 行第 6 列有值"):
        load_organisations(path)


def test_a_bad_site_on_line_3_is_reported_on_line_3_with_its_column_and_organisation(tmp_path):
    hangzhou, beijing = load_organisations(_gbk_csv(tmp_path, bad_temporary="也许"))
    assert isinstance(hangzhou, Rejected) and isinstance(beijing, OrganisationInput)
    assert (hangzhou.line, hangzhou.field) == (3, "site_temporary")
    assert hangzhou.error.text("en").startswith(
        "机构.csv: line 3 (杭州智联家居服务有限公司): temporary")


def test_a_quoted_cell_over_two_lines_does_not_shift_the_lines_named_later(tmp_path):
    path = _write(tmp_path, "o.csv", [
        "name,uscc,registered_address,scope,decision_date",
        '甲公司,91110108MA01CD3E6R,北京,"维修\n及安装",2026-11-17',
        "乙公司,91330106MA2H3N7L5D,杭州,维修,2026-13-01"])
    ok, bad = load_organisations(path)
    assert isinstance(ok, OrganisationInput) and ok.scope == "维修\n及安装"
    assert (bad.line, bad.field) == (4, "decision_date")
    assert "o.csv：第 4 行（乙公司）" in str(bad.error)
    assert bad.error.text("en").startswith("o.csv: line 4 (乙公司): ")


def test_an_xlsx_sheet_reads_date_cells_text_dates_and_numbers_as_text(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "组织"
    sheet.append(["组织名称", "统一社会信用代码", "注册地址", "认证范围", "等级", "决定日期",
                  "签发日期", "场所地址"])
    sheet.append(["北京京东方维修服务有限公司", "91110108MA01CD3E6R", "北京市", "维修", "达标级",
                  datetime(2026, 11, 17), "2026-11-20", 1001])
    sheet.append([None] * 8)
    sheet.append(["坏公司", "91110108MA01CD3E6X", "北京市", "维修", "达标级", date(2026, 11, 17)])
    path = tmp_path / "orgs.xlsx"
    book.save(path)
    org, bad = load_organisations(path)
    assert (org.decision_date, org.issue_date) == (date(2026, 11, 17), date(2026, 11, 20))
    assert org.sites == (SiteInput("1001", "维修"),) and org.line == 2
    assert (bad.line, bad.field) == (4, "uscc")
    assert bad.error.text("en").startswith("orgs.xlsx [组织]: row 4 (坏公司): credit code")


def test_full_width_spaces_in_a_name_are_normalised_with_a_warning(tmp_path):
    path = _write(tmp_path, "o.csv", [
        "name,uscc,registered_address,scope,decision_date,site_name,site_address",
        "某　公司,91110108MA01CD3E6R,北京市\u3000海淀区,维修,2026-11-17,,",
        "Acme\u3000 Service  Co,91330106MA2H3N7L5D,杭州,维修,2026-11-17,总部\u00a0网点,杭州一号"])
    zh, en = load_organisations(path)
    assert (zh.name, zh.registered_address) == ("某公司", "北京市海淀区")
    assert en.name == "Acme Service Co" and en.sites[0].name == "总部网点"
    assert zh.warnings[0].text("en") == ("o.csv: line 2 (某公司): field 'name': spaces "
                                         "normalised, '某\\u3000公司' read as '某公司'")
    assert zh.warnings[0].startswith("o.csv：第 2 行（某公司）：字段 'name'：空白已规范")
    assert len(en.warnings) == 2


def test_normalising_spaces_does_not_let_an_invisible_character_through(tmp_path):
    path = _write(tmp_path, "o.csv", ["name,uscc,registered_address,scope,decision_date",
                                      "某\u200b 公司,91110108MA01CD3E6R,北京,维修,2026-11-17"])
    (bad,) = load_organisations(path)
    assert isinstance(bad, Rejected) and bad.field == "name"
    assert "invisible formatting character" in bad.error.text("en")


def test_the_cli_dry_run_lists_each_failure_with_its_line_and_column(keyed_home, cli,
                                                                      tmp_path):
    path = _gbk_csv(tmp_path, bad_temporary="也许")
    result = cli("issue", "-p", "cacq", "-i", str(path), "--dry-run", "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert [p["organisation"] for p in data["would_issue"]] == ["北京京东方维修服务有限公司"]
    (failed,) = data["failed"]
    assert failed["organisation"] == "杭州智联家居服务有限公司"
    assert (failed["line"], failed["field"]) == (3, "site_temporary")
    assert failed["reason"].startswith("机构.csv: line 3 (杭州智联家居服务有限公司)")
    assert data["summary"]["organisations"] == 2  # the blank row is no organisation
    assert "Traceback" not in result.stderr


def test_a_file_named_xlsx_that_is_no_workbook_is_refused_in_one_line(tmp_path):
    path = tmp_path / "orgs.xlsx"
    path.write_bytes(b"name,uscc\n")
    with pytest.raises(InputError, match=r"^orgs\.xlsx：不是可读取的 \.xlsx 工作簿"):
        load_organisations(path)


def test_dates_as_excel_writes_them_on_chinese_windows_and_full_width_digits_are_read(tmp_path):
    path = _write(tmp_path, "o.csv", [
        "name,uscc,registered_address,scope,decision_date,issue_date",
        "某公司,９１１１０１０８ＭＡ０１ＣＤ３Ｅ６Ｒ,北京,维修,2026/3/5,"
        "２０２６－０３－０９"], "gbk")
    (org,) = load_organisations(path)
    assert (org.uscc, org.decision_date, org.issue_date) == (
        "91110108MA01CD3E6R", date(2026, 3, 5), date(2026, 3, 9))
    assert [w.text("en") for w in org.warnings] == [
        "o.csv: line 2 (某公司): field 'uscc': full-width characters read as half-width, "
        "'９１１１０１０８ＭＡ０１ＣＤ３Ｅ６Ｒ' read as '91110108MA01CD3E6R'"]


def test_a_slashed_date_that_does_not_exist_is_refused_naming_line_and_column(tmp_path):
    path = _write(tmp_path, "o.csv", ["name,uscc,registered_address,scope,decision_date",
                                      "某公司,91110108MA01CD3E6R,北京,维修,2026/2/30"])
    (bad,) = load_organisations(path)
    assert (bad.line, bad.field) == (2, "decision_date")
    assert "'2026/2/30' is not a date (YYYY-MM-DD or YYYY/M/D)" in bad.error.text("en")


def test_rows_with_a_full_width_and_a_half_width_credit_code_are_one_organisation(tmp_path):
    path = _write(tmp_path, "o.csv", [
        "name,uscc,registered_address,scope,decision_date,site_address",
        "某公司,91110108MA01CD3E6R,北京,维修,2026-03-05,北京一号",
        "某公司,９１１１０１０８ＭＡ０１ＣＤ３Ｅ６Ｒ,北京,维修,2026-03-05,天津二号"])
    (org,) = load_organisations(path)
    assert [s.address for s in org.sites] == ["北京一号", "天津二号"]


def test_the_input_format_documents_every_column_under_each_of_its_names():
    from certdesk.services.inputs import COLUMNS
    from tests.conftest import REPO

    text = (REPO / "docs" / "input-format.md").read_text(encoding="utf-8")
    table = text[text.index("| Chinese header (template) |"):]
    for column in COLUMNS:
        row = next(line for line in table.splitlines() if f"| `{column.field}` |" in line)
        assert all(h in row for h in column.zh), column.field
