"""The desk's one publisher: opened once (at start-up when the app's lifespan runs), its
signing key loaded once, shared by every action, closed at shutdown."""

from __future__ import annotations

from fastapi.testclient import TestClient

from certdesk.services import publisher as publisher_module
from tests.web.staff.conftest import StaffClient
from tests.web.staff.test_actions import form_token


def _preview(client: StaffClient, path) -> None:
    with path.open("rb") as fh:
        response = client.post("/staff/issue", {"profile": "xbht", "preview": "1",
                                                "form_token": form_token(client)},
                               files={"file": (path.name, fh, "application/json")})
    assert response.status_code == 303
    assert "预览" in client.get(response.headers["location"]).text


def test_actions_share_one_publisher_and_load_the_signing_key_once(
        signed_in, client_file, staff_app, monkeypatch):
    loads = []
    real = publisher_module.load_signer

    def counting(*args, **kwargs):
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(publisher_module, "load_signer", counting)
    ivy = signed_in("issuer")
    for _ in range(3):
        _preview(ivy, client_file)
    assert len(loads) == 1
    first = staff_app.state.staff_publishing()
    _preview(ivy, client_file)
    assert staff_app.state.staff_publishing() is first and len(loads) == 1


def test_the_publisher_opens_at_start_up_and_closes_at_shutdown(staff_app, accounts):
    publishing = staff_app.state.staff_publishing
    with TestClient(staff_app):
        assert publishing._publisher is not None  # before any request
    assert publishing._publisher is None
