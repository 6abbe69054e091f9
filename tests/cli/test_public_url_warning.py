"""Issuing with the default public URL warns: QR codes on 127.0.0.1 open on no phone."""

from __future__ import annotations

import pytest

from certdesk.documents.qr import phone_cannot_open
from tests.conftest import REPO


@pytest.mark.parametrize("url, local", [
    ("http://127.0.0.1:8000", True), ("http://localhost:8000/", True), ("http://[::1]", True),
    ("http://127.1.2.3", True), ("https://cert.example.cn", False),
    ("http://192.168.1.20:8000", False)])
def test_a_loopback_public_url_is_one_no_phone_can_open(url, local):
    assert phone_cannot_open(url) is local


def test_issuing_on_the_default_public_url_warns_and_a_refusal_stays_one_line(keyed_home, cli,
                                                                          tmp_path):
    orgs = str(REPO / "examples" / "organisations.json")
    out = cli("issue", "--profile", "cacq", "--input", orgs, "--dry-run", env={
        "CERTDESK_PUBLIC_URL": "http://127.0.0.1:8000"})
    assert out.returncode == 0, out.stderr
    assert "warning: CERTDESK_PUBLIC_URL is http://127.0.0.1:8000" in out.stderr
    assert "phones cannot open the QR codes" in out.stderr
    quiet = cli("issue", "--profile", "cacq", "--input", orgs, "--dry-run", env={
        "CERTDESK_PUBLIC_URL": "https://cert.example.cn"})
    assert "warning" not in quiet.stderr
    bad = tmp_path / "orgs.json"
    bad.write_text('[{"name": "x"}, {"name": "y"}]', encoding="utf-8")
    refused = cli("issue", "--profile", "xbht", "--input", str(bad), env={
        "CERTDESK_PUBLIC_URL": "http://127.0.0.1:8000"})
    assert refused.returncode != 0 and "warning" not in refused.stderr

