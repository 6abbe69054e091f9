"""The verdicts as a visitor sees them in a real headless Chromium on a phone-sized screen
(390 px): a genuine but revoked certificate uploaded to /verify says 撤销 in red, not a green
"genuine"; a forged QR token opens a page whose first thing is the red warning, the archived
record following under its own heading. Chinese and English.

Set CERTDESK_DOC_SCREENSHOTS=1 to refresh the screenshots in docs/img/.
"""

from __future__ import annotations

import pytest

from certdesk.signing.keys import ensure_keys
from certdesk.signing.tokens import TokenClaims, current_token
from tests.signing.support import make_settings
from tests.web.conftest import BY_STATUS, EXPIRES, HOLDER, ISSUED, MAIN, seed
from tests.web.test_browser import PHONE, browser, free_port, keep_screenshot, serving  # noqa: F401

pytestmark = pytest.mark.browser

RED = "rgb(179, 38, 30)"
"""--revoked in site.css: the colour of 撤销 and of every untrustworthy answer."""
TEXTS = {
    "zh": {"revoked": "撤销", "forged": "✕ 二维码验证失败", "archived": "以下为本机构存档记录",
           "valid": "有效"},
    "en": {"revoked": "Revoked", "forged": "✕ QR code check failed",
           "archived": "This body's archived record", "valid": "Valid"},
}


@pytest.fixture(scope="module")
def seeded_site(tmp_path_factory):
    """The web tests' seeded home (every status, signed PDFs) served on a free port."""
    home = tmp_path_factory.mktemp("verdict-home")
    seed(make_settings(home))
    forger = make_settings(tmp_path_factory.mktemp("forger"))
    ensure_keys(forger)
    forged = current_token(forger, TokenClaims(MAIN, HOLDER, ISSUED, EXPIRES))
    with serving({"CERTDESK_HOME": str(home)}, free_port()) as base:
        yield base, home, forged


def phone_page(browser, lang: str):  # noqa: F811
    page = browser.new_page(viewport=PHONE, device_scale_factor=2,
                            locale="zh-CN" if lang == "zh" else "en-GB")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_revoked_certificate_uploaded_says_revoked_in_red_not_genuine_in_green(
        seeded_site, browser, tmp_path, lang):  # noqa: F811
    base, home, _ = seeded_site
    page, problems = phone_page(browser, lang)
    page.goto(f"{base}/verify?lang={lang}")
    page.set_input_files("input[type=file]", str(home / "pdf" / f"{BY_STATUS['revoked']}.pdf"))
    page.click("button[type=submit]")
    assert page.inner_text("#headline") == TEXTS[lang]["revoked"]
    assert "status-revoked" in page.get_attribute("#verdict", "class")
    assert page.eval_on_selector("#verdict", "e => getComputedStyle(e).color") == RED
    assert page.eval_on_selector("main", "m => m.firstElementChild.id") == "verdict"
    if lang == "zh":
        assert "撤销" in page.inner_text("#reason") and not any(
            c.isascii() and c.isalpha() for c in page.inner_text("#reason"))
    shot = tmp_path / f"verify-revoked-{lang}.png"
    page.screenshot(path=shot)
    keep_screenshot(shot)
    assert problems == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_forged_qr_token_is_a_red_headline_first_and_the_record_follows(
        seeded_site, browser, tmp_path, lang):  # noqa: F811
    base, _, forged = seeded_site
    page, problems = phone_page(browser, lang)
    answer = page.goto(f"{base}/v/{MAIN}?t={forged}{'&lang=en' if lang == 'en' else ''}")
    assert answer.status == 400
    assert page.eval_on_selector("main", "m => m.firstElementChild.id") == "verdict"
    assert page.inner_text("#status") == TEXTS[lang]["forged"]
    assert page.eval_on_selector("#verdict", "e => getComputedStyle(e).color") == RED
    assert page.inner_text("#archived") == TEXTS[lang]["archived"]
    assert page.inner_text("#archived-status") == TEXTS[lang]["valid"]
    # the archived status is a pill under the heading, below the warning — no green box
    assert page.eval_on_selector(
        "#archived", "h => h.getBoundingClientRect().top > "
        "document.querySelector('#verdict').getBoundingClientRect().bottom")
    assert page.locator(".status-valid").count() == 0
    if lang == "zh":
        assert not any(c.isascii() and c.isalpha() for c in page.inner_text("#verdict"))
    shot = tmp_path / f"forged-token-{lang}.png"
    page.screenshot(path=shot)
    keep_screenshot(shot)
    # Chromium logs the page's own 400 status; anything else (CSP, script) is a failure
    assert [p for p in problems if "status of 400" not in p] == []
