"""Roles, CSRF and error pages: every refusal is decided on the server and answered with a
friendly page, never a traceback."""

from __future__ import annotations

import pytest

from tests.web.staff.conftest import MAIN

CERT = f"/staff/certificates/{MAIN}"
ISSUING_POSTS = [f"{CERT}/status", f"{CERT}/surveillance", f"{CERT}/reissue",
                 f"{CERT}/recertify", "/staff/issue", "/staff/sweep"]
ADMIN_POSTS = ["/staff/users", "/staff/users/ivy/active"]


RECORDS_POSTS = ["/staff/records"]
ADMIN_GETS = [("GET", "/staff/users")]
FORBIDDEN = {
    "issuer": [("POST", p) for p in ADMIN_POSTS + RECORDS_POSTS] + ADMIN_GETS,
    "decision_maker": [("POST", p) for p in ISSUING_POSTS + ADMIN_POSTS + RECORDS_POSTS]
    + [("GET", "/staff/issue")] + ADMIN_GETS,
    "records_officer": [("POST", p) for p in ISSUING_POSTS + ADMIN_POSTS]
    + [("GET", "/staff/issue")] + ADMIN_GETS,
}


@pytest.mark.parametrize("role", sorted(FORBIDDEN))
def test_a_role_without_the_right_gets_a_403_page_for_every_such_action(signed_in, engine,
                                                                        role):
    from tests.web.staff.conftest import logged

    client = signed_in(role)
    for method, path in FORBIDDEN[role]:
        response = client.post(path) if method == "POST" else client.get(path)
        assert response.status_code == 403, (method, path)
        assert "无权执行此操作" in response.text, (method, path)
    assert logged(engine, "staff.user_added") == []


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_post_without_the_session_csrf_token_gets_a_403_page(signed_in, token):
    client = signed_in("admin")
    data = {"name": "mallory", "role": "admin", "password": "0123456789ab"}
    if token is None:
        response = client.http.post("/staff/users", data=data, follow_redirects=False)
    else:
        response = client.post("/staff/users", data, csrf=token)
    assert response.status_code == 403 and "CSRF" in response.text
    assert "mallory" not in client.get("/staff/users").text


def test_the_csrf_token_of_one_session_does_not_work_in_another(signed_in):
    from tests.web.staff.conftest import csrf_of

    admin, other = signed_in("admin"), signed_in("admin")
    response = other.post("/staff/users", {"name": "mallory", "role": "admin",
                                           "password": "0123456789ab"},
                          csrf=csrf_of(admin.get("/staff/").text))
    assert response.status_code == 403


def test_sign_in_needs_the_csrf_token_of_the_sign_in_page(anonymous, accounts):
    anonymous.get("/staff/login")
    response = anonymous.http.post("/staff/login", data={"name": "ivy", "password": "x" * 12},
                                   follow_redirects=False)
    assert response.status_code == 403 and "CSRF" in response.text


def test_sign_out_needs_the_csrf_token(signed_in):
    client = signed_in("issuer")
    assert client.post("/staff/logout", csrf="").status_code == 403
    assert client.get("/staff/").status_code == 200


def test_pages_forbid_scripts_framing_and_caching(signed_in):
    response = signed_in("issuer").get("/staff/")
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none'
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "<script" not in response.text


def test_an_unexpected_failure_is_a_friendly_500_page_without_a_traceback(signed_in,
                                                                           monkeypatch):
    from certdesk.web.staff import views

    def broken(*_args, **_kw):
        raise RuntimeError("database exploded at line 42")

    monkeypatch.setattr(views, "recent", broken)
    response = signed_in("issuer").get("/staff/")
    assert response.status_code == 500
    assert "系统内部错误" in response.text
    assert "Traceback" not in response.text and "exploded" not in response.text


@pytest.mark.parametrize("path, status, text", [
    ("/staff/no-such-page", 404, "页面不存在"),
    ("/staff/certificates/not-a-number", 400, "不是证书编号"),
    (CERT, 404, f"没有证书 {MAIN}"),
    ("/staff/documents/" + "0" * 64, 404, "没有这份档案文件"),
    ("/staff/due?on=tomorrow", 400, "不是日期"),
    ("/staff/clients/x", 400, "表单不完整或格式不对"),
])
def test_user_errors_are_4xx_pages_that_say_what_is_wrong(signed_in, path, status, text):
    response = signed_in("records_officer").get(path)
    assert response.status_code == status
    assert text in response.text and "Traceback" not in response.text


def test_an_oversized_upload_is_refused_with_a_page_saying_so(signed_in, monkeypatch):
    from certdesk.web.staff import forms

    monkeypatch.setattr(forms, "MAX_UPLOAD", 2**20)
    client = signed_in("issuer")
    response = client.post("/staff/issue", {"profile": "xbht"},
                           files={"file": ("big.json", b" " * (2**20 + 1))})
    assert response.status_code == 400 and "big.json：文件超过 1 MB" in response.text


def test_a_file_that_is_not_json_csv_or_xlsx_is_refused_before_anything_is_issued(signed_in,
                                                                                   engine):
    from tests.web.staff.conftest import logged

    client = signed_in("issuer")
    response = client.post("/staff/issue", {"profile": "xbht"},
                           files={"file": ("clients.pdf", b"%PDF-1.7")})
    assert response.status_code == 400 and ".json、.csv 或 .xlsx" in response.text
    broken = client.post("/staff/issue", {"profile": "xbht"},
                         files={"file": ("clients.xlsx", b"PK\x03\x04")})
    assert broken.status_code == 400 and "不是可读取的 .xlsx 工作簿" in broken.text
    assert logged(engine, "number.drawn") == []
