"""The public verification page and its JSON twin: every status in clear words and colour,
Chinese by default and English on request, sub-certificates with their main one, the dated
history, QR token checks — and only what the certificate itself shows."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from certdesk.signing.tokens import TokenClaims, current_token, keys_from_keyset, verify_token
from certdesk.store.db import make_engine
from certdesk.web import create_app
from certdesk.web.public.deps import get_session
from tests.conftest import install_keys
from tests.signing.support import make_settings
from tests.web.conftest import (
    BY_STATUS,
    EXPIRES,
    HOLDER,
    ISSUED,
    MAIN,
    STAFF_ONLY,
    SUCCESSOR,
    seed,
)

WORDS = {"valid": ("有效", "Valid"), "suspended": ("暂停", "Suspended"),
         "revoked": ("撤销", "Revoked"), "cancelled": ("注销", "Cancelled"),
         "expired": ("过期", "Expired"), "superseded": ("已换发", "Superseded"),
         "not_yet_valid": ("尚未生效", "Not yet valid")}


def status_of(page: str) -> tuple[str, str]:
    """(css class, word) of the page's status banner."""
    banner = re.search(r'class="status status-(\w+)".*?id="status">([^<]+)<', page, re.S)
    return banner.group(1), banner.group(2)


@pytest.mark.parametrize("status", list(BY_STATUS))
def test_each_status_shows_in_chinese_with_its_own_colour(client, status):
    page = client.get(f"/v/{BY_STATUS[status]}")
    assert page.status_code == 200
    assert status_of(page.text) == (status, WORDS[status][0])


@pytest.mark.parametrize("status", list(BY_STATUS))
def test_each_status_shows_in_english_with_lang_en(client, status):
    page = client.get(f"/v/{BY_STATUS[status]}?lang=en")
    assert status_of(page.text) == (status, WORDS[status][1])
    assert '<html lang="en">' in page.text


def test_the_page_shows_what_the_certificate_states(client):
    page = client.get(f"/v/{MAIN}").text
    for fact in (HOLDER, "91110105MA01XB8H2N", "家用电器的安装、维修的售后服务成熟度",
                 "北京市朝阳区建国路88号", "天津市和平区南京路189号", "临时场所", "四星级",
                 "2026年11月23日", "2029年11月22日", "北京新标恒通认证有限公司",
                 "0273 26 FWF 0001 R0 00", "www.cnca.gov.cn"):
        assert fact in page, fact


def test_no_staff_name_or_internal_reason_ever_reaches_the_public(client):
    for number in (BY_STATUS["suspended"], BY_STATUS["revoked"], f"{MAIN}-2"):
        for url in (f"/v/{number}", f"/v/{number}?lang=en", f"/api/v1/certificates/{number}"):
            body = client.get(url).text
            assert all(secret not in body for secret in STAFF_ONLY), url
            assert "issuer" not in body.replace("issue_date", "")


def test_the_main_certificate_lists_its_sub_certificates_with_their_status(client):
    page = client.get(f"/v/{MAIN}").text
    assert f'href="/v/{MAIN}-1"' in page and f'href="/v/{MAIN}-2"' in page
    assert re.search(rf"{MAIN}-2</a>\s*<span class=\"pill pill-suspended\">暂停", page)


def test_a_sub_certificate_links_to_its_main_certificate_and_says_it_needs_it(client):
    page = client.get(f"/v/{MAIN}-1?lang=en").text
    assert f'href="/v/{MAIN}?lang=en"' in page
    assert "valid only together with its main certificate" in page
    assert "pill-valid" in page


def test_the_history_lists_status_changes_with_their_dates(client):
    page = client.get(f"/v/{BY_STATUS['revoked']}").text
    history = re.findall(r'<time datetime="([\d-]+)">[^<]+</time> ([^<\s]+)', page)
    assert history == [(ISSUED.isoformat(), "发证"), ("2027-01-05", "暂停"), ("2027-01-05", "撤销")]


def test_a_superseded_certificate_points_to_its_successor(client):
    page = client.get(f"/v/{BY_STATUS['superseded']}").text
    assert f'href="/v/{SUCCESSOR}"' in page


def test_the_language_switch_keeps_the_token(client):
    page = client.get(f"/v/{MAIN}?t=abc").text
    assert f'href="/v/{MAIN}?t=abc&amp;lang=en"' in page


def test_a_printed_number_with_spaces_finds_the_certificate(client):
    answer = client.get("/v", params={"number": "0273 26 FWF 0001 R0 00"})
    assert answer.status_code == 200 and status_of(answer.text)[0] == "valid"


# -- unknown and malformed numbers -------------------------------------------------------------

@pytest.mark.parametrize(("number", "says"), [
    ("027326FWF0999R000", "未找到证书"),
    ("hello", "证书编号格式不正确"),
    ("<script>alert(1)<script>", "证书编号格式不正确"),
    ("<script>alert(1)</script>", "页面不存在"),  # a slash: no certificate route matches
    ("9" * 5000, "证书编号格式不正确"),
    ("027326FWF0001R000-0", "证书编号格式不正确"),
])
def test_an_unknown_or_malformed_number_gets_a_404_page_that_says_so(client, number, says):
    page = client.get(f"/v/{number}")
    assert page.status_code == 404
    assert says in page.text and "<script>" not in page.text


def test_the_api_answers_unknown_and_malformed_numbers_with_404_json(client):
    unknown = client.get("/api/v1/certificates/027326FWF0999R000")
    malformed = client.get("/api/v1/certificates/nonsense")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
    assert (malformed.status_code, malformed.json()["error"]) == (404, "malformed")


# -- QR tokens ---------------------------------------------------------------------------------

def token(seeded, holder: str = HOLDER, number: str = MAIN) -> str:
    return current_token(seeded.settings, TokenClaims(number, holder, ISSUED, EXPIRES))


def test_a_genuine_token_is_confirmed_on_the_page(client, seeded):
    page = client.get(f"/v/{MAIN}?t={token(seeded)}")
    assert page.status_code == 200 and 'class="token token-ok"' in page.text


def test_a_genuine_token_for_details_since_changed_says_so(client, seeded):
    page = client.get(f"/v/{MAIN}?t={token(seeded, holder='北京旧名称有限公司')}")
    assert page.status_code == 200 and 'class="token token-differs"' in page.text
    assert "北京旧名称有限公司" in page.text


@pytest.mark.parametrize("bad", ["garbage!", "AAAA", "A" * 3000, "__--__"])
def test_a_malformed_token_is_a_400_page_that_still_shows_the_record(client, bad):
    page = client.get(f"/v/{MAIN}", params={"t": bad})
    assert page.status_code == 400
    assert status_of(page.text)[0] == "bad" and 'id="archived-status">有效<' in page.text


def test_a_token_of_another_certificate_is_refused(client, seeded):
    page = client.get(f"/v/{MAIN}?t={token(seeded, number=SUCCESSOR)}")
    assert page.status_code == 400 and "status status-bad" in page.text


def test_the_api_reports_the_token_check(client, seeded):
    good = client.get(f"/api/v1/certificates/{MAIN}?t={token(seeded)}").json()
    assert good["status"] == "valid" and good["token"]["state"] == "ok"
    assert good["status_label"] == {"zh": "有效", "en": "valid"}
    bad = client.get(f"/api/v1/certificates/{MAIN}?t=AAAA")
    assert bad.status_code == 400 and bad.json()["token"]["state"] == "invalid"


def test_the_published_keys_verify_a_token_offline(client, seeded):
    doc = client.get("/.well-known/certdesk-keys.json").json()
    claims = verify_token(token(seeded), MAIN, keys_from_keyset(doc)).claims
    assert claims.holder == HOLDER and claims.expiry_date == EXPIRES


# -- the rest of the site ----------------------------------------------------------------------

def test_the_home_page_and_the_upload_form_are_served(client):
    assert 'action="/v"' in client.get("/").text
    form = client.get("/verify?lang=en").text
    assert 'enctype="multipart/form-data"' in form and "Files up to 10 MB" in form


def test_the_api_docs_are_served_locally_from_the_openapi_description(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/api/v1/certificates/{number}" in docs.text and "/api/v1/verify" in docs.text
    assert "<script" not in docs.text and "cdn" not in docs.text.lower()
    assert client.get("/openapi.json").json()["paths"]


def test_an_unknown_page_and_a_wrong_method_are_4xx_pages(client):
    assert client.get("/nowhere").status_code == 404
    assert client.put("/verify").status_code == 405
    assert "未找到" not in client.get("/nowhere").text  # a missing page, not a certificate


def test_the_session_dependency_can_be_overridden(tmp_path, key_material):
    other = make_settings(tmp_path / "other-home")
    other_engine = seed(other, key_material)
    app = create_app(make_settings(install_keys(key_material, tmp_path / "empty-home")))

    def other_session():
        with Session(other_engine) as s:
            yield s

    app.dependency_overrides[get_session] = other_session
    with TestClient(app) as c:
        assert BY_STATUS["revoked"] in c.get("/notices").text


def test_an_unexpected_failure_is_a_plain_500_without_a_traceback(seeded):
    app = create_app(seeded.settings, seeded.engine)

    def broken():
        raise RuntimeError("database exploded at /secret/path")
        yield  # a generator, like the real dependency

    app.dependency_overrides[get_session] = broken
    with TestClient(app, raise_server_exceptions=False) as c:
        answer = c.get("/notices")
    assert answer.status_code == 500
    assert "Traceback" not in answer.text and "/secret/path" not in answer.text


def test_a_database_failure_on_the_certificate_page_is_a_plain_500(seeded, tmp_path):
    # The hot path reads the database without the session dependency: same boundary.
    app = create_app(seeded.settings, make_engine(f"sqlite:///{tmp_path / 'no-tables.db'}"))
    with TestClient(app, raise_server_exceptions=False) as c:
        for url in (f"/v/{MAIN}", f"/api/v1/certificates/{MAIN}"):
            answer = c.get(url)
            assert answer.status_code == 500
            assert "Traceback" not in answer.text and "loghead" not in answer.text
