"""``/healthz`` tells a load balancer which web processes can answer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from certdesk.store.db import make_engine
from certdesk.web import create_app


def test_a_process_that_reaches_its_database_is_healthy(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"ok": True, "database": "ok"}
    assert answer.headers["cache-control"] == "no-store"


def test_a_process_whose_database_is_unreachable_answers_503(seeded):
    # Nothing listens on port 9 (discard) of the loopback: the connection is refused.
    gone = make_engine("postgresql+psycopg://certdesk@127.0.0.1:9/certdesk")
    with TestClient(create_app(seeded.settings, gone, staff=False)) as c:
        answer = c.get("/healthz")
    gone.dispose()
    assert answer.status_code == 503 and answer.json()["database"] == "unreachable"
