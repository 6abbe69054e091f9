"""Staff desk fixtures: the router in a bare FastAPI app, one account per role, and clients
signed in as them (CSRF token at hand)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from certdesk.store.models import Event

PASSWORD = "staff-desk-secret"
ACCOUNTS = {"issuer": "ivy", "decision_maker": "dora", "records_officer": "rhea",
            "admin": "adam"}
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')

# One XBHT client with two sites: a main certificate and sub-certificates -1 and -2.
CLIENT = {
    "name": "北京恒信达家电售后服务有限公司", "uscc": "91110105MA01XB8H2N",
    "registered_address": "北京市朝阳区建国路88号", "scope": "家用电器的安装、维修",
    "grade": "五星级", "decision_date": "2026-03-10", "issue_date": "2026-03-15",
    "sites": [{"address": "北京市朝阳区建国路88号", "scope": "家用电器的安装、维修"},
              {"address": "天津市和平区南京路189号", "scope": "家用电器的维修"}],
}
MAIN = "027326FWF0001R000"
ISSUED = (date(2026, 3, 15), date(2029, 3, 14))


def csrf_of(html: str) -> str:
    return CSRF_RE.search(html).group(1)


class StaffClient:
    """A browser stand-in: the session cookie, and form posts that carry the CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.http = client
        self.token = ""

    def login(self, name: str, password: str = PASSWORD, **extra):
        form = self.http.get("/staff/login")
        return self.http.post("/staff/login", data={
            "name": name, "password": password, "csrf": csrf_of(form.text), **extra},
            follow_redirects=False)

    def get(self, path: str, **kw):
        return self.http.get(path, **kw)

    def post(self, path: str, data: dict | None = None, *, csrf: str | None = None, **kw):
        """Post a form as the page would; ``csrf`` overrides the session's token."""
        if not self.token:
            self.token = csrf_of(self.http.get("/staff/").text)
        form = {"csrf": self.token if csrf is None else csrf, **(data or {})}
        return self.http.post(path, data=form, follow_redirects=False, **kw)


@pytest.fixture
def staff_app(keyed_home, settings, engine, office_or_fake) -> FastAPI:
    from certdesk.web.staff.router import mount

    app = FastAPI()
    mount(app, settings, engine, pool=office_or_fake)
    return app


@pytest.fixture(scope="session")
def password_hash() -> str:
    """The shared test password, hashed once per session at the suite's argon2 cost (a
    sign-in would otherwise rehash it)."""
    from certdesk.web.staff.accounts import _hasher

    return _hasher().hash(PASSWORD)


@pytest.fixture
def accounts(staff_app, engine, password_hash) -> dict[str, str]:
    """One account per role (role → name); created after the router made its tables."""
    from certdesk.store.db import session_scope
    from certdesk.store.staff import StaffUser

    with session_scope(engine) as s:
        for role, name in ACCOUNTS.items():
            s.add(StaffUser(name=name, role=role, password_hash=password_hash))
    return ACCOUNTS


@pytest.fixture
def anonymous(staff_app) -> StaffClient:
    return StaffClient(TestClient(staff_app))


@pytest.fixture
def signed_in(staff_app, accounts):
    """``signed_in(role)``: a client signed in with that role's account."""

    def _client(role: str) -> StaffClient:
        client = StaffClient(TestClient(staff_app))
        assert client.login(accounts[role]).status_code == 303
        return client

    return _client


@pytest.fixture
def client_file(tmp_path):
    path = tmp_path / "client.json"
    path.write_text(json.dumps(CLIENT, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def certificate_row(engine) -> str:
    """MAIN as a database row only (no PDF): for pages that need a certificate to exist."""
    from certdesk.store.db import session_scope
    from certdesk.store.models import Certificate, Organisation

    with session_scope(engine) as s:
        org = Organisation(uscc=CLIENT["uscc"], name=CLIENT["name"],
                           registered_address=CLIENT["registered_address"])
        s.add(org)
        s.flush()
        s.add(Certificate(number=MAIN, profile="xbht", organisation_id=org.id,
                          holder_name=CLIENT["name"], scope=CLIENT["scope"], grade="五星级",
                          decision_date=date(2026, 3, 10), issue_date=ISSUED[0],
                          effective_from=ISSUED[0], expiry_date=ISSUED[1]))
    return MAIN


def logged(engine, kind: str, subject: str | None = None) -> list[Event]:
    with Session(engine) as s:
        query = select(Event).where(Event.kind == kind)
        if subject is not None:
            query = query.where(Event.subject == subject)
        return list(s.exec(query.order_by(Event.seq)))


def finished_job(client, response) -> dict:
    """The job a batch form post started (the fast tier's queue runs it at once): its JSON,
    after checking that the post redirected to its page and that it ran to the end."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/staff/jobs/\d+", location), location
    job = client.get(f"{location}.json").json()
    assert job["state"] == "done", job
    return job
