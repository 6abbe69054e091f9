"""Every page renders for the roles that may open it, and shows a role only what it may use."""

from __future__ import annotations

import pytest

from tests.web.staff.conftest import MAIN

PAGES = ["/staff/", "/staff/search?q=恒信达", "/staff/clients/1", f"/staff/certificates/{MAIN}",
         "/staff/due?on=2027-01-01", "/staff/issue", "/staff/users"]


def test_every_page_renders_for_an_admin(signed_in, certificate_row):
    admin = signed_in("admin")
    for path in PAGES:
        response = admin.get(path)
        assert response.status_code == 200, (path, response.text[-300:])
    users = admin.get("/staff/users").text
    assert all(name in users for name in ("ivy", "dora", "rhea", "adam"))
    assert MAIN in admin.get("/staff/search?q=恒信达").text


def test_a_certificate_number_typed_with_spaces_finds_the_certificate(signed_in,
                                                                      certificate_row):
    response = signed_in("decision_maker").get("/staff/search?q=0273 26 fwf 0001 r0 00")
    assert response.status_code == 200 and response.url.path == f"/staff/certificates/{MAIN}"


@pytest.mark.parametrize("role, shown, hidden", [
    ("issuer", ["变更状态", "记录监督审查", "换证", "再认证"], ["上传档案"]),
    ("records_officer", ["上传档案"], ["变更状态", "再认证"]),
    ("decision_maker", [], ["变更状态", "上传档案", "再认证"]),
])
def test_the_certificate_page_offers_each_role_only_its_actions(signed_in, certificate_row,
                                                                 role, shown, hidden):
    page = signed_in(role).get(f"/staff/certificates/{MAIN}").text
    assert all(f"<summary>{label}" in page for label in shown)
    assert not any(f"<summary>{label}" in page for label in hidden)
