"""Records several people approve: approval signatures in order, the final one locking the
record; pyHanko (through certdesk) and poppler's pdfsig both accept the result, and any
change after a signature — or a signature after the final one — is caught."""

from __future__ import annotations

import io
import json
import subprocess

import pikepdf
import pytest
from pyhanko.pdf_utils.generic import DictionaryObject, NameObject, TextStringObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from certdesk.common.errors import SigningError
from certdesk.signing.keys import ca_certificate, ensure_keys
from certdesk.signing.pdf import (
    SignatureSpec,
    load_signer,
    sign_approval,
    sign_pdf,
    validate_approvals,
)
from tests.conftest import install_keys, run_cli
from tests.signing.support import make_settings, small_pdf

ROLES = [("审核组长", "张三"), ("技术评审", "李四"), ("认证决定人", "王五")]


@pytest.fixture(scope="module")
def body(tmp_path_factory, key_material):
    settings = make_settings(install_keys(key_material,
                                          tmp_path_factory.mktemp("approvals-home")))
    return settings, load_signer(ensure_keys(settings), settings.key_passphrase)


def approve(body, data: bytes, roles=ROLES) -> bytes:
    _, signer = body
    for i, (role, name) in enumerate(roles):
        data = sign_approval(data, signer, role, name, final=i == len(roles) - 1)
    return data


@pytest.fixture(scope="module")
def approved(body) -> bytes:
    return approve(body, small_pdf("decision"))


def check(body, data: bytes):
    settings, _ = body
    return validate_approvals(data, [ca_certificate(settings)])


def test_three_roles_sign_in_order_and_the_final_signature_locks_the_record(body, approved):
    report = check(body, approved)
    assert report.ok, report.problems
    assert [(a.role, a.signer_name) for a in report.approvals] == ROLES
    assert [a.final for a in report.approvals] == [False, False, True]
    assert all(a.report.trusted and a.report.intact for a in report.approvals)


def test_pdfsig_accepts_every_approval_and_sees_the_last_cover_the_whole_file(approved,
                                                                              tmp_path):
    path = tmp_path / "decision.pdf"
    path.write_bytes(approved)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert out.count("Signature is Valid") == 3, out
    assert out.count("Not total document signed") == 2 and out.count("Total document signed") == 1


def test_an_open_record_is_consistent_but_not_yet_final(body):
    _, signer = body
    two = sign_approval(sign_approval(small_pdf(), signer, *ROLES[0]), signer, *ROLES[1])
    report = check(body, two)
    assert not report.problems and not report.final and not report.ok


def test_nothing_signs_after_the_final_signature(body, approved):
    with pytest.raises(SigningError, match="final"):
        sign_approval(approved, body[1], "补签", "钱七")


def test_a_role_signs_only_once(body):
    once = sign_approval(small_pdf(), body[1], "审核组长", "张三")
    with pytest.raises(SigningError, match="already signed"):
        sign_approval(once, body[1], "审核组长", "李四")


def test_a_certified_record_takes_no_approval_signature(body):
    certified = sign_pdf(small_pdf(), body[1], SignatureSpec(reason="证书"))
    with pytest.raises(SigningError, match="certified"):
        sign_approval(certified, body[1], "审核组长", "张三")


def _retitle(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.set_info(writer.add_object(DictionaryObject({
        NameObject("/Title"): TextStringObject("changed")})))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_change_after_the_final_signature_is_caught(body, approved):
    report = check(body, _retitle(approved))
    assert not report.ok
    assert any("after the last signature" in p for p in report.problems)


def test_a_change_between_two_approvals_is_caught(body):
    first = sign_approval(small_pdf(), body[1], "审核组长", "张三")
    sneaked = sign_approval(_retitle(first), body[1], "认证决定人", "王五", final=True)
    report = check(body, sneaked)
    assert not report.ok
    assert any("changed after this signature" in p for p in report.problems)


def _with_a_text_field() -> bytes:
    pdf = pikepdf.open(io.BytesIO(small_pdf("form")))
    note = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Tx, T="Note",
        V="", Rect=[50, 50, 200, 80], P=pdf.pages[0].obj, F=4))
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([note]))
    pdf.Root.AcroForm = pdf.make_indirect(pikepdf.Dictionary(Fields=pikepdf.Array([note])))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_a_form_field_filled_in_the_same_revision_as_an_approval_is_caught(body):
    """Form filling is the level a signature is: only the next approval's own field may
    change, not another field filled in the signing revision."""
    _, signer = body
    writer = IncrementalPdfFileWriter(io.BytesIO(
        sign_approval(_with_a_text_field(), signer, *ROLES[0])))
    note = writer.root["/AcroForm"]["/Fields"][0].get_object()
    note[NameObject("/V")] = TextStringObject("批准金额改为十万")
    writer.update_container(note)
    meta = signers.PdfSignatureMetadata(field_name="CertdeskApproval2", md_algorithm="sha256",
                                        reason=ROLES[1][0], name=ROLES[1][1],
                                        subfilter=fields.SigSeedSubFilter.PADES)
    report = check(body, signers.sign_pdf(writer, meta, signer=signer).getvalue())
    assert any("changed after this signature" in p for p in report.problems)


# -- certdesk sign -----------------------------------------------------------------------------

def test_certdesk_sign_adds_approvals_in_place_then_locks_with_final(body, tmp_path):
    settings, _ = body
    record = tmp_path / "decision.pdf"
    record.write_bytes(small_pdf("decision"))
    for role, name in ROLES[:2]:
        result = run_cli("sign", str(record), "--role", role, "--signer", name, home=settings.home)
        assert result.returncode == 0, result.stderr
    result = run_cli("sign", str(record), "--role", ROLES[2][0], "--signer", ROLES[2][1],
                     "--final", "--json", home=settings.home)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["ok"] and out["final"] and [a["role"] for a in out["approvals"]] == \
        [r for r, _ in ROLES]
    again = run_cli("sign", str(record), "--role", "补签", "--signer", "钱七",
                    home=settings.home)
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert "final" in again.stderr
    assert check(body, record.read_bytes()).ok  # the refused attempt left the file alone


def test_certdesk_sign_writes_to_out_and_refuses_a_non_pdf_in_one_line(body, tmp_path):
    settings, _ = body
    record, signed = tmp_path / "report.pdf", tmp_path / "report-signed.pdf"
    original = small_pdf("report")
    record.write_bytes(original)
    ok = run_cli("sign", str(record), "-r", "审核组长", "-s", "张三", "-o", str(signed),
                 home=settings.home)
    assert ok.returncode == 0 and record.read_bytes() == original
    assert check(body, signed.read_bytes()).approvals[0].role == "审核组长"
    junk = tmp_path / "notes.pdf"
    junk.write_text("not a pdf")
    bad = run_cli("sign", str(junk), "-r", "审核组长", "-s", "张三", home=settings.home)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
