"""The walking skeleton end to end, checked with independent tools: the demo issues a
main certificate and three sub-certificates that poppler, zbar and `certdesk verify` accept."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.office


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo-home")
    result = run_cli("demo", "--json", home=home)
    assert result.returncode == 0, result.stderr
    return home, json.loads(result.stdout)["certificates"]


def test_demo_issues_a_main_certificate_and_three_numbered_sub_certificates(demo):
    _, certs = demo
    numbers = [c["number"] for c in certs]
    main = numbers[0]
    assert re.fullmatch(r"0273\d\dFWF0001R000", main)
    assert numbers[1:] == [f"{main}-1", f"{main}-2", f"{main}-3"]
    assert all(c["verify_url"].endswith("/v/" + c["number"]) or "/v/" + c["number"] in
               c["verify_url"] for c in certs)


def test_every_pdf_has_a_valid_certification_signature_according_to_pdfsig(demo):
    _, certs = demo
    for c in certs:
        out = subprocess.run(["pdfsig", c["pdf"]], capture_output=True, text=True).stdout
        assert "Signature is Valid" in out, out
        assert "Total document signed" in out, out
        assert "ETSI.CAdES.detached" in out  # PAdES


def test_every_pdf_is_certified_with_docmdp_no_changes(demo):
    import pikepdf

    _, certs = demo
    for c in certs:
        with pikepdf.open(c["pdf"]) as pdf:
            sig = pdf.Root.Perms.DocMDP
            ref = sig.Reference[0]
            assert ref.TransformMethod == "/DocMDP"
            assert int(ref.TransformParams.P) == 1


def test_every_font_is_embedded_and_a_cjk_font_is_among_them(demo):
    _, certs = demo
    for c in certs:
        out = subprocess.run(["pdffonts", c["pdf"]], capture_output=True, text=True).stdout
        rows = out.splitlines()[2:]
        assert rows, out
        assert all(row.split()[-5] == "yes" for row in rows), out  # the "emb" column
        assert any("CJK" in row for row in rows), out


def test_the_qr_code_scans_to_the_verification_url(demo, tmp_path):
    _, certs = demo
    for c in certs[:2]:
        prefix = tmp_path / Path(c["pdf"]).stem
        subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", c["pdf"],
                        str(prefix)], check=True)
        png = next(tmp_path.glob(f"{prefix.name}*.png"))
        scan = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True,
                              text=True)
        assert scan.stdout.strip() == c["verify_url"]


def test_certdesk_verify_accepts_the_issued_file(demo):
    home, certs = demo
    result = run_cli("verify", certs[1]["pdf"], "--json", home=home)
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "genuine"
    assert verdict["status"] == "valid"
    assert verdict["number"] == certs[1]["number"]


def test_certdesk_verify_rejects_a_copy_with_one_byte_flipped(demo, tmp_path):
    home, certs = demo
    data = bytearray(Path(certs[0]["pdf"]).read_bytes())
    data[len(data) // 3] ^= 0x01
    copy = tmp_path / "tampered.pdf"
    copy.write_bytes(bytes(data))
    result = run_cli("verify", str(copy), home=home)
    assert result.returncode == 1
    assert "tampered" in result.stderr or "not" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_archived_blob_is_read_only_and_named_by_its_sha256(demo):
    home, certs = demo
    sha = certs[0]["sha256"]
    blob = home / "blobs" / sha[:2] / sha[2:4] / sha
    assert blob.is_file()
    assert blob.stat().st_mode & 0o222 == 0
    import hashlib

    assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha
