"""End to end in a real headless Chromium: issue a certificate, scan the QR code off the
rendered PDF page, open its URL on a phone-sized screen — 有效; suspend it with
``certdesk status`` — reload: 暂停.

Set CERTDESK_DOC_SCREENSHOTS=1 to refresh the screenshots in docs/img/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import CERTDESK, REPO, run_cli

pytestmark = [pytest.mark.office, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(env: dict[str, str], port: int, *options: str) -> Iterator[str]:
    """``certdesk serve`` on loopback ``port`` for the home in ``env``, once it answers."""
    server = subprocess.Popen([str(CERTDESK), "serve", "--host", "127.0.0.1", "--port",
                               str(port), *options], env={**os.environ, **env},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, \
                server.stderr.read().decode() if server.poll() is not None else "no answer"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A demo certificate issued for, and served by, a server on a free loopback port."""
    home = tmp_path_factory.mktemp("browser-home")
    port = free_port()
    env = {"CERTDESK_HOME": str(home), "CERTDESK_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    issued = run_cli("demo", "--json", env=env)
    assert issued.returncode == 0, issued.stderr
    with serving(env, port) as base:
        yield base, env, json.loads(issued.stdout)["certificates"][0]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def scan_qr(pdf: str, folder: Path) -> str:
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", pdf,
                    str(folder / "page")], check=True)
    png = next(folder.glob("page*.png"))
    scan = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
    return scan.stdout.strip()


def keep_screenshot(path: Path) -> None:
    """Copy a screenshot into docs/img/ when asked to refresh the documentation."""
    if os.environ.get("CERTDESK_DOC_SCREENSHOTS") == "1":
        shutil.copy(path, REPO / "docs" / "img" / path.name)


def test_scanned_qr_opens_the_page_valid_then_suspended_after_certdesk_status(
        site, browser, tmp_path):
    base, env, cert = site
    url = scan_qr(cert["pdf"], tmp_path)
    assert url == cert["verify_url"] and url.startswith(f"{base}/v/{cert['number']}?t=")

    page = browser.new_page(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(url)
    assert page.inner_text("#status") == "有效"
    assert "token-ok" in page.get_attribute("#token", "class")
    page.screenshot(path=tmp_path / "verify-zh.png")
    keep_screenshot(tmp_path / "verify-zh.png")

    page.click("a.lang")
    assert page.inner_text("#status") == "Valid"
    assert "lang=en" in page.url and "t=" in page.url
    page.screenshot(path=tmp_path / "verify-en.png")
    keep_screenshot(tmp_path / "verify-en.png")

    changed = run_cli("status", cert["number"], "suspend", "--reason", "未按期接受监督审核",
                      env=env)
    assert changed.returncode == 0, changed.stderr

    page.goto(url)  # the QR code's link again: the page remembers the visitor chose English
    assert page.inner_text("#status") == "Suspended"
    page.click("a.lang")
    assert page.inner_text("#status") == "暂停"
    assert "status-suspended" in page.get_attribute("section.status", "class")
    page.screenshot(path=tmp_path / "verify-zh-suspended.png")
    keep_screenshot(tmp_path / "verify-zh-suspended.png")
    assert problems == []  # no CSP violation, no script error


def test_the_upload_form_answers_in_the_browser(site, browser):
    base, _, cert = site
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.goto(f"{base}/verify")
    page.set_input_files("input[type=file]", cert["pdf"])
    page.click("button[type=submit]")
    # the headline is the certificate's status now (the test above may have suspended it)
    now = httpx.get(f"{base}/api/v1/certificates/{cert['number']}").json()
    assert page.inner_text("#verdict .status-label") == now["status_label"]["zh"]
    assert f"status-{now['status']}" in page.get_attribute("#verdict", "class")
