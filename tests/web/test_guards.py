"""What protects the public app: security headers on every answer, a per-address rate
limit (429 + Retry-After), an upload cap (413), and clear 4xx answers to bad uploads."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from certdesk.web import create_app
from certdesk.web.guards import TokenBucket
from tests.signing.support import small_pdf
from tests.web.conftest import ALONE, MAIN


def assert_secured(answer) -> None:
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "script-src" not in csp and "default-src 'none'" in csp  # so no script at all
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("url", [f"/v/{MAIN}", "/v/nonsense", "/", "/docs", "/nowhere",
                                 f"/api/v1/certificates/{MAIN}",
                                 "/.well-known/certdesk-keys.json"])
def test_every_answer_carries_the_security_headers(client, url):
    assert_secured(client.get(url))


def test_status_pages_are_never_served_stale_from_a_cache_but_the_stylesheet_may_be(client):
    for url in (f"/v/{MAIN}", f"/api/v1/certificates/{MAIN}"):
        answer = client.get(url)  # a cache may keep it, but must ask again (ETag) each time
        assert answer.headers["cache-control"] == "no-cache" and answer.headers["etag"]
    assert client.get("/v/nonsense").headers["cache-control"] == "no-store"
    css = client.get("/static/site.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("cache-control", "")


def test_the_pages_link_and_load_nothing_from_another_site(client):
    for url in (f"/v/{MAIN}", "/", "/verify", "/docs"):
        links = re.findall(r'(?:src|href|action)="([^"]*)"', client.get(url).text)
        assert links and all(link.startswith(("/", "data:")) for link in links), links


# -- uploads -----------------------------------------------------------------------------------

def upload(client, data: bytes, name: str = "c.pdf", url: str = "/verify"):
    return client.post(url, files={"file": (name, data, "application/pdf")})


def test_a_pdf_the_body_never_issued_is_unknown(client):
    answer = upload(client, small_pdf(), url="/api/v1/verify")
    assert answer.status_code == 200
    assert answer.json()["verdict"] == "unknown" and answer.json()["reason"]["code"] == "unsigned"


def test_a_file_that_is_not_a_pdf_is_a_415_in_the_visitors_language(client):
    answer = client.post("/verify?lang=en", files={"file": ("x.pdf", b"PK\x03\x04zip",
                                                            "application/pdf")})
    assert answer.status_code == 415 and "not a PDF" in answer.text
    assert upload(client, b"hello", url="/api/v1/verify").json()["error"] == "not_pdf"


def test_a_form_without_a_file_is_a_400(client):
    assert client.post("/verify", data={"x": "1"}).status_code == 400
    assert client.post("/verify", files={"file": ("", b"", "application/pdf")}).status_code \
        == 400
    assert client.post("/api/v1/verify").status_code == 400


def test_an_upload_over_ten_megabytes_is_refused_with_413_before_it_is_read(client):
    answer = upload(client, b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024))
    assert answer.status_code == 413 and "10 MB" in answer.text
    assert_secured(answer)


def test_an_oversized_upload_without_content_length_is_cut_off_while_it_streams(seeded):
    small = seeded.settings.model_copy(update={"upload_max_bytes": 64 * 1024})
    boundary = "certdeskboundary"

    def body():  # chunked: no Content-Length for the guard to read up front
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n").encode()
        for _ in range(40):
            yield b"0" * 4096
        yield f"\r\n--{boundary}--\r\n".encode()

    with TestClient(create_app(small, seeded.engine)) as c:
        answer = c.post("/api/v1/verify", content=body(),
                        headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"


def test_a_malformed_content_length_is_refused(client):
    answer = client.post("/verify", content=b"x", headers={"content-length": "ten"})
    assert answer.status_code in (400, 413)


# -- rate limit --------------------------------------------------------------------------------

def test_a_client_over_its_rate_gets_429_with_retry_after(seeded):
    strict = seeded.settings.model_copy(update={"public_rate_burst": 3,
                                                "public_rate_per_minute": 6})
    with TestClient(create_app(strict, seeded.engine)) as c:
        answers = [c.get(f"/v/{MAIN}") for _ in range(4)]
        css = c.get("/static/site.css")
        api = c.get(f"/api/v1/certificates/{MAIN}")
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 10
    assert "请求过于频繁" in answers[-1].text
    assert_secured(answers[-1])
    assert css.status_code == 200  # the stylesheet of a refused page still loads
    assert api.status_code == 429 and api.json()["error"] == "rate_limited"


def test_an_upload_costs_more_of_the_rate_than_a_page_view(seeded):
    strict = seeded.settings.model_copy(update={"public_rate_burst": 6})
    with TestClient(create_app(strict, seeded.engine), client=ALONE) as c:
        first, second = (upload(c, small_pdf()) for _ in range(2))
    assert (first.status_code, second.status_code) == (200, 429)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_token_bucket_allows_a_burst_then_refills_at_the_rate():
    clock = Clock()
    bucket = TokenBucket(per_minute=60, burst=2, clock=clock)
    assert [bucket.take("a"), bucket.take("a")] == [0.0, 0.0]
    assert bucket.take("a") == pytest.approx(1.0)
    assert bucket.take("b") == 0.0  # per address
    clock.now = 1.0
    assert bucket.take("a") == 0.0


def test_the_token_bucket_forgets_the_least_recent_clients_beyond_its_size():
    bucket = TokenBucket(per_minute=60, burst=1, max_clients=2, clock=Clock())
    for client in ("a", "b", "c"):
        bucket.take(client)
    assert bucket.take("a") == 0.0  # forgotten, so it starts again with a full bucket
    assert bucket.take("c") > 0.0
