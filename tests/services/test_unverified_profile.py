"""Profiles print body values their bodies have not confirmed (placeholder addresses,
guessed approval numbers, ZPIC's placeholder mark). Real certificates are not issued from
them unless the install says so (CERTDESK_ALLOW_UNVERIFIED_PROFILE); the demo opts in, and
every such certificate says so on the page."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from certdesk.common.errors import ConfigError
from certdesk.common.settings import get_settings
from certdesk.services.issuing import Issuer
from tests.conftest import run_cli
from tests.documents.support import pdftotext
from tests.shipped import SHIPPED

NOTICE = "未经认证机构确认，仅供测试或演示，不作为认证证明"


@pytest.fixture
def strict(home, monkeypatch):
    """An install that has not allowed unconfirmed profile values."""
    monkeypatch.delenv("CERTDESK_ALLOW_UNVERIFIED_PROFILE", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def test_issuing_from_a_profile_with_unconfirmed_values_is_refused_naming_them(strict):
    with pytest.raises(ConfigError, match=r"address, website, approval_number, .*"
                                          r"certificate\.mark.*ALLOW_UNVERIFIED_PROFILE"):
        Issuer(SHIPPED.get("zpic"))


def test_cli_issue_is_refused_in_one_line_and_draws_no_number(strict, tmp_path):
    src = tmp_path / "o.json"
    src.write_text(json.dumps({
        "name": "某公司", "uscc": "91440300MA5FQ1R27X", "registered_address": "深圳",
        "scope": "维修", "decision_date": "2026-11-18", "grade": "四星级"},
        ensure_ascii=False), encoding="utf-8")
    res = run_cli("issue", "-p", "cacq", "-i", str(src), home=strict)
    assert res.returncode != 0
    errors = [line for line in res.stderr.splitlines() if not line.startswith("warning:")]
    assert len(errors) == 1 and "not confirmed" in res.stderr
    assert not list(strict.rglob("*.pdf"))


def test_profiles_check_lists_unconfirmed_values_and_fails_until_allowed(strict):
    res = run_cli("profiles", "check", "--json", home=strict)
    assert res.returncode == 1
    data = json.loads(res.stdout)
    zpic = next(p for p in data["profiles"] if p["id"] == "zpic")
    assert "certificate.mark" in zpic["unverified"] and zpic["issuable"] is False
    allowed = run_cli("profiles", "check", "-p", "zpic", home=strict,
                      env={"CERTDESK_ALLOW_UNVERIFIED_PROFILE": "1"})
    assert allowed.returncode == 0 and "allowed" in allowed.stdout


@pytest.mark.office
def test_the_demo_opts_in_and_its_certificate_says_the_values_are_unconfirmed(strict):
    res = run_cli("demo", "--json", home=strict)
    assert res.returncode == 0, res.stderr
    main = json.loads(res.stdout)["certificates"][0]
    text = "".join(pdftotext(main["pdf"]).split())
    assert "本证书所载认证机构地址、批准号" + NOTICE in text
    info = subprocess.run(["pdfinfo", main["pdf"]], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)  # the notice keeps it on one page
