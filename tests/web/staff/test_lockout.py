"""The sign-in lock-out holds under load: however many guesses for one account arrive at
once, at most the limit of them has its password checked in a window (on SQLite and on
PostgreSQL), and a success clears its own account's window only."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlmodel import Session

from certdesk.common.settings import Settings
from certdesk.store.db import init_db, make_engine, session_scope
from certdesk.store.staff import StaffUser
from certdesk.web.staff import accounts
from certdesk.web.staff.accounts import LoginFailed, TooManyAttempts, authenticate
from tests.web.staff.conftest import PASSWORD

GUESSES = 30


def _with_account(engine, password_hash: str) -> None:
    with session_scope(engine) as s:
        s.add(StaffUser(name="ivy", role="issuer", password_hash=password_hash))
        s.add(StaffUser(name="dora", role="decision_maker", password_hash=password_hash))


def _storm(engine, settings: Settings, monkeypatch) -> tuple[list[str], int]:
    """GUESSES threads guess ivy's password at once, all wrong: (outcomes, how many
    passwords were actually checked). A right guess among them would clear the account's
    window when it finished, so how many got checked would depend on timing."""
    checked = []
    real_verify = accounts._verify

    def counting_verify(digest, password):
        checked.append(password)
        return real_verify(digest, password)

    monkeypatch.setattr(accounts, "_verify", counting_verify)
    start = threading.Barrier(GUESSES)
    outcomes: list[str] = []

    def guess(i: int) -> None:
        start.wait()
        try:
            authenticate(engine, settings, "ivy", f"wrong-guess-{i:04d}", f"10.0.0.{i}")
            outcomes.append("ok")
        except LoginFailed:
            outcomes.append("401")
        except TooManyAttempts:
            outcomes.append("429")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(GUESSES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes, len(checked)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path, password_hash):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'certdesk.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    if request.param == "postgresql":  # the session's server is shared: start clean
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    init_db(engine)
    _with_account(engine, password_hash)
    yield engine
    engine.dispose()


def test_thirty_parallel_guesses_check_at_most_the_limit_of_passwords(database, monkeypatch):
    settings = Settings(staff_login_max_failures=5)
    outcomes, checked = _storm(database, settings, monkeypatch)
    assert len(outcomes) == GUESSES
    assert checked <= 5
    assert outcomes.count("429") >= GUESSES - 5
    assert outcomes.count("401") + outcomes.count("ok") == checked


def test_a_success_clears_its_own_account_window_only(database):
    from certdesk.store.staff import StaffLoginCounter

    settings = Settings(staff_login_max_failures=5)
    for _ in range(3):
        for name in ("ivy", "dora"):
            with pytest.raises(LoginFailed):
                authenticate(database, settings, name, "wrong-guess", "10.9.9.9")
    authenticate(database, settings, "ivy", PASSWORD, "10.9.9.9")
    with Session(database) as s:
        assert s.get(StaffLoginCounter, "name:ivy") is None
        assert s.get(StaffLoginCounter, "name:dora").failures == 3
        assert s.get(StaffLoginCounter, "address:10.9.9.9").failures == 6  # its own given back


def test_a_desk_made_before_the_counter_gets_it_from_the_migration(tmp_path):
    from sqlalchemy import inspect, text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    init_db(engine, "0002")
    with engine.begin() as conn:  # the staff tables as create_all made them before
        conn.execute(text("CREATE TABLE staffuser (id INTEGER PRIMARY KEY, name VARCHAR(32))"))
        conn.execute(text("CREATE TABLE staffloginfailure (id INTEGER PRIMARY KEY)"))
    init_db(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"stafflogincounter", "staffosuser"} <= tables
    assert "staffloginfailure" not in tables
    engine.dispose()


def test_counters_of_a_passed_window_are_forgotten(database):
    from datetime import timedelta

    from certdesk.store.models import utcnow
    from certdesk.store.staff import StaffLoginCounter

    with session_scope(database) as s:
        s.add(StaffLoginCounter(key="name:gone", window_start=utcnow() - timedelta(days=1),
                                failures=5))
    with pytest.raises(LoginFailed):
        authenticate(database, Settings(), "ivy", "wrong-guess", "10.8.8.8")
    with Session(database) as s:
        assert s.get(StaffLoginCounter, "name:gone") is None
        assert s.get(StaffLoginCounter, "name:ivy").failures == 1
