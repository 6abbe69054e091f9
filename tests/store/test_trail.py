"""The audit trail query both faces share: filters combine, keyset pages neither repeat nor
skip entries (even while the log grows), date ranges are staff-local days, the CSV is the
filtered view; and ``certdesk log list`` through the real script."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from certdesk.common.errors import InputError
from certdesk.store import events, trail
from certdesk.store.db import session_scope

SHANGHAI = ZoneInfo("Asia/Shanghai")


def log(engine, monkeypatch, at: datetime, kind: str, subject: str, actor: str) -> int:
    """Append one entry written at ``at`` (UTC); its sequence number."""
    monkeypatch.setattr(events, "utcnow", lambda: at)
    with session_scope(engine) as s:
        return events.append(s, kind, subject, {"n": 1}, actor).seq


@pytest.fixture
def seeded(engine, monkeypatch) -> list[tuple[int, str, str, str, datetime]]:
    """Twelve entries over three days, by two accounts, on two certificates."""
    rows = []
    for i in range(12):
        at = datetime(2026, 5, 1 + i // 4, 3, i, tzinfo=UTC)
        kind = ("record.added", "record.downloaded", "staff.login")[i % 3]
        subject = ("027326FWF0001R000", "027326FWF0002R000")[i % 2]
        actor = ("ivy", "rhea")[i % 4 // 2]
        rows.append((log(engine, monkeypatch, at, kind, subject, actor), kind, subject, actor,
                     at))
    return rows


def seqs(engine, q: trail.TrailQuery, zone=UTC) -> list[int]:
    with session_scope(engine) as s:
        return [e.seq for e in trail.all_entries(s, q, zone)]


def test_filters_combine_and_the_newest_comes_first(engine, seeded):
    q = trail.TrailQuery(actor="ivy", kind="record.", subject="027326FWF0001R000",
                         since=date(2026, 5, 2), until=date(2026, 5, 3))
    expected = [seq for seq, kind, subject, actor, at in seeded
                if actor == "ivy" and kind.startswith("record.")
                and subject == "027326FWF0001R000" and date(2026, 5, 2) <= at.date()
                <= date(2026, 5, 3)]
    assert expected and len(expected) < len(seeded) / 3
    assert seqs(engine, q) == sorted(expected, reverse=True)
    assert seqs(engine, trail.TrailQuery(actor="nobody")) == []


def test_a_kind_is_matched_by_its_start_and_wildcards_in_it_are_plain_text(engine, seeded):
    assert len(seqs(engine, trail.TrailQuery(kind="record."))) == 8
    assert seqs(engine, trail.TrailQuery(kind="record%")) == []


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_engine(request, engine):
    if request.param == "sqlite":
        yield engine
        return
    from certdesk.store.db import init_db, make_engine

    pg = make_engine(request.getfixturevalue("postgres_url"))
    init_db(pg)
    yield pg
    pg.dispose()


def test_dates_are_days_in_the_staff_time_zone(any_engine, monkeypatch):
    # The server's database is shared by the session's tests: a subject of this test's own.
    subject = f"staff:tz-{uuid.uuid4().hex[:8]}"
    # 17:30 UTC on 1 May is already 2 May in Shanghai; 15:59 UTC on 2 May is still 2 May.
    late, last = (log(any_engine, monkeypatch, at, "staff.login", subject, "ivy")
                  for at in (datetime(2026, 5, 1, 17, 30, tzinfo=UTC),
                             datetime(2026, 5, 2, 15, 59, tzinfo=UTC)))
    on_may_2 = trail.TrailQuery(subject=subject, since=date(2026, 5, 2), until=date(2026, 5, 2))
    assert seqs(any_engine, on_may_2, SHANGHAI) == [last, late]
    assert seqs(any_engine, on_may_2, UTC) == [last]


def test_pages_do_not_repeat_or_skip_entries_even_while_the_log_grows(engine, seeded,
                                                                      monkeypatch):
    q = trail.TrailQuery(limit=5)
    seen, before = [], None
    with session_scope(engine) as s:
        first = trail.page(s, q)
    seen += [e.seq for e in first.entries]
    log(engine, monkeypatch, datetime(2026, 5, 9, tzinfo=UTC), "staff.login", "x", "adam")
    before = first.next_before
    while before:
        with session_scope(engine) as s:
            result = trail.page(s, trail.TrailQuery(limit=5, before=before))
        seen += [e.seq for e in result.entries]
        before = result.next_before
    assert seen == sorted((row[0] for row in seeded), reverse=True)


def test_an_exact_last_page_has_no_next_cursor(engine, seeded):
    with session_scope(engine) as s:
        assert trail.page(s, trail.TrailQuery(limit=12)).next_before is None
        assert trail.page(s, trail.TrailQuery(limit=11)).next_before is not None


def test_the_csv_is_exactly_the_filtered_entries_with_their_hashes(engine, seeded):
    q = trail.TrailQuery(actor="rhea", limit=1)
    with session_scope(engine) as s:
        entries = trail.all_entries(s, q)
    rows = list(csv.reader(io.StringIO(trail.csv_bytes(entries).decode("utf-8-sig"))))
    assert rows[0] == list(trail.CSV_HEADER)
    expected = sorted((r for r in seeded if r[3] == "rhea"), reverse=True)
    assert [int(r[0]) for r in rows[1:]] == [r[0] for r in expected]
    assert {r[4] for r in rows[1:]} == {"rhea"}
    assert [r[6] for r in rows[1:]] == [e.hash for e in entries]
    assert rows[1][1] == expected[0][4].replace(tzinfo=None).isoformat() + "Z"


@pytest.mark.parametrize("bad", [dict(limit=0), dict(limit=501), dict(before=0),
                                 dict(since=date(2026, 5, 2), until=date(2026, 5, 1))])
def test_a_bad_view_is_refused_in_one_line(bad):
    with pytest.raises(InputError):
        trail.TrailQuery(**bad)


def test_the_cli_lists_the_filtered_trail_as_json_and_writes_its_csv(cli, engine, seeded,
                                                                     tmp_path):
    out = tmp_path / "trail.csv"
    r = cli("log", "list", "--actor", "ivy", "--kind", "staff.", "--limit", "1", "--json",
            "--csv", str(out))
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    expected = sorted((r for r in seeded if r[3] == "ivy" and r[1] == "staff.login"),
                      reverse=True)
    assert [e["seq"] for e in body["entries"]] == [r[0] for r in expected[:1]]
    assert body["entries"][0]["actor"] == "ivy" and len(body["entries"][0]["hash"]) == 64
    assert len(expected) == 2 and body["next_before"] == expected[0][0]
    page2 = json.loads(cli("log", "list", "--actor", "ivy", "--kind", "staff.", "--before",
                           str(body["next_before"]), "--json").stdout)
    assert [e["seq"] for e in page2["entries"]] == [r[0] for r in expected[1:]]
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert [int(line.split(",")[0]) for line in lines[1:]] == [r[0] for r in expected]


def test_the_cli_refuses_a_bad_date_in_one_line(cli, engine):
    r = cli("log", "list", "--since", "2026-13-01")
    assert r.returncode != 0 and "--since" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
