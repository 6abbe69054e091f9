"""Several web processes on one database count one limit: PDF checks, searches and staff
sign-ins take from a bucket per address kept in the database (``store.limits``), and a
staff session signed in on one process is honoured by another. Two app instances with an
engine each stand for two processes; SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from certdesk.store import limits
from certdesk.store.db import init_db, make_engine, session_scope
from certdesk.store.staff import StaffUser
from certdesk.web import create_app
from certdesk.web.staff.accounts import _hasher
from tests.signing.support import make_settings
from tests.web.staff.conftest import PASSWORD, csrf_of


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """A migrated, empty database both app instances use."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        engine = make_engine(url)
        with engine.begin() as conn:  # each test starts from an empty database
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()
    return url


@pytest.fixture
def two_apps(db_url, tmp_path):
    """``make(**settings)``: two app instances, an engine each, on the one database."""
    engines = []

    def make(**overrides) -> tuple[TestClient, TestClient]:
        settings = make_settings(tmp_path / "home", database_url=db_url, **overrides)
        clients = []
        for _ in range(2):
            engines.append(make_engine(db_url))
            clients.append(TestClient(create_app(settings, engines[-1])))
        return clients[0], clients[1]

    yield make
    for engine in engines:
        engine.dispose()


def _upload(client: TestClient):
    # Not a PDF: refused with 415 after the limit has taken the upload's tokens.
    return client.post("/api/v1/verify", files={"file": ("x.pdf", b"not a pdf", "text/plain")})


def test_uploads_to_two_app_instances_take_from_one_limit(two_apps):
    a, b = two_apps(public_rate_burst=10, public_rate_per_minute=1)  # two uploads in all
    codes = [_upload(a).status_code, _upload(b).status_code, _upload(a).status_code,
             _upload(b).status_code]
    assert codes == [415, 415, 429, 429]
    assert int(_upload(b).headers["retry-after"]) >= 60  # 5 tokens at one a minute
    assert b.get("/").status_code == 200  # page views are counted in each process


def test_searches_on_two_app_instances_take_from_one_limit(two_apps):
    a, b = two_apps(public_rate_burst=7, public_rate_per_minute=1)  # a search costs 3
    codes = [c.get("/api/v1/search", params={"q": "恒信达家电"}).status_code for c in (a, b, a)]
    assert codes == [200, 200, 429]


def test_sign_in_posts_to_two_app_instances_take_from_one_limit(two_apps):
    a, b = two_apps(staff_rate_per_minute=3)
    form = {"name": "nobody", "password": "guess-guess-guess"}
    codes = []
    for client in (a, b, a, b):
        csrf = csrf_of(client.get("/staff/login").text)
        codes.append(client.post("/staff/login", data={**form, "csrf": csrf}).status_code)
    assert codes == [401, 401, 401, 429]


def test_a_session_signed_in_on_one_app_instance_is_honoured_by_the_other(two_apps, db_url):
    a, b = two_apps()
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        s.add(StaffUser(name="ivy", role="issuer", password_hash=_hasher().hash(PASSWORD)))
    engine.dispose()
    csrf = csrf_of(a.get("/staff/login").text)
    signed = a.post("/staff/login", data={"name": "ivy", "password": PASSWORD, "csrf": csrf},
                    follow_redirects=False)
    assert signed.status_code == 303
    b.cookies = a.cookies
    home = b.get("/staff/", follow_redirects=False)
    assert home.status_code == 200 and "ivy" in home.text
    assert b.post("/staff/logout", data={"csrf": csrf_of(home.text)},
                  follow_redirects=False).status_code == 303
    assert a.get("/staff/", follow_redirects=False).status_code == 303  # ended for both


def test_concurrent_takes_from_two_engines_never_grant_more_than_the_burst(db_url):
    engines = [make_engine(db_url) for _ in range(2)]
    granted, start = [], threading.Barrier(16)

    def take(engine) -> None:
        start.wait()
        wait = limits.take(engine, "public:203.0.113.5", 1.0, rate=0.0, burst=7.0, now=1000.0)
        granted.append(wait == 0.0)

    threads = [threading.Thread(target=take, args=(engines[i % 2],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for engine in engines:
        engine.dispose()
    assert sorted(granted) == [False] * 9 + [True] * 7


def test_a_bucket_refills_at_its_rate_and_debt_stops_at_one_burst(db_url):
    engine = make_engine(db_url)
    key, rate, burst = "public:203.0.113.9", 1.0, 4.0
    assert limits.take(engine, key, 3.0, rate, burst, now=0.0) == 0.0
    assert limits.take(engine, key, 3.0, rate, burst, now=0.0) == pytest.approx(2.0)
    assert limits.take(engine, key, 3.0, rate, burst, now=2.0) == 0.0  # 1 + 2 refilled
    limits.charge(engine, key, 100.0, rate, burst, now=2.0)  # into debt, floored at -burst
    assert limits.take(engine, key, 1.0, rate, burst, now=2.0) == pytest.approx(5.0)
    assert limits.take(engine, key, 1.0, rate, burst, now=7.0) == 0.0
    engine.dispose()


def test_only_buckets_that_have_refilled_are_forgotten(db_url):
    engine = make_engine(db_url)
    rate, burst = 1.0, 4.0
    limits.take(engine, "old", 1.0, rate, burst, now=0.0)
    limits.take(engine, "recent", 1.0, rate, burst, now=95.0)
    assert limits.forget_full(engine, rate, burst, now=100.0) == 1  # full again after 8 s
    with engine.connect() as conn:
        assert conn.execute(text("SELECT key FROM ratebucket")).scalars().all() == ["recent"]
    engine.dispose()
