"""``certdesk verify`` on a record approved through ``certdesk sign`` (审核组长 → 技术评审 →
认证决定人 --final): genuine when it is the archived final file and every revision after a
signature only added the next approval signature; anything else stays tampered or unknown.

Before the fix every such record was called "tampered: tampered: … incremental update":
verification only knew the certificates' single certification signature."""

from __future__ import annotations

import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.generic import NameObject, TextStringObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from certdesk.signing.keys import ensure_keys
from certdesk.signing.pdf import load_signer, sign_approval
from certdesk.store.db import make_engine
from certdesk.web import create_app
from tests.conftest import install_keys, run_cli
from tests.signing.support import make_settings, small_pdf

ROLES = [("审核组长", "张三"), ("技术评审", "李四"), ("认证决定人", "王五")]
CLIENT = "91110105MA01XB8H2N"


def sign(home, path, role: str, name: str, final: bool = False) -> None:
    result = run_cli("sign", str(path), "--role", role, "--signer", name,
                     *(["--final"] if final else []), home=home)
    assert result.returncode == 0, result.stderr


def archive(home, path) -> None:
    result = run_cli("archive", "add", str(path), "--type", "decision", "--client", CLIENT,
                     "--profile", "xbht", home=home)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def chain(tmp_path_factory, key_material):
    """One decision record signed by three roles through the CLI, the final file archived;
    the file after two signatures is kept as well."""
    folder = tmp_path_factory.mktemp("approval-chain")
    home = make_settings(install_keys(key_material, folder / "home")).home
    record = folder / "decision.pdf"
    record.write_bytes(small_pdf("decision"))
    for role, name in ROLES[:2]:
        sign(home, record, role, name)
    (folder / "two-of-three.pdf").write_bytes(record.read_bytes())
    sign(home, record, *ROLES[2], final=True)
    archive(home, record)
    return home, folder


def verify(home, path, *extra):
    return run_cli("verify", str(path), *extra, home=home)


def test_an_archived_approval_chain_verifies_as_genuine_and_lists_each_signer(chain):
    home, folder = chain
    result = verify(home, folder / "decision.pdf")
    assert result.returncode == 0, result.stderr
    first, *rest = result.stdout.splitlines()
    assert first.startswith("genuine") and "认证决定记录" in first
    for role, name in ROLES:
        assert any(role in line and name in line for line in rest), result.stdout
    out = json.loads(verify(home, folder / "decision.pdf", "--json").stdout)
    assert (out["verdict"], out["genuine"], out["kind"]) == ("genuine", True, "decision")
    assert out["reason"]["code"] == "approved" and out["reliable_now"] is False  # no certificate
    assert [(s["role"], s["name"]) for s in out["signers"]] == ROLES
    assert all(s["signed_at"] for s in out["signers"]) and out["signers"][-1]["final"]


def test_an_intermediate_revision_is_not_the_archived_record(chain):
    home, folder = chain
    result = verify(home, folder / "two-of-three.pdf", "--json")
    out = json.loads(result.stdout)
    assert result.returncode == 1
    assert (out["verdict"], out["reason"]["code"]) == ("unknown", "approval_open")
    assert [s["role"] for s in out["signers"]] == [r for r, _ in ROLES[:2]]


def _retitle(data: bytes) -> bytes:
    """An incremental update that changes the document information, not a signature."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    info = writer.root  # any non-signature object will do: the catalogue gets a /Lang
    info[NameObject("/Lang")] = TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_non_signature_change_between_approvals_is_tampered(chain, tmp_path):
    home, _ = chain
    settings = make_settings(home)
    signer = load_signer(ensure_keys(settings), settings.key_passphrase)
    first = sign_approval(small_pdf("decision"), signer, *ROLES[0])
    # certdesk sign refuses to add to such a file; pyHanko itself signs it
    data = sign_approval(_retitle(first), signer, *ROLES[1])
    data = sign_approval(data, signer, *ROLES[2], final=True)
    record = tmp_path / "sneaked.pdf"
    record.write_bytes(data)
    result = verify(home, record, "--json")
    out = json.loads(result.stdout)
    assert result.returncode == 1
    assert (out["verdict"], out["reason"]["code"]) == ("tampered", "tampered_approval")


def test_a_change_after_the_final_approval_is_tampered_even_when_archived_before(chain,
                                                                                tmp_path):
    home, folder = chain
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(_retitle((folder / "decision.pdf").read_bytes()))
    result = verify(home, changed)
    assert result.returncode == 1
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert "tampered" in result.stderr and "tampered: tampered" not in result.stderr


def test_the_upload_page_lists_the_signers_of_an_approved_record(chain):
    home, folder = chain
    settings = make_settings(home).model_copy(update={"public_rate_burst": 1000})
    data = (folder / "decision.pdf").read_bytes()
    with TestClient(create_app(settings, make_engine(settings.db_url))) as client:
        page = client.post("/verify", files={"file": ("d.pdf", data, "application/pdf")})
    assert page.status_code == 200
    assert "本机构存档记录：认证决定记录" in page.text and "status status-record" in page.text
    signers = re.search(r'<ol class="signers">(.*?)</ol>', page.text, re.S).group(1)
    assert [(r, n) for r, n in ROLES if f"{r} · {n}" in signers] == ROLES
