"""The certificate page and API keep their answers per process: a status change still shows
on the very next request (in this process or another one on the same database), a client
that has the answer gets a 304, and the QR token is still checked on every request. Page
views read without SQLite's write lock; ``certdesk serve --workers N`` runs N processes."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import select

from certdesk.signing.keys import rotate
from certdesk.signing.tokens import TokenClaims, current_token
from certdesk.store import events
from certdesk.store.db import make_engine, session_scope
from certdesk.store.models import Certificate
from certdesk.web import create_app
from certdesk.web.answers import LOG_HEAD
from tests.shipped import SHIPPED
from tests.signing.support import make_settings
from tests.web.conftest import EXPIRES, HOLDER, ISSUED, MAIN, Seeded, seed
from tests.web.test_browser import free_port, serving

PAGES = (f"/v/{MAIN}", f"/api/v1/certificates/{MAIN}")
SUB = f"{MAIN}-1"


@pytest.fixture
def home(tmp_path, key_material) -> Seeded:
    """A seeded home of its own: these tests change it."""
    settings = make_settings(tmp_path / "home", public_rate_burst=10_000)
    return Seeded(settings, seed(settings, key_material))


def suspend(engine, number: str, action: str = "suspend", to: str = "suspended") -> None:
    """Suspend (or ``action``) as the lifecycle does: the row and its log entry in one
    transaction."""
    with session_scope(engine) as s:
        row = s.exec(select(Certificate).where(Certificate.number == number)).one()
        events.append(s, f"certificate.{action}", number, {"from": row.status, "to": to},
                      "tester", profiles=SHIPPED)
        row.status = to
        s.add(row)


def token(home: Seeded) -> str:
    return current_token(home.settings, TokenClaims(MAIN, HOLDER, ISSUED, EXPIRES))


def forged(genuine: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(genuine + "=" * (-len(genuine) % 4)))
    raw[-1] ^= 0x01  # one bit of the signature
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def status(answer) -> str:
    if answer.headers["content-type"].startswith("application/json"):
        return answer.json()["status"]
    shown = {"暂停": "suspended", "撤销": "revoked"}
    return next((s for label, s in shown.items() if f'id="status">{label}<' in answer.text),
                "valid")


def test_a_status_change_shows_on_the_very_next_request(home):
    with TestClient(create_app(home.settings, home.engine)) as c:
        for url in PAGES:  # twice each: the second answer is the kept one
            assert [status(c.get(url)) for _ in range(2)] == ["valid", "valid"]
        suspend(home.engine, MAIN)
        for url in PAGES:
            assert status(c.get(url)) == "suspended"
            assert status(c.get(f"{url}?t={token(home)}")) == "suspended"


def test_a_status_change_made_through_another_instance_shows_at_once(home):
    # Two app instances, each with its own engine and answers, on one database file: as
    # two server processes would be.
    first = TestClient(create_app(home.settings, make_engine(home.settings.db_url)))
    second = TestClient(create_app(home.settings, make_engine(home.settings.db_url)))
    with first, second:
        for c in (first, second):
            assert [status(c.get(url)) for url in PAGES] == ["valid", "valid"]
        suspend(make_engine(home.settings.db_url), MAIN)  # a third writer: the CLI, say
        for c in (first, second):
            assert [status(c.get(url)) for url in PAGES] == ["suspended", "suspended"]


def test_a_revocation_shows_on_the_next_request_of_every_instance_with_the_token_checked(home):
    # Both instances have the valid answers kept (with a genuine token); the revocation is
    # made through neither of them.
    first = TestClient(create_app(home.settings, make_engine(home.settings.db_url)))
    second = TestClient(create_app(home.settings, make_engine(home.settings.db_url)))
    urls = [f"{url}?t={token(home)}" for url in PAGES]
    with first, second:
        for c in (first, second):
            assert [status(c.get(url)) for url in urls * 2] == ["valid"] * 4
        suspend(make_engine(home.settings.db_url), MAIN, "revoke", "revoked")
        for c in (first, second):
            page, api = (c.get(url) for url in urls)
            assert status(page) == status(api) == "revoked"
            assert api.json()["token"]["state"] == "ok"
            assert api.json()["verdict"]["status"] == "revoked"


class Statements:
    """Every SQL statement the engine's connections run, as SQLite traces them: also what
    bypasses SQLAlchemy's execution events (the log head's bare connection) and the
    transaction statements."""

    def __init__(self, engine) -> None:
        self.seen: list[str] = []
        event.listen(engine, "connect", lambda conn, _record: conn.set_trace_callback(
            lambda sql: self.seen.append(" ".join(sql.split()))))

    def during(self, call) -> list[str]:
        start = len(self.seen)
        call()
        return self.seen[start:]


def test_a_certificate_is_read_once_in_four_statements_and_then_costs_one_per_request(home):
    engine = make_engine(home.settings.db_url)
    statements = Statements(engine)
    with TestClient(create_app(home.settings, engine)) as c:
        for number, query in ((MAIN, f"?t={token(home)}"), (f"{MAIN}-1", "")):
            page, api = f"/v/{number}{query}", f"/api/v1/certificates/{number}{query}"
            built = statements.during(lambda: c.get(page))  # noqa: B023 (called at once)
            # The log head; then, in one read transaction, the certificate with its
            # organisation, its main certificate or sub-certificates, its history.
            assert built[:2] == [LOG_HEAD, "BEGIN"] and built[-1] == "ROLLBACK"
            assert len(built) == 6 and all(q.startswith("SELECT") for q in built[2:-1])
            assert "JOIN organisation" in built[2] and "FROM event" in built[4]
            # The JSON of the same certificate, and each answer again: the log head only.
            for url in (api, page, api):
                assert statements.during(lambda: c.get(url)) == [LOG_HEAD]  # noqa: B023
        suspend(home.engine, MAIN)
        assert len(statements.during(lambda: c.get(PAGES[0]))) == 6  # the head moved


def test_page_views_do_not_queue_for_the_write_lock(home):
    # A writer in the middle of a transaction (issuing, say): readers go on from the last
    # committed state instead of waiting out the 60 s busy timeout for the lock.
    app = create_app(home.settings, make_engine(home.settings.db_url))
    writer = sqlite3.connect(home.settings.home / "certdesk.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE loghead SET seq = seq + 1 WHERE id = 1")
    try:
        with TestClient(app) as c:
            for url in (*PAGES, "/notices"):
                assert c.get(url).status_code == 200
    finally:
        writer.rollback()
        writer.close()


def test_a_client_holding_the_answer_gets_a_304_until_the_status_changes(home):
    with TestClient(create_app(home.settings, home.engine)) as c:
        for url in PAGES:
            first = c.get(url)
            etag = first.headers["etag"]
            assert first.headers["cache-control"] == "no-cache"
            again = c.get(url, headers={"If-None-Match": etag})
            assert again.status_code == 304 and again.content == b""
            assert again.headers["etag"] == etag
        page_tag = c.get(PAGES[0]).headers["etag"]
        assert c.get(f"{PAGES[0]}?lang=en", headers={"If-None-Match": page_tag}).status_code == 200
        c.cookies.clear()  # ?lang=en is remembered: back to Chinese
        tags = {url: c.get(url).headers["etag"] for url in PAGES}
        suspend(home.engine, MAIN)
        for url in PAGES:
            changed = c.get(url, headers={"If-None-Match": tags[url]})
            assert changed.status_code == 200 and status(changed) == "suspended"
            assert changed.headers["etag"] != tags[url]


@pytest.mark.parametrize("held", ['W/{etag}', '"other", {etag}', "*"])
def test_a_304_answers_a_weak_listed_or_any_tag_and_keeps_the_guards_headers(home, held):
    with TestClient(create_app(home.settings, home.engine)) as c:
        for url in (f"{PAGES[0]}?t={token(home)}", PAGES[1]):
            etag = c.get(url).headers["etag"]
            again = c.get(url, headers={"If-None-Match": held.format(etag=etag)})
            assert again.status_code == 304 and again.content == b""
            assert again.headers["cache-control"] == "no-cache"
            assert again.headers["x-content-type-options"] == "nosniff"
            assert "content-security-policy" in again.headers


def test_a_forged_token_is_refused_even_after_the_genuine_one_was_answered(home):
    genuine = token(home)
    with TestClient(create_app(home.settings, home.engine)) as c:
        for url in PAGES:
            assert c.get(f"{url}?t={genuine}").status_code == 200
            etag = c.get(f"{url}?t={genuine}").headers["etag"]
            refused = c.get(f"{url}?t={forged(genuine)}", headers={"If-None-Match": etag})
            assert refused.status_code == 400
            assert c.get(f"{url}?t={genuine}").status_code == 200


def test_a_token_signed_after_a_key_rotation_verifies_on_a_running_server(home):
    with TestClient(create_app(home.settings, home.engine)) as c:
        old = token(home)
        assert c.get(f"{PAGES[1]}?t={old}").json()["token"]["state"] == "ok"
        rotate(home.settings)
        new = token(home)
        assert new != old
        for t in (new, old):
            assert c.get(f"{PAGES[1]}?t={t}").json()["token"]["state"] == "ok"


def server_processes(port: int) -> list[str]:
    """Command lines of the children of the ``certdesk serve`` process on ``port``."""
    def cmdline(proc: Path) -> list[str]:
        try:
            return (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            return []

    procs = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
    parent = next(p.name for p in procs
                  if "serve" in cmdline(p) and str(port) in cmdline(p) and "--port" in cmdline(p))
    children = []
    for p in procs:
        try:
            ppid = (p / "stat").read_text().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        if ppid == parent:
            children.append(" ".join(cmdline(p)))
    return children


@pytest.mark.slow  # real server processes
def test_serve_with_workers_starts_that_many_server_processes(home):
    port = free_port()
    env = {"CERTDESK_HOME": str(home.settings.home)}
    with serving(env, port, "--workers", "2") as base:
        workers = [c for c in server_processes(port) if "multiprocessing.spawn" in c]
        assert len(workers) == 2
        for url in PAGES:
            assert httpx.get(f"{base}{url}?t={token(home)}").status_code == 200

