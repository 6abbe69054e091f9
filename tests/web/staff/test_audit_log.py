"""The audit trail page: records officers and admins see who did what, filtered, newest
first, in pages, each entry's hash, the chain check on top, and the view as CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import text

from certdesk.store import events
from certdesk.store.db import session_scope


def seed(engine, n: int = 7) -> list[int]:
    with session_scope(engine) as s:
        return [events.append(s, "record.downloaded" if i % 2 else "record.added",
                              f"027326FWF000{i}R000", {"i": i}, "ivy" if i < 4 else "rhea").seq
                for i in range(n)]


def shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td data-label="序号" class="mono">(\d+)</td>', html)]


def test_the_trail_shows_who_did_what_newest_first_with_each_hash(signed_in, engine):
    client = signed_in("records_officer")
    seqs = seed(engine)
    page = client.get("/staff/log")
    assert page.status_code == 200 and "<h1>审计日志</h1>" in page.text
    assert 'id="chain"' in page.text and "日志链校验通过" in page.text
    on_page = shown(page.text)
    assert on_page == sorted(on_page, reverse=True) and set(seqs) <= set(on_page)
    with session_scope(engine) as s:
        (last,) = events.entries(s, subject="027326FWF0006R000")
        assert f'<abbr title="{last.hash}">{last.hash[:12]}</abbr>' in page.text
    assert 'href="/staff/log"' in page.text  # the menu entry


def test_filters_combine_in_the_url_and_pages_follow_the_cursor(signed_in, engine):
    client = signed_in("admin")
    seqs = seed(engine)
    only = client.get("/staff/log", params={"actor": "rhea", "kind": "record.d"})
    assert shown(only.text) == [seqs[5]]
    assert "<option selected>record.d</option>" in only.text  # the prefix stays in the form
    first = client.get("/staff/log", params={"actor": "ivy", "limit": "3"})
    assert shown(first.text) == [seqs[3], seqs[2], seqs[1]]
    link = re.search(r'<a href="([^"]+)" id="next-page"', first.text).group(1)
    second = client.get(link.replace("&amp;", "&"))
    assert shown(second.text) == [seqs[0]]
    assert 'id="first-page"' in second.text and 'id="next-page"' not in second.text


def test_the_csv_export_is_the_current_filter(signed_in, engine):
    client = signed_in("records_officer")
    seqs = seed(engine)
    page = client.get("/staff/log", params={"actor": "rhea", "kind": "record.", "limit": "1"})
    link = re.search(r'<a href="([^"]+)" id="export-csv"', page.text).group(1)
    reply = client.get(link.replace("&amp;", "&"))
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    assert [int(r[0]) for r in rows[1:]] == [seqs[6], seqs[5], seqs[4]]


def test_a_broken_chain_is_shown_as_broken(signed_in, engine):
    client = signed_in("records_officer")
    seqs = seed(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE event SET actor = 'someone else' WHERE seq = :s"),
                  {"s": seqs[2]})
    page = client.get("/staff/log")
    assert page.status_code == 200
    assert "日志链已损坏" in page.text and f"从第 {seqs[2]} 条起" in page.text
    assert "日志链校验通过" not in page.text


def test_a_chain_broken_after_the_last_check_shows_on_recheck(signed_in, engine):
    client = signed_in("admin")
    seqs = seed(engine)
    assert "日志链校验通过" in client.get("/staff/log").text
    with engine.begin() as c:
        c.execute(text("DELETE FROM event WHERE seq = :s"), {"s": seqs[1]})
    link = re.search(r'<a href="([^"]+)" id="recheck"', client.get("/staff/log").text).group(1)
    page = client.get(link.replace("&amp;", "&"))
    assert f"从第 {seqs[1]} 条起" in page.text and "日志链已损坏" in page.text


def test_a_bad_date_is_a_400_page_naming_the_field(signed_in, engine):
    page = signed_in("admin").get("/staff/log", params={"since": "2026-02-30"})
    assert page.status_code == 400 and "起始日期" in page.text


@pytest.mark.parametrize("role", ["issuer", "decision_maker"])
def test_other_roles_may_not_read_the_trail(signed_in, engine, role):
    client = signed_in(role)
    assert client.get("/staff/log").status_code == 403
    assert client.get("/staff/log/export.csv").status_code == 403
    assert 'href="/staff/log"' not in client.get("/staff/").text
