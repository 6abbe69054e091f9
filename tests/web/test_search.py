"""Public search by organisation: an exact credit code or a name's first four characters,
only what certificates print, in zh and en, charged more of the rate limit."""

from __future__ import annotations

from fastapi.testclient import TestClient

from certdesk.web import create_app
from tests.web.conftest import ALONE, BY_STATUS, HOLDER, MAIN, STAFF_ONLY

USCC = "91110105MA01XB8H2N"
MAINS = {MAIN, *BY_STATUS.values(), "027326FWF0007R100"}


def test_an_exact_credit_code_lists_the_organisations_main_certificates(client):
    page = client.get("/search", params={"q": USCC})
    assert page.status_code == 200
    for number in MAINS:
        assert f'href="/v/{number}"' in page.text
    assert f"{MAIN}-1" not in page.text  # sub-certificates are on the main one's page
    assert "找到 8 张证书" in page.text
    assert '<span class="pill pill-revoked">撤销</span>' in page.text


def test_a_code_typed_full_width_or_in_lower_case_with_spaces_is_the_same_code(client):
    full_width = USCC.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    for typed in (full_width, f" {USCC[:9].lower()} {USCC[9:]} "):
        answer = client.get("/api/v1/search", params={"q": typed}).json()
        assert answer["kind"] == "uscc" and len(answer["hits"]) == len(MAINS), typed


def test_a_name_prefix_of_four_characters_finds_the_holder(client):
    answer = client.get("/api/v1/search", params={"q": HOLDER[:4]})
    assert answer.status_code == 200
    body = answer.json()
    assert body["kind"] == "name" and {h["number"] for h in body["hits"]} == MAINS
    assert client.get("/api/v1/search", params={"q": "恒信达家电"}).json()["hits"] == []


def test_only_what_the_certificate_prints_is_returned(client):
    body = client.get("/api/v1/search", params={"q": USCC}).text
    hit = client.get("/api/v1/search", params={"q": USCC}).json()["hits"][0]
    assert set(hit) == {"number", "holder", "scheme", "status", "issue_date", "expiry_date"}
    for secret in STAFF_ONLY:
        assert secret not in body


def test_short_names_and_wrong_check_characters_are_refused_in_the_visitors_language(
        client):
    short = client.get("/search", params={"q": "北京恒"})
    assert short.status_code == 400 and "请至少输入组织名称的前 4 个字" in short.text
    english = client.get("/search", params={"q": "北京恒", "lang": "en"})
    assert "Enter at least the first 4 characters" in english.text
    bad = client.get("/api/v1/search", params={"q": USCC[:17] + "0"})
    assert bad.status_code == 400 and bad.json()["error"] == "search_bad_uscc"
    # LIKE's wildcards are plain characters here: nothing found, no error
    assert client.get("/api/v1/search", params={"q": "%%%%"}).json()["hits"] == []


def test_the_search_page_is_linked_from_the_home_page_in_both_languages(client):
    assert 'href="/search" id="search-link"' in client.get("/").text
    en = client.get("/?lang=en").text
    assert 'href="/search?lang=en" id="search-link"' in en
    page = client.get("/search", params={"q": USCC, "lang": "en"})
    assert "8 certificates found." in page.text and "Revoked" in page.text
    assert '<label for="q">Organisation name or credit code</label>' in page.text


def test_a_search_costs_more_of_the_rate_than_a_page_view(seeded):
    strict = seeded.settings.model_copy(update={"public_rate_burst": 7,
                                                "public_rate_per_minute": 1})
    with TestClient(create_app(strict, seeded.engine, staff=False), client=ALONE) as c:
        answers = [c.get("/api/v1/search", params={"q": USCC}).status_code
                   for _ in range(3)]
    assert answers == [200, 200, 429]
