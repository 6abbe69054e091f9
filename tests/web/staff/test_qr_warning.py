"""The staff issuing pages warn when the public URL is this computer's."""

from __future__ import annotations


def test_the_issue_and_certify_pages_warn_on_a_loopback_public_url(signed_in, settings):
    assert settings.public_url.startswith("http://127.0.0.1")
    admin = signed_in("admin")
    for path in ("/staff/issue", "/staff/certify"):
        page = admin.get(path)
        assert 'id="qr-warning"' in page.text and "手机扫码无法打开" in page.text, path
    assert 'id="qr-warning"' not in admin.get("/staff/").text
