"""Number allocation never repeats a number, also with several processes drawing at once,
on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from sqlmodel import Session

from certdesk.store.allocate import allocate, void
from certdesk.store.db import init_db, make_engine
from tests.shipped import SHIPPED

DRAW = """
import sys
from certdesk.store.db import make_engine, session_scope
from certdesk.store.allocate import allocate
from certdesk.domain.profiles import load_profiles
engine = make_engine(sys.argv[1])
profile = load_profiles().get("xbht")
for _ in range(int(sys.argv[2])):
    with session_scope(engine) as s:
        print(allocate(s, profile, 2026), flush=True)
"""


def _draw_concurrently(url: str, processes: int, each: int) -> list[str]:
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()
    procs = [subprocess.Popen([sys.executable, "-c", DRAW, url, str(each)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    numbers = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        numbers += out.split()
    return numbers


def _assert_unique_and_contiguous(numbers: list[str], total: int) -> None:
    dupes = [n for n, k in Counter(numbers).items() if k > 1]
    assert dupes == []
    seqs = sorted(int(n[9:13]) for n in numbers)
    assert seqs == list(range(1, total + 1))


@pytest.mark.slow  # four processes at once
def test_four_processes_drawing_on_sqlite_get_distinct_contiguous_numbers(tmp_path):
    numbers = _draw_concurrently(f"sqlite:///{tmp_path / 'c.db'}", 4, 40)
    _assert_unique_and_contiguous(numbers, 160)


@pytest.mark.postgres
def test_eight_processes_drawing_on_postgresql_get_distinct_contiguous_numbers(postgres_url):
    from sqlalchemy import text

    # A fresh archive: the server is shared by this worker's tests, and numbers they issued
    # or voided are (rightly) never drawn again, which would leave gaps here.
    engine = make_engine(postgres_url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    numbers = _draw_concurrently(postgres_url, 8, 40)
    _assert_unique_and_contiguous(numbers, 320)


def test_sequences_count_separately_per_year_and_scheme(engine):
    xbht, cacq = SHIPPED.get("xbht"), SHIPPED.get("cacq")
    with Session(engine) as s:
        a = allocate(s, xbht, 2026)
        b = allocate(s, xbht, 2026)
        c = allocate(s, xbht, 2027)
        d = allocate(s, cacq, 2026)
        s.commit()
    assert (a.sequence, b.sequence, c.sequence, d.sequence) == ("0001", "0002", "0001", "0001")
    assert str(a) == "027326FWF0001R000" and str(c) == "027327FWF0001R000"
    assert str(d) == "11726FWA0001R000"


def test_a_void_number_is_never_drawn_again_even_if_the_counter_is_reset(engine):
    from sqlalchemy import text

    xbht = SHIPPED.get("xbht")
    with Session(engine) as s:
        first = allocate(s, xbht, 2026)
        void(s, first, "revoked")
        s.execute(text("UPDATE numbercounter SET last_value = 0"))
        again = allocate(s, xbht, 2026)
        s.commit()
    assert again.sequence == "0002"
