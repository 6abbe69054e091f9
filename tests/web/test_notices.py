"""The public notices (公告): suspended, revoked and cancelled certificates, newest first,
20 a page, in Chinese and English, reached from the home page and from the certificate's
own page — and nothing the certificate does not show itself."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

from certdesk.store import events
from certdesk.store.db import session_scope
from certdesk.store.models import Certificate, Organisation
from certdesk.web import create_app
from tests.shipped import SHIPPED
from tests.signing.support import make_settings
from tests.web.conftest import BY_STATUS, HOLDER, MAIN, STAFF_ONLY, seed


def _anchors(html: str) -> list[str]:
    return re.findall(r'<li class="card notice" id="(n\d+)"', html)


def test_the_notices_list_suspensions_and_revocations_newest_first(client):
    page = client.get("/notices")
    assert page.status_code == 200
    numbers = re.findall(r'<a href="/v/([^"?]+)">', page.text)
    # the revocation (logged last, same day) first; each suspension its own notice
    assert numbers[0] == BY_STATUS["revoked"]
    assert set(numbers) == {BY_STATUS["suspended"], f"{MAIN}-2", BY_STATUS["revoked"]}
    assert numbers.count(BY_STATUS["revoked"]) == 2  # suspended, then revoked
    assert "撤销" in page.text and "暂停" in page.text and HOLDER in page.text
    assert "2027年1月5日" in page.text
    for secret in STAFF_ONLY:
        assert secret not in page.text


def test_the_notices_speak_english_on_request(client):
    page = client.get("/notices?lang=en")
    assert "Suspended, revoked and cancelled certificates" in page.text
    assert "Revoked" in page.text and "2027-01-05" in page.text
    assert 'href="/v/027326FWF0003R000?lang=en"' in page.text


def test_the_notices_are_json_too_with_only_public_facts(client):
    body = client.get("/api/v1/notices").json()
    assert (body["page"], body["pages"], body["total"]) == (1, 1, 4)
    first = body["notices"][0]
    assert first["numbers"] == [BY_STATUS["revoked"]] and first["action"] == "revoke"
    assert (first["on"], first["status"], first["holder"]) == ("2027-01-05", "revoked", HOLDER)
    assert set(first) == {"anchor", "on", "action", "holder", "numbers", "scope", "status"}
    assert client.get("/api/v1/notices?page=0").status_code == 422
    mine = client.get(f"/api/v1/notices?number={MAIN}-2").json()
    assert [n["numbers"] for n in mine["notices"]] == [[f"{MAIN}-2"]]


def test_the_home_page_links_to_the_notices(client):
    assert 'href="/notices"' in client.get("/").text
    assert 'href="/notices?lang=en"' in client.get("/?lang=en").text


def test_a_certificate_page_links_to_its_notices_and_they_name_it(client):
    revoked = client.get(f"/v/{BY_STATUS['revoked']}").text
    link = re.search(r'id="notice-link"><a href="([^"]+)"', revoked).group(1)
    assert link == f"/notices?number={BY_STATUS['revoked']}"
    mine = client.get(link).text
    assert set(re.findall(r'<a href="/v/([^"?]+)">', mine)) == {BY_STATUS["revoked"]}
    assert len(_anchors(mine)) == 2
    assert 'id="notice-link"' not in client.get(f"/v/{MAIN}").text  # never suspended


def test_unknown_numbers_and_pages_give_an_empty_list_not_an_error(client):
    page = client.get("/notices?number=027326FWF9999R000")
    assert page.status_code == 200 and 'id="no-notices"' in page.text
    assert client.get("/notices?page=999").status_code == 200
    assert client.get("/notices?page=x").status_code == 422


@pytest.fixture
def many(tmp_path, key_material):
    """A home with 45 suspended certificates, one a day from 2027-01-01."""
    settings = make_settings(tmp_path / "home", public_rate_burst=10_000)
    engine = seed(settings, key_material)
    with session_scope(engine) as s:
        org = s.exec(Organisation.__table__.select()).first()
        for i in range(45):
            number = f"027326FWF{100 + i:04d}R000"
            s.add(Certificate(
                number=number, profile="xbht", organisation_id=org.id, holder_name=f"公司{i}",
                scope="家用电器的维修", decision_date=date(2026, 11, 23),
                issue_date=date(2026, 11, 23), effective_from=date(2026, 11, 23),
                expiry_date=date(2029, 11, 22), status="suspended"))
            s.flush()
            events.append(s, "certificate.suspend", number,
                          {"on": date(2027, 1, 1 + i % 28).replace(month=1 + i // 28),
                           "notice": f"XBHT-SUSPEND-{i}"}, profiles=SHIPPED)
    with TestClient(create_app(settings, engine)) as c:
        yield c


def test_notices_come_twenty_a_page_and_the_pager_keeps_the_language(many):
    first = many.get("/notices?lang=en").text
    assert len(_anchors(first)) == 20 and "Page 1 of 3" in first
    assert 'href="/notices?page=2&amp;lang=en" rel="next"' in first
    assert "公司44" in first  # the newest
    many.cookies.clear()  # ?lang=en is remembered: back to Chinese
    last = many.get("/notices?page=3").text
    assert len(_anchors(last)) == 45 + 4 - 40  # 45 here and the seed's 4
    assert 'rel="next"' not in last and 'href="/notices?page=2" rel="prev"' in last
