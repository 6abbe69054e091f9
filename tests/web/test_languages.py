"""The public pages' language: ``?lang=`` (remembered in a cookie), then the cookie, then
``Accept-Language``, then Chinese; and every public page in English shows no Chinese but
the certificate's own data."""

from __future__ import annotations

import pytest

from certdesk.domain.profiles import installed_profiles
from tests.signing.support import small_pdf
from tests.untranslated import HOW_TO_FIX, page_data, untranslated
from tests.web.conftest import BY_STATUS, MAIN

PAGES = ["/", "/verify", "/notices", "/docs", "/search", "/search?q=北京恒信达",
         "/search?q=北京", "/search?q=91110105MA01XB8H2X", f"/v/{MAIN}-2", "/v/0273XYZ",
         "/v/027326FWF0999R000", "/no-such-page", f"/v/{MAIN}?t=forged",
         *(f"/v/{n}" for n in BY_STATUS.values())]


def lang_of(page) -> str:
    return page.text.split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("headers, query, cookie, expected", [
    ({}, "", None, "zh-CN"),
    ({"Accept-Language": "en-US,en;q=0.9"}, "", None, "en"),
    ({"Accept-Language": "fr-FR,zh;q=0.8,en;q=0.5"}, "", None, "zh-CN"),
    ({"Accept-Language": "en"}, "?lang=zh", None, "zh-CN"),
    ({"Accept-Language": "en"}, "", "zh", "zh-CN"),
    ({"Accept-Language": "zh-CN"}, "?lang=en", "zh", "en"),
    ({}, "?lang=xx", None, "zh-CN"),
])
def test_lang_beats_the_cookie_which_beats_accept_language(client, headers, query, cookie,
                                                           expected):
    if cookie:
        client.cookies.set("certdesk_lang", cookie)
    assert lang_of(client.get(f"/v/{MAIN}{query}", headers=headers)) == expected


def test_a_chosen_language_is_remembered_for_the_next_page(client):
    first = client.get("/?lang=en")
    assert "certdesk_lang=en" in first.headers["set-cookie"]
    assert lang_of(client.get(f"/v/{MAIN}")) == "en"
    assert lang_of(client.get(f"/v/{MAIN}", headers={"Accept-Language": "zh"})) == "en"
    again = client.get("/verify?lang=en")
    assert "set-cookie" not in again.headers  # already remembered
    assert lang_of(client.get("/?lang=zh")) == "zh-CN" and lang_of(client.get("/")) == "zh-CN"


def test_a_cached_certificate_page_is_kept_per_language(client):
    zh = client.get(f"/v/{MAIN}", headers={"Accept-Language": "zh-CN"})
    en = client.get(f"/v/{MAIN}", headers={"Accept-Language": "en"})
    assert lang_of(zh) == "zh-CN" and lang_of(en) == "en" and zh.headers["etag"] != en.headers[
        "etag"]


def test_every_public_page_in_english_shows_only_certificate_data_in_chinese(client, seeded):
    data = page_data(seeded.engine, installed_profiles(seeded.settings), "北京恒信达", "北京")
    for path in PAGES:
        page = client.get(path, headers={"Accept-Language": "en"})
        assert lang_of(page) == "en", path
        left = untranslated(page.text, data)
        assert not left, f"{path} ({page.status_code}): {HOW_TO_FIX}:\n" + "\n".join(left)


@pytest.mark.parametrize("upload, status", [
    (("a.pdf", small_pdf(), "application/pdf"), 200),  # unsigned: "not ours", in English
    (("a.txt", b"plain text", "text/plain"), 415), (("", b"", "application/pdf"), 400)])
def test_the_pdf_check_answers_in_english(client, seeded, upload, status):
    page = client.post("/verify", files={"file": upload}, headers={"Accept-Language": "en"})
    assert page.status_code == status and lang_of(page) == "en"
    data = page_data(seeded.engine, installed_profiles(seeded.settings))
    assert not untranslated(page.text, data), HOW_TO_FIX
