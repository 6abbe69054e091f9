"""The register query: status filters agree with the public status, keyset pages visit
every certificate once, searches, exports read back, bad input refused."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import replace
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from certdesk.common.errors import InputError
from certdesk.domain.status import STATUS_LABELS, effective_status
from certdesk.store import register
from certdesk.store.models import Certificate, Organisation
from certdesk.store.register import RegisterQuery, all_rows, export_bytes, page
from tests.register.support import seed, uscc

TODAY = date(2026, 11, 29)


def numbers(engine, q: RegisterQuery, today: date = TODAY) -> list[str]:
    with Session(engine) as s:
        return [r.number for r in all_rows(s, q, today)]


def test_each_status_filter_selects_exactly_the_certificates_with_that_status_today(engine):
    """Every stored status against issue and expiry dates before, on and after today."""
    offsets = (-1, 0, 1)
    expected: dict[str, set[str]] = {s: set() for s in STATUS_LABELS}
    with Session(engine) as s:
        org = Organisation(uscc=uscc(1), name="组合测试有限公司", registered_address="北京市")
        s.add(org)
        s.flush()
        combos = itertools.product(("valid", "suspended", "revoked", "cancelled",
                                    "superseded"), offsets, offsets)
        for i, (stored, issued, expires) in enumerate(combos):
            issue = TODAY + timedelta(days=issued)
            expiry = TODAY + timedelta(days=expires)
            number = f"027326FWF{i:04d}R000"
            s.add(Certificate(number=number, profile="xbht", organisation_id=org.id,
                              holder_name=org.name, scope="家电", decision_date=issue,
                              issue_date=issue, effective_from=issue, expiry_date=expiry,
                              status=stored))
            expected[effective_status(stored, expiry, TODAY, issued=issue)].add(number)
        s.commit()
    for status, wanted in expected.items():
        assert set(numbers(engine, RegisterQuery(status=(status,)))) == wanted, status
    assert set(numbers(engine, RegisterQuery(status=("valid", "expired")))) == \
        expected["valid"] | expected["expired"]
    with Session(engine) as s:  # the status a row shows is the same rule
        for row in all_rows(s, RegisterQuery(), TODAY):
            assert row.number in expected[row.status]


def test_keyset_pages_visit_every_certificate_once_in_the_chosen_order(engine):
    seed(engine, today=TODAY)
    seed_more = [(f"027399FWF{i:04d}R000", TODAY - timedelta(days=i % 3)) for i in range(23)]
    with Session(engine) as s:  # many equal dates: the id breaks ties
        org = Organisation(uscc=uscc(99), name="同日签发有限公司", registered_address="北京市")
        s.add(org)
        s.flush()
        for number, day in seed_more:
            s.add(Certificate(number=number, profile="xbht", organisation_id=org.id,
                              holder_name=org.name, scope="家电", decision_date=day,
                              issue_date=day, effective_from=day,
                              expiry_date=day + timedelta(days=1000)))
        s.commit()
    for sort, descending in itertools.product(register.SORTS, (False, True)):
        q = RegisterQuery(sort=sort, descending=descending, limit=4)
        seen = []
        with Session(engine) as s:
            while True:
                result = page(s, q, TODAY)
                seen += [r.number for r in result.rows]
                if result.next_cursor is None:
                    break
                q = replace(q, after=result.next_cursor)
        assert seen == numbers(engine, replace(q, after=None)), (sort, descending)
        assert len(seen) == len(set(seen)) == 31


def test_expiring_within_n_days_lists_only_valid_or_suspended_certificates_in_the_window(
        engine):
    made = seed(engine, today=TODAY)
    assert numbers(engine, RegisterQuery(expiring_within=30)) == [made["soon"]]
    assert set(numbers(engine, RegisterQuery(expiring_within=400))) == {
        made["soon"], made["suspended"]}  # superseded at +100 and revoked are not "expiring"


def test_profile_grade_and_date_ranges_narrow_the_view(engine):
    made = seed(engine, today=TODAY)
    assert set(numbers(engine, RegisterQuery(profile="xbht", grade="五星级"))) == {
        made["valid"], made["expired"]}
    assert numbers(engine, RegisterQuery(issued_from=TODAY)) == [made["not_yet_valid"]]
    assert set(numbers(engine, RegisterQuery(expires_to=TODAY + timedelta(days=20)))) == {
        made["soon"], made["expired"]}


def test_search_finds_a_name_by_any_part_a_credit_code_and_a_number_by_its_start(engine):
    made = seed(engine, today=TODAY)
    assert set(numbers(engine, RegisterQuery(search="恒信"))) == {made["valid"], made["soon"]}
    assert numbers(engine, RegisterQuery(search=uscc(3))) == [made["suspended"]]
    assert numbers(engine, RegisterQuery(search=uscc(3)[:17].lower())) == [made["suspended"]]
    spaced = " ".join([made["revoked"][:6], made["revoked"][6:9], made["revoked"][9:13]])
    assert numbers(engine, RegisterQuery(search=spaced)) == [made["revoked"]]
    assert numbers(engine, RegisterQuery(search="50%")) == []  # LIKE characters are text


def test_a_damaged_cursor_an_unknown_status_or_sort_are_refused_in_one_line(engine):
    with Session(engine) as s, pytest.raises(InputError, match="翻页位置"):
        page(s, RegisterQuery(after="not-a-cursor"), TODAY)
    with pytest.raises(InputError, match="未知的证书状态“lost”"):
        RegisterQuery(status=("lost",))
    with pytest.raises(InputError, match="不能按“id; drop table”排序"):
        RegisterQuery(sort="id; drop table")
    with pytest.raises(InputError, match="每页条数应为 1–500"):
        RegisterQuery(limit=0)


def test_the_count_stops_past_the_cap_and_says_so(engine, monkeypatch):
    seed(engine, today=TODAY)
    monkeypatch.setattr(register, "COUNT_CAP", 5)
    with Session(engine) as s:
        result = page(s, RegisterQuery(limit=2), TODAY)
    assert result.total_capped and result.as_dict()["total"] == 5
    assert result.as_dict()["more_than_total"] is True


def test_the_xlsx_export_reads_back_with_dates_as_dates_and_credit_codes_as_text(engine):
    made = seed(engine, today=TODAY)
    q = RegisterQuery(status=("valid",), sort="expiry_date")
    with Session(engine) as s:
        rows = all_rows(s, q, TODAY)
    sheet = load_workbook(io.BytesIO(export_bytes(".xlsx", rows, q, TODAY)))
    ws = sheet["证书登记"]
    table = list(ws.values)
    assert table[0][0] == "证书编号" and table[0][-1] == "证书状态"
    assert [r[0] for r in table[1:]] == [made["soon"], made["valid"]]
    assert table[1][4] == uscc(2) and ws["E2"].number_format == "@"
    assert table[1][7].date() == TODAY + timedelta(days=20)
    assert table[1][8] == "有效"
    assert ["status", "valid"] in [list(r) for r in sheet["筛选条件"].values]


def test_the_csv_export_has_a_bom_for_excel_and_one_row_per_certificate(engine):
    made = seed(engine, today=TODAY)
    q = RegisterQuery(search="恒信")
    with Session(engine) as s:
        data = export_bytes(".csv", all_rows(s, q, TODAY), q, TODAY)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["证书编号", "主证书编号"]
    assert sorted(r[0] for r in rows[1:]) == sorted([made["valid"], made["soon"]])
    with pytest.raises(InputError, match=r"\.xlsx 或 \.csv"):
        export_bytes(".pdf", [], q, TODAY)


def test_selected_pdfs_name_unknown_numbers_and_certificates_without_a_pdf(engine):
    made = seed(engine, today=TODAY)
    with Session(engine) as s:
        with pytest.raises(InputError, match="没有证书 027326FWF9999R000"):
            register.pdf_records(s, [made["valid"], "027326FWF9999R000"])
        with pytest.raises(InputError, match="没有存档的 PDF"):
            register.pdf_records(s, [made["valid"]])
        with pytest.raises(InputError, match="至少选择"):
            register.pdf_records(s, [" "])


def test_planner_statistics_are_gathered_once_the_register_is_large(engine):
    from sqlalchemy import insert, text

    from certdesk.store.db import refresh_statistics

    refresh_statistics(engine)  # small: nothing to gain
    with engine.connect() as conn:
        assert not conn.execute(text(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar()
    day = TODAY
    with engine.begin() as conn:
        conn.execute(insert(Organisation), [{"id": 1, "uscc": uscc(1), "name": "甲",
                                             "registered_address": "北京市"}])
        conn.execute(insert(Certificate), [dict(
            number=f"027326FWF{i:05d}R000", profile="xbht", organisation_id=1,
            holder_name="甲", scope="家电", decision_date=day, issue_date=day,
            effective_from=day, expiry_date=day, status="valid") for i in range(1200)])
    refresh_statistics(engine)
    with engine.connect() as conn:
        stat = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'certificate'"
                                 " LIMIT 1")).scalar()
    assert stat.split()[0] == "1200"
