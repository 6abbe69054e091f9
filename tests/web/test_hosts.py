"""Links and redirects stay on this site whatever the request says (its path, its Host
header), the app answers only the host names it is configured for, and X-Forwarded-For is
believed only from a proxy the settings name. And the anonymous side of the staff desk:
rate-limited, no session row until a sign-in succeeds, no body read before sign-in."""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from certdesk.store.db import session_scope
from certdesk.store.staff import StaffSession, StaffUser
from certdesk.web import create_app
from tests.conftest import CERTDESK, REPO
from tests.web.conftest import MAIN

SWITCH = re.compile(r'href="([^"]*lang=(?:en|zh)[^"]*)"')


def test_the_language_switch_of_a_page_for_a_double_slash_path_stays_on_this_site(client):
    answer = client.get("http://testserver//evil.example/x")
    assert answer.status_code == 404
    links = SWITCH.findall(answer.text)
    assert links and all(link.startswith("/") and not link.startswith(("//", "/\\"))
                         for link in links)
    assert "/evil.example/x?lang=en" in links


def test_a_trailing_slash_redirect_does_not_echo_the_host_header(client):
    answer = client.get("/staff", headers={"host": "evil.example"}, follow_redirects=False)
    assert answer.status_code in (301, 302, 307, 308)
    assert answer.headers["location"] == "/staff/"


def test_an_absolute_or_protocol_relative_location_is_made_a_path_on_this_site():
    from certdesk.web.guards import local_location

    assert local_location(b"http://evil.example/staff/?next=%2F") == b"/staff/?next=%2F"
    assert local_location(b"//evil.example/x") == b"/x"
    assert local_location(b"http://testserver//evil.example/x/") == b"/evil.example/x/"
    assert local_location(b"/staff/login") == b"/staff/login"


def test_only_the_configured_host_names_are_answered(seeded):
    settings = seeded.settings.model_copy(update={"allowed_hosts": ["cert.example.cn"]})
    with TestClient(create_app(settings, seeded.engine), base_url="https://cert.example.cn") as c:
        assert c.get(f"/v/{MAIN}").status_code == 200
        forged = c.get(f"/v/{MAIN}", headers={"host": "evil.example"})
    assert forged.status_code == 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # a real server process
def test_x_forwarded_for_from_localhost_does_not_pick_the_rate_limit_address(tmp_path):
    env = {"CERTDESK_HOME": str(tmp_path / "home"), "CERTDESK_PUBLIC_RATE_BURST": "3",
           "CERTDESK_PUBLIC_RATE_PER_MINUTE": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run([str(CERTDESK), "keys", "init"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([str(CERTDESK), "serve", "--port", str(port)], env=env, cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        codes = []
        for i in range(6):
            request = urllib.request.Request(f"http://127.0.0.1:{port}/",
                                             headers={"X-Forwarded-For": f"10.1.2.{i}"})
            for _ in range(300):  # the server is still starting
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        codes.append(answer.status)
                    break
                except urllib.error.HTTPError as exc:
                    codes.append(exc.code)
                    break
                except urllib.error.URLError:
                    time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert codes[:3] == [200, 200, 200] and 429 in codes  # one address, however it is dressed


# -- the anonymous staff desk --------------------------------------------------------------------

@pytest.fixture
def desk_app(seeded):
    engine = seeded.engine
    with session_scope(engine) as s:
        if s.exec(select(StaffUser).where(StaffUser.name == "gina")).first() is None:
            from argon2 import PasswordHasher

            s.add(StaffUser(name="gina", role="issuer",
                            password_hash=PasswordHasher().hash("gina-password")))
    return create_app(seeded.settings, engine)


def _sessions(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(StaffSession)).one()


def test_anonymous_staff_pages_create_no_session_row_until_a_sign_in_succeeds(desk_app,
                                                                             seeded):
    before = _sessions(seeded.engine)
    with TestClient(desk_app) as c:
        for _ in range(5):
            assert c.get("/staff/login").status_code == 200
            assert c.get("/staff/", follow_redirects=False).status_code == 303
        form = c.get("/staff/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        wrong = c.post("/staff/login", data={"name": "gina", "password": "guess-guess",
                                             "csrf": csrf})
        assert wrong.status_code == 401
        assert _sessions(seeded.engine) == before
        right = c.post("/staff/login", data={"name": "gina", "password": "gina-password",
                                             "csrf": csrf}, follow_redirects=False)
        assert right.status_code == 303
    assert _sessions(seeded.engine) == before + 1


def test_anonymous_staff_requests_are_rate_limited(seeded, desk_app):
    strict = seeded.settings.model_copy(update={"staff_rate_per_minute": 5})
    with TestClient(create_app(strict, seeded.engine)) as c:
        codes = [c.get("/staff/login").status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and codes[-1] == 429


def test_an_anonymous_upload_is_refused_before_its_body_is_read(desk_app):
    read = []

    def body():
        for _ in range(1000):  # would be 120 MB
            read.append(1)
            yield b"0" * (120 * 1024)

    with TestClient(desk_app) as c:
        answer = c.post("/staff/records/upload", content=body(), follow_redirects=False,
                        headers={"content-type": "multipart/form-data; boundary=x",
                                 "content-length": str(120 * 1024 * 1024)})
        big_sign_in = c.post("/staff/login", content=b"name=" + b"x" * 100_000,
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/login"
    assert len(read) <= 1  # the client's first chunk at most, never the rest
    assert big_sign_in.status_code == 413
