"""Signing in and out: argon2 hashes, wrong passwords, rate limit, disabled accounts,
expiry, and each of them in the event log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from certdesk.store.db import session_scope
from certdesk.store.models import utcnow
from certdesk.store.staff import StaffSession, StaffUser
from tests.web.staff.conftest import PASSWORD, logged


def test_the_password_is_stored_only_as_an_argon2id_hash(engine, accounts):
    from argon2 import PasswordHasher

    with Session(engine) as s:
        user = s.exec(select(StaffUser).where(StaffUser.name == "ivy")).one()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert PasswordHasher().verify(user.password_hash, PASSWORD)


def test_a_right_password_signs_in_and_lands_on_the_page_asked_for(anonymous, accounts):
    first = anonymous.get("/staff/due?on=2027-01-01")
    assert first.url.path == "/staff/login"
    assert first.url.params["next"] == "/staff/due?on=2027-01-01"
    response = anonymous.login("ivy", next=first.url.params["next"])
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/due?on=2027-01-01"
    page = anonymous.get("/staff/due")
    assert page.status_code == 200 and "ivy（签发人员）" in page.text


def test_sign_in_rotates_the_session_and_sets_a_strict_cookie(staff_app, accounts):
    from fastapi.testclient import TestClient

    from tests.web.staff.conftest import StaffClient

    client = StaffClient(TestClient(staff_app, base_url="https://testserver"))
    client.get("/staff/login")
    before = client.http.cookies["certdesk_staff"]
    response = client.login("ivy")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    assert "Path=/staff/" in cookie
    assert client.http.cookies["certdesk_staff"] != before  # no session fixation


def test_a_wrong_password_or_unknown_name_is_refused_with_the_same_answer(anonymous, accounts,
                                                                          engine):
    wrong = anonymous.login("ivy", "not-the-password")
    unknown = anonymous.login("nobody", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "用户名或密码错误" in response.text
    assert anonymous.get("/staff/", follow_redirects=False).status_code == 303
    failures = logged(engine, "staff.login_failed")
    assert [(e.subject, e.actor) for e in failures] == [("staff:ivy", "anonymous"),
                                                        ("staff:nobody", "anonymous")]


def test_sign_in_is_refused_for_a_while_after_five_failures(anonymous, accounts, settings):
    for _ in range(settings.staff_login_max_failures):
        assert anonymous.login("ivy", "guess-guess-guess").status_code == 401
    locked = anonymous.login("ivy")  # even the right password, until the window passes
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.text
    assert anonymous.login("dora").status_code == 303  # other accounts are not locked


def test_sign_in_and_out_are_logged_with_the_account_as_actor(signed_in, engine):
    client = signed_in("decision_maker")
    response = client.post("/staff/logout")
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"
    assert client.get("/staff/", follow_redirects=False).status_code == 303
    assert [(e.kind, e.actor) for e in logged(engine, "staff.login", "staff:dora")
            + logged(engine, "staff.logout", "staff:dora")] == [("staff.login", "dora"),
                                                                ("staff.logout", "dora")]


def test_disabling_an_account_ends_its_open_session(signed_in, engine):
    from certdesk.web.staff.accounts import set_active

    client = signed_in("issuer")
    assert client.get("/staff/").status_code == 200
    set_active(engine, "ivy", False, actor="test")
    assert client.get("/staff/", follow_redirects=False).status_code == 303
    assert client.login("ivy").status_code == 401


def test_an_idle_session_expires(signed_in, engine, settings):
    client = signed_in("decision_maker")
    with session_scope(engine) as s:
        s.execute(update(StaffSession).values(
            last_seen=utcnow() - timedelta(minutes=settings.staff_idle_minutes + 1)))
    response = client.get("/staff/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith(
        "/staff/login")


def test_the_page_after_sign_in_is_never_outside_the_staff_desk(anonymous, accounts):
    response = anonymous.login("ivy", next="//evil.example/staff/")
    assert response.headers["location"] == "/staff/"
