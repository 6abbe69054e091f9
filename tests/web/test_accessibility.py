"""WCAG 2.1 AA on the public pages: axe-core (npm, installed by ``scripts/setup.sh --dev``
into .venv/axe) injected into headless Chromium; a serious or critical finding fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from certdesk.web import create_app
from tests.serving import serve_in_thread
from tests.web.conftest import BY_STATUS, MAIN

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / ".venv" / "axe" / "node_modules" / "axe-core" \
    / "axe.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
PAGES = ("/", "/?lang=en", f"/v/{MAIN}", f"/v/{BY_STATUS['revoked']}?lang=en",
         f"/v/{BY_STATUS['suspended']}", f"/v/{BY_STATUS['superseded']}",
         f"/v/{BY_STATUS['expired']}", f"/v/{BY_STATUS['not_yet_valid']}",
         f"/v/{MAIN}?t=forged", "/verify", "/verify?lang=en", "/search",
         "/search?q=91110105MA01XB8H2N", "/search?q=北京", "/notices", "/notices?lang=en",
         "/docs", "/v/NOPE")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def site(seeded):
    with serve_in_thread(create_app(seeded.settings, seeded.engine, staff=False)) as base:
        yield base


@pytest.fixture(scope="module")
def axe_page():
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (bash scripts/setup.sh --dev)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        # The pages forbid every script (CSP); the test's own injected engine is let in.
        context = chromium.new_context(bypass_csp=True, viewport={"width": 390, "height": 844})
        yield context.new_page()
        chromium.close()


def findings(page, url: str) -> list[str]:
    page.goto(url)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("opts => axe.run(document, opts)",
                           {"runOnly": {"type": "tag", "values": TAGS}})
    return [f"{v['impact']}: {v['id']} — {v['help']} — "
            f"{[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("path", PAGES)
def test_the_public_page_has_no_serious_or_critical_accessibility_finding(site, axe_page,
                                                                          path):
    assert findings(axe_page, site + path) == []


def test_each_public_page_has_exactly_one_h1(site, axe_page):
    for path in PAGES:
        axe_page.goto(site + path)
        assert axe_page.locator("h1").count() == 1, path
