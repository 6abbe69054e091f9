"""Accounts: change one's own password, an admin's reset (the holder must choose a new one
before anything else), role changes; each one in the hash-chained log."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from certdesk.store.events import verify_chain
from certdesk.store.staff import StaffUser
from tests.web.staff.conftest import PASSWORD, StaffClient, logged

NEW = "a-new-password-1"
TEMPORARY = "temporary-pass-2"


def test_an_account_changes_its_own_password_with_the_current_one(signed_in, staff_app,
                                                                  engine):
    ivy = signed_in("issuer")
    wrong = ivy.post("/staff/password", {"current_password": "not-it-at-all",
                                         "new_password": NEW, "confirm": NEW})
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
    mismatch = ivy.post("/staff/password", {"current_password": PASSWORD,
                                            "new_password": NEW, "confirm": NEW + "x"})
    assert mismatch.status_code == 400 and "两次输入的新密码不一致" in mismatch.text
    short = ivy.post("/staff/password", {"current_password": PASSWORD,
                                         "new_password": "short", "confirm": "short"})
    assert short.status_code == 400 and "密码至少 10 个字符" in short.text
    assert not logged(engine, "staff.password_changed")

    ok = ivy.post("/staff/password", {"current_password": PASSWORD, "new_password": NEW,
                                      "confirm": NEW})
    assert ok.status_code == 303
    [entry] = logged(engine, "staff.password_changed", "staff:ivy")
    assert entry.actor == "ivy"
    fresh = StaffClient(TestClient(staff_app))
    assert fresh.login("ivy").status_code == 401
    assert fresh.login("ivy", NEW).status_code == 303


def test_a_reset_ends_the_sessions_and_forces_a_new_password_before_anything_else(
        signed_in, staff_app, engine):
    ivy = signed_in("issuer")
    adam = signed_in("admin")
    assert adam.post("/staff/users/ivy/reset", {"password": TEMPORARY}).status_code == 303
    [entry] = logged(engine, "staff.password_reset", "staff:ivy")
    assert entry.actor == "adam"
    # ivy's open session ended
    assert ivy.get("/staff/", follow_redirects=False).headers["location"].startswith(
        "/staff/login")

    again = StaffClient(TestClient(staff_app))
    assert again.login("ivy", TEMPORARY).status_code == 303
    for path in ("/staff/", "/staff/certificates", "/staff/issue"):
        answer = again.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/staff/password"
    form = again.get("/staff/password")
    assert form.status_code == 200 and 'id="forced"' in form.text
    again.token = form.text.split('name="csrf" value="')[1].split('"')[0]
    changed = again.post("/staff/password", {"current_password": TEMPORARY,
                                             "new_password": NEW, "confirm": NEW})
    assert changed.status_code == 303
    assert again.get("/staff/").status_code == 200
    assert 'id="forced"' not in again.get("/staff/password").text


def test_an_admin_changes_a_role_and_the_desk_keeps_one_active_admin(signed_in, engine):
    adam = signed_in("admin")
    assert adam.post("/staff/users/rhea/role", {"role": "issuer"}).status_code == 303
    with Session(engine) as s:
        assert s.exec(select(StaffUser.role).where(StaffUser.name == "rhea")).one() == "issuer"
    [entry] = logged(engine, "staff.role_changed", "staff:rhea")
    assert entry.actor == "adam" and '"from": "records_officer"' in entry.data
    last = adam.post("/staff/users/adam/role", {"role": "issuer"})
    assert last.status_code == 400 and "唯一启用的系统管理员" in last.text
    unknown = adam.post("/staff/users/rhea/role", {"role": "boss"})
    assert unknown.status_code == 400 and "boss" in unknown.text and "不存在" in unknown.text
    nobody = adam.post("/staff/users/nobody/role", {"role": "issuer"})
    assert nobody.status_code == 404
    with Session(engine) as s:
        assert verify_chain(s).ok


def test_only_an_admin_resets_passwords_or_changes_roles(signed_in, engine):
    ivy = signed_in("issuer")
    assert ivy.post("/staff/users/rhea/reset", {"password": TEMPORARY}).status_code == 403
    assert ivy.post("/staff/users/rhea/role", {"role": "admin"}).status_code == 403
    adam = signed_in("admin")
    own = adam.post("/staff/users/adam/reset", {"password": TEMPORARY})
    assert own.status_code == 400 and "修改密码" in own.text
    assert not logged(engine, "staff.password_reset")
    assert not logged(engine, "staff.role_changed")
