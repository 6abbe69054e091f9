"""The verdict the public pages and the JSON API lead with: "may I rely on this certificate
today?" — green only for a genuine, valid certificate; a genuine revoked one says 撤销 in the
headline; a forged QR token is a red headline first, the archived record after it under its
own heading; a certificate before its issue date is 尚未生效. No English on Chinese pages."""

from __future__ import annotations

import html
import re

import pytest

from certdesk.signing.keys import ensure_keys
from certdesk.signing.tokens import TokenClaims, current_token
from tests.conftest import run_cli
from tests.signing.support import make_settings
from tests.web.conftest import BY_STATUS, EXPIRES, FUTURE, HOLDER, ISSUED, MAIN

REVOKED = BY_STATUS["revoked"]
NOT_YET = BY_STATUS["not_yet_valid"]


def upload(client, seeded, number: str, url: str = "/verify", lang: str = "zh"):
    data = (seeded.settings.home / "pdf" / f"{number}.pdf").read_bytes()
    return client.post(f"{url}?lang={lang}", files={"file": ("c.pdf", data, "application/pdf")})


def headline(html: str) -> tuple[str, str, str]:
    """(colour class, headline, reason) of the first section of the page's main part."""
    main = html.split("<main>", 1)[1]
    first = re.search(r'<section class="status status-(\w+)"(.*?)</section>', main, re.S)
    assert main.lstrip().startswith(("<section", "{")) or main.index(first.group(0)) < \
        main.find('<section class="card"')
    label = re.search(r'class="status-label"[^>]*>([^<]+)<', first.group(2)).group(1)
    reason = re.search(r'id="reason">([^<]+)<', first.group(2)).group(1)
    return first.group(1), label.strip(), reason.strip()


def latin_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{3,}", text)


def test_a_genuine_valid_upload_is_green(client, seeded):
    colour, label, reason = headline(upload(client, seeded, MAIN).text)
    assert (colour, label) == ("valid", "有效") and "当前有效" in reason


def test_a_revoked_upload_is_not_green_and_says_revoked_in_the_headline_in_chinese(client,
                                                                                    seeded):
    page = upload(client, seeded, REVOKED)
    colour, label, reason = headline(page.text)
    assert (colour, label) == ("revoked", "撤销")
    assert "撤销" in reason and latin_words(reason) == []
    assert "status-valid" not in page.text


def test_a_revoked_upload_in_english(client, seeded):
    colour, label, reason = headline(upload(client, seeded, REVOKED, lang="en").text)
    assert (colour, label) == ("revoked", "Revoked") and "revoked" in reason


def test_the_api_says_genuine_but_not_reliable_for_a_revoked_certificate(client, seeded):
    out = upload(client, seeded, REVOKED, url="/api/v1/verify").json()
    assert (out["verdict"], out["genuine"], out["status"], out["reliable_now"]) == \
        ("genuine", True, "revoked", False)
    assert out["reason"]["code"] == "revoked"
    assert "撤销" in out["reason"]["zh"] and "revoked" in out["reason"]["en"]
    assert out["headline"] == {"zh": "撤销", "en": "Revoked"}
    valid = upload(client, seeded, MAIN, url="/api/v1/verify").json()
    assert (valid["status"], valid["reliable_now"]) == ("valid", True)


@pytest.fixture(scope="module")
def forged_token(tmp_path_factory) -> str:
    """A well-formed token for MAIN, signed by a key that is not the body's (made once: a
    key set costs a CA's prime search)."""
    other = make_settings(tmp_path_factory.mktemp("forger"))
    ensure_keys(other)
    return current_token(other, TokenClaims(MAIN, HOLDER, ISSUED, EXPIRES))


@pytest.mark.parametrize(("lang", "words", "heading"), [
    ("zh", "二维码验证失败", "以下为本机构存档记录"),
    ("en", "QR code check failed", "This body's archived record")])
def test_a_forged_token_is_a_red_headline_first_then_the_archived_record(
        client, forged_token, lang, words, heading):
    page = client.get(f"/v/{MAIN}", params={"t": forged_token, "lang": lang})
    assert page.status_code == 400
    colour, label, reason = headline(page.text)
    assert colour == "bad" and words in label
    main = html.unescape(page.text.split("<main>", 1)[1])
    assert main.index(words) < main.index(heading) < main.index(HOLDER)
    assert "status-valid" not in page.text  # the archived 有效 is a small pill, not a box
    assert 'id="archived-status"' in page.text
    if lang == "zh":
        assert latin_words(reason) == []
        assert latin_words(re.sub(r"<[^>]+>|[0-9A-Z]{10,}", "", main.split(heading)[0])) == []


def test_the_api_reports_a_forged_token_as_its_verdict(client, forged_token):
    answer = client.get(f"/api/v1/certificates/{MAIN}", params={"t": forged_token})
    out = answer.json()
    assert answer.status_code == 400 and out["token"]["state"] == "invalid"
    assert (out["verdict"]["verdict"], out["verdict"]["reliable_now"]) == ("tampered", False)
    assert out["verdict"]["reason"]["code"] == "token_invalid"


def test_a_token_of_details_since_changed_is_not_green(client, seeded):
    old = current_token(seeded.settings, TokenClaims(MAIN, "北京旧名称有限公司", ISSUED, EXPIRES))
    page = client.get(f"/v/{MAIN}", params={"t": old})
    colour, label, _ = headline(page.text)
    assert (colour, label) == ("superseded", "已换发")
    assert "北京旧名称有限公司" in page.text and "以下为本机构存档记录" in page.text


def test_a_certificate_before_its_issue_date_is_not_yet_valid_on_the_page_and_the_api(client):
    colour, label, _ = headline(client.get(f"/v/{NOT_YET}").text)
    assert (colour, label) == ("not_yet_valid", "尚未生效")
    out = client.get(f"/api/v1/certificates/{NOT_YET}").json()
    assert out["status"] == "not_yet_valid" and out["issue_date"] == FUTURE.isoformat()
    assert out["status_label"] == {"zh": "尚未生效", "en": "not yet valid"}
    assert out["verdict"]["reliable_now"] is False


def test_an_upload_before_the_issue_date_is_not_yet_valid(client, seeded):
    colour, label, reason = headline(upload(client, seeded, NOT_YET).text)
    assert (colour, label) == ("not_yet_valid", "尚未生效") and "2090年1月1日" in reason


@pytest.mark.parametrize(("number", "first"), [
    (MAIN, "valid 有效 — genuine, may be relied on today"),
    (REVOKED, "revoked 撤销 — genuine, NOT valid today"),
    (NOT_YET, "not_yet_valid 尚未生效 — genuine, NOT valid today")])
def test_certdesk_verify_prints_the_status_first_and_exits_0_for_any_genuine_file(
        seeded, number, first):
    result = run_cli("verify", str(seeded.settings.home / "pdf" / f"{number}.pdf"),
                     home=seeded.settings.home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == first
