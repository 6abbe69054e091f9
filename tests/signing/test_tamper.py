"""The tamper suite: every way of forging a signed certificate we know of is caught by
``certdesk verify``, by ``POST /verify`` and — where it can tell — by poppler's pdfsig.

The certificates are issued once for the module, time-stamped by a local TSA, so the
suite also shows that timestamps survive the whole issue → archive → verify path.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.generic import DictionaryObject, NameObject, StreamObject, TextStringObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from certdesk.signing.keys import ensure_keys
from certdesk.signing.pdf import SignatureSpec, load_signer, sign_pdf
from certdesk.web import create_app
from tests.conftest import run_cli, run_process
from tests.signing.support import issue_home, make_settings

pytestmark = pytest.mark.office


@pytest.fixture(scope="module")
def issued(tmp_path_factory, pool, tsa):
    return issue_home(tmp_path_factory.mktemp("tamper-home"), pool, tsa_url=tsa.url,
                      tsa_roots=tsa.roots)


@pytest.fixture(scope="module")
def genuine(issued) -> bytes:
    return issued.certificates[0].pdf.read_bytes()


@pytest.fixture(scope="module")
def other(issued) -> bytes:
    """Another genuine certificate of the same holder (the first sub-certificate)."""
    return issued.certificates[1].pdf.read_bytes()


@pytest.fixture(scope="module")
def foreign_signer(tmp_path_factory):
    """A signer under another CA: well-formed, valid, and not the body's."""
    settings = make_settings(tmp_path_factory.mktemp("foreign-keys"))
    return load_signer(ensure_keys(settings), settings.key_passphrase)


@pytest.fixture(scope="module")
def client(issued):
    unlimited = issued.settings.model_copy(update={"public_rate_burst": 10_000})
    with TestClient(create_app(unlimited, issued.engine)) as c:
        yield c


@pytest.fixture(scope="module")
def nssdb(tmp_path_factory, issued) -> str:
    """An NSS database (what pdfsig trusts) holding the body's demo CA as trusted."""
    if not shutil.which("certutil"):
        pytest.skip("certutil is missing: apt-get install libnss3-tools")
    db = tmp_path_factory.mktemp("nssdb")
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True,
                   capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", "certdesk demo CA",
                    "-t", "CT,C,C", "-i", str(issued.settings.key_dir / "ca.pem")],
                   check=True, capture_output=True)
    return f"sql:{db}"


# -- the forgeries ---------------------------------------------------------------------------

def flip_a_content_byte(data: bytes, other: bytes, foreign) -> bytes:
    at = data.index(b"stream", 2000) + 40  # inside a content stream the signature covers
    out = bytearray(data)
    out[at] ^= 0x01
    return bytes(out)


def add_text_in_an_incremental_update(data: bytes, other: bytes, foreign) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    font = writer.add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    text = writer.add_object(StreamObject(stream_data=b"BT /CdF 40 Tf 80 420 Td (VALID) Tj ET"))
    writer.add_stream_to_page(0, text, resources=DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/CdF"): font})}))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def update_only_the_metadata(data: bytes, other: bytes, foreign) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.set_info(writer.add_object(DictionaryObject({
        NameObject("/Title"): TextStringObject("有效证书")})))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def remove_the_signature(data: bytes, other: bytes = b"", foreign=None) -> bytes:
    """Cut off the revision the signature appended: the unsigned original, byte for byte."""
    end = data.index(b"%%EOF") + len(b"%%EOF")
    while data[end:end + 1] in (b"\r", b"\n"):
        end += 1
    return data[:end]


def resign_with_a_foreign_key(data: bytes, other: bytes, foreign) -> bytes:
    return sign_pdf(remove_the_signature(data), foreign,
                    SignatureSpec(reason="北京新标恒通认证有限公司 认证证书"))


def transplant_another_certificates_signature(data: bytes, other: bytes, foreign) -> bytes:
    """This certificate's bytes carrying the signature value of another genuine one."""
    def contents(d: bytes) -> re.Match:
        return list(re.finditer(rb"/Contents\s*<([0-9a-fA-F]+)>", d))[-1]

    mine, theirs = contents(data), contents(other)
    value = theirs.group(1).rstrip(b"0")
    assert len(value) <= len(mine.group(1))
    value = value.ljust(len(mine.group(1)), b"0")
    return data[:mine.start(1)] + value + data[mine.end(1):]


Forgery = Callable[[bytes, bytes, object], bytes]

# (forgery, verdict certdesk gives, what pdfsig prints — None where pdfsig cannot tell)
FORGERIES: list[tuple[Forgery, str, str | None]] = [
    (flip_a_content_byte, "tampered", "Digest Mismatch"),
    (add_text_in_an_incremental_update, "tampered", "Not total document signed"),
    (update_only_the_metadata, "tampered", "Not total document signed"),
    (remove_the_signature, "unknown", "does not contain any signatures"),
    (resign_with_a_foreign_key, "unknown", None),  # untrusted to pdfsig: see the NSS test
    (transplant_another_certificates_signature, "tampered", "Digest Mismatch"),
]
IDS = [f.__name__ for f, _, _ in FORGERIES]


@pytest.fixture(scope="module")
def forged(genuine, other, foreign_signer, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("forged")
    out = {}
    for forge, _, _ in FORGERIES:
        path = folder / f"{forge.__name__}.pdf"
        path.write_bytes(forge(genuine, other, foreign_signer))
        out[forge.__name__] = path
    return out


@pytest.fixture(scope="module")
def cli_verdicts(issued, forged) -> dict[str, subprocess.CompletedProcess]:
    """``certdesk verify`` on every forgery, run side by side (each run is a fresh process)."""
    with ThreadPoolExecutor(max_workers=len(forged)) as ex:
        runs = {name: ex.submit(run_process, "verify", str(path), env=issued.env)
                for name, path in forged.items()}
        return {name: run.result() for name, run in runs.items()}


def pdfsig(path: Path, *args: str) -> str:
    result = subprocess.run(["pdfsig", *args, str(path)], capture_output=True, text=True)
    return result.stdout + result.stderr


# -- the genuine file passes every check -----------------------------------------------------

def test_the_genuine_certificate_is_genuine_to_certdesk_verify(issued):
    result = run_cli("verify", str(issued.certificates[0].pdf), "--json", env=issued.env)
    assert result.returncode == 0, result.stderr
    assert '"verdict": "genuine"' in result.stdout


def test_the_genuine_certificate_carries_a_timestamp_that_validates(client, genuine):
    answer = client.post("/api/v1/verify", files={"file": ("c.pdf", genuine, "application/pdf")})
    signature = answer.json()["signature"]
    assert answer.json()["verdict"] == "genuine"
    assert signature["timestamped"] and signature["timestamp_ok"]


def test_pdfsig_trusts_the_certificate_once_the_demo_ca_is_in_an_nss_database(issued, nssdb):
    out = pdfsig(issued.certificates[0].pdf, "-nssdir", nssdb)
    assert "Signature is Valid" in out and "Total document signed" in out, out
    assert "Certificate is Trusted" in out, out


# -- every forgery is caught -----------------------------------------------------------------

@pytest.mark.parametrize(("forge", "verdict", "_pdfsig"), FORGERIES, ids=IDS)
def test_certdesk_verify_catches(forge, verdict, _pdfsig, cli_verdicts):
    result = cli_verdicts[forge.__name__]
    assert result.returncode == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f": {verdict}:" in lines[0]


@pytest.mark.parametrize(("forge", "verdict", "_pdfsig"), FORGERIES, ids=IDS)
def test_post_verify_catches(forge, verdict, _pdfsig, client, forged):
    data = forged[forge.__name__].read_bytes()
    answer = client.post("/api/v1/verify", files={"file": ("c.pdf", data, "application/pdf")})
    assert answer.status_code == 200
    assert answer.json()["verdict"] == verdict and not answer.json()["genuine"]
    page = client.post("/verify", files={"file": ("c.pdf", data, "application/pdf")})
    assert 'class="status status-bad"' in page.text and "status-valid" not in page.text


@pytest.mark.parametrize(("forge", "expected"),
                         [(f, p) for f, _, p in FORGERIES if p is not None],
                         ids=[f.__name__ for f, _, p in FORGERIES if p is not None])
def test_pdfsig_independently_catches(forge, expected, forged):
    out = pdfsig(forged[forge.__name__])
    assert expected in out, out


def test_pdfsig_with_the_nss_database_does_not_trust_the_foreign_signature(forged, nssdb):
    out = pdfsig(forged["resign_with_a_foreign_key"], "-nssdir", nssdb)
    assert "Signature is Valid" in out  # a well-made signature …
    assert "Certificate issuer isn't Trusted" in out, out  # … by a key nobody vouched for
