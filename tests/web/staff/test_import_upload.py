"""The staff issue form reads what the CLI reads: an .xlsx sheet with Chinese headers and a
GBK CSV (issue 17)."""

from __future__ import annotations

from datetime import date, datetime

from openpyxl import Workbook

from tests.web.staff.conftest import CLIENT, MAIN

HEADER = ["组织名称", "统一社会信用代码", "注册地址", "认证范围", "等级", "决定日期", "签发日期",
          "场所地址", "场所范围"]


def _rows() -> list[list]:
    c = CLIENT
    return [[c["name"], c["uscc"], c["registered_address"], c["scope"], c["grade"],
             datetime(2026, 3, 10), c["issue_date"], s["address"], s["scope"]]
            for s in c["sites"]]


def _preview(client, name: str, data: bytes) -> str:
    response = client.post("/staff/issue", {"profile": "xbht", "preview": "1"},
                           files={"file": (name, data, "application/octet-stream")})
    assert response.status_code == 303, response.text
    return client.get(response.headers["location"]).text


def test_an_xlsx_upload_is_previewed_like_the_same_json(signed_in, today, tmp_path):
    book = Workbook()
    book.active.append(HEADER)
    for row in _rows():
        book.active.append(row)
    book.active.append([None] * len(HEADER))
    path = tmp_path / "机构.xlsx"
    book.save(path)
    today(date(2026, 3, 20))
    page = _preview(signed_in("issuer"), path.name, path.read_bytes())
    assert "签发预览" in page and MAIN in page and "及分证书 2 份" in page


def test_a_gbk_csv_upload_is_read_not_refused(signed_in, today):
    lines = [",".join(HEADER)] + [",".join(str(v.date() if isinstance(v, datetime) else v)
                                           for v in row) for row in _rows()]
    today(date(2026, 3, 20))
    page = _preview(signed_in("issuer"), "机构.csv", "\r\n".join(lines).encode("gbk"))
    assert MAIN in page and "及分证书 2 份" in page and "可签发" in page
