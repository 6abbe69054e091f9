"""Bad input to `certdesk issue` gets one line naming the problem, a non-zero exit, and
leaves nothing half-stored: no certificate row and no number consumed without a trace."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from certdesk.store.db import make_engine
from certdesk.store.models import Certificate, NumberCounter, VoidNumber
from tests.shipped import SHIPPED

GOOD = {
    "name": "测试服务有限公司", "uscc": "91110105MA01XB8H2N",
    "registered_address": "北京市朝阳区", "scope": "家用电器的维修", "grade": "三星级",
    "decision_date": "2026-11-20",
}


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _assert_one_line_error(result, *needles):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def _nothing_stored(home):
    db = home / "certdesk.db"
    if not db.exists():
        return
    with Session(make_engine(f"sqlite:///{db}")) as s:
        assert s.exec(select(Certificate)).all() == []
        assert all(c.last_value == 0 for c in s.exec(select(NumberCounter)))


@pytest.mark.parametrize(("case", "content", "needles"), [
    ("missing field", {k: v for k, v in GOOD.items() if k != "scope"}, ["scope", "missing"]),
    ("invalid credit code", {**GOOD, "uscc": "91110105MA01XB8H2A"}, ["check character"]),
    ("credit code with a forbidden letter", {**GOOD, "uscc": "91110105MA01XB8H2I"}, ["'I'"]),
    ("bad date", {**GOOD, "decision_date": "2026-13-01"}, ["decision_date", "not a date"]),
    ("issue before decision", {**GOOD, "issue_date": "2026-11-01"}, ["before the decision"]),
    ("unknown grade", {**GOOD, "grade": "六星级"}, ["grade"]),
    ("unknown field", {**GOOD, "colour": "red"}, ["unknown field", "colour"]),
])
def test_a_bad_record_is_refused_in_one_line(keyed_home, cli, home, tmp_path, case, content,
                                             needles):
    path = _write(tmp_path, "orgs.json", json.dumps(content, ensure_ascii=False))
    _assert_one_line_error(cli("issue", "--profile", "cacq", "--input", str(path)), *needles)
    _nothing_stored(home)


def test_malformed_json_names_line_and_column(cli, home, tmp_path):
    path = _write(tmp_path, "orgs.json", '{"name": "x",\n "uscc": }')
    _assert_one_line_error(cli("issue", "-p", "cacq", "-i", str(path)),
                           "malformed JSON", "line 2")
    _nothing_stored(home)


def test_malformed_csv_is_refused(cli, home, tmp_path):
    path = _write(tmp_path, "orgs.csv", "name,uscc\nA,B\n")
    _assert_one_line_error(cli("issue", "-p", "cacq", "-i", str(path)), "CSV header lacks")
    path = _write(tmp_path, "ragged.csv", "name,uscc,registered_address,scope,decision_date\n"
                  "A,91110105MA01XB8H2N,addr,scope,2026-11-20,extra\n")
    _assert_one_line_error(cli("issue", "-p", "cacq", "-i", str(path)), "line 2")
    _nothing_stored(home)


def test_an_unknown_profile_is_named_with_the_known_ones(cli, home, tmp_path):
    path = _write(tmp_path, "orgs.json", json.dumps(GOOD, ensure_ascii=False))
    _assert_one_line_error(cli("issue", "-p", "nope", "-i", str(path)), "unknown profile",
                           "xbht")


def test_a_missing_input_file_is_named(cli, tmp_path):
    _assert_one_line_error(cli("issue", "-p", "cacq", "-i", str(tmp_path / "none.json")),
                           "none.json")


def test_a_template_missing_a_value_fails_before_a_number_is_drawn(keyed_home, settings,
                                                                   office_or_fake,
                                                                   tmp_path, monkeypatch):
    """A template asking for a value the context lacks is an error naming the template and
    the value, found by the dry run: no number is consumed."""
    from docx import Document

    from certdesk.common.errors import TemplateError
    from certdesk.services.inputs import parse_json
    from certdesk.services.issuing import Issuer

    bad = tmp_path / "broken.docx"
    doc = Document()
    doc.add_paragraph("{{ org.name }} {{ org.fax_number }}")
    doc.save(bad)
    profile = SHIPPED.get("cacq")
    monkeypatch.setattr(type(profile), "template_path", lambda self, kind: bad)
    org = parse_json(json.dumps(GOOD, ensure_ascii=False), "x")[0]
    with Issuer(profile, pool=office_or_fake) as issuer, pytest.raises(TemplateError) as err:
        issuer.issue(org)
    assert "broken.docx" in str(err.value) and "fax_number" in str(err.value)
    _nothing_stored(keyed_home)


def test_a_failure_after_the_number_is_drawn_records_the_number_void(keyed_home, settings,
                                                                     office_or_fake,
                                                                     monkeypatch):
    from certdesk.common.errors import ConversionError
    from certdesk.services.inputs import parse_json
    from certdesk.services.issuing import Issuer

    def broken_convert(*a, **k):
        raise ConversionError("LibreOffice failed on test")

    org = parse_json(json.dumps(GOOD, ensure_ascii=False), "x")[0]
    with Issuer(SHIPPED.get("cacq"), pool=office_or_fake) as issuer:
        monkeypatch.setattr(issuer.pool, "convert_bytes", broken_convert)
        with pytest.raises(ConversionError):
            issuer.issue(org)
        with Session(issuer.engine) as s:
            assert s.exec(select(Certificate)).all() == []
            voids = s.exec(select(VoidNumber)).all()
    assert len(voids) == 1
    assert voids[0].number.startswith("11726FWA0001R000")
    assert "LibreOffice failed" in voids[0].reason


@pytest.mark.parametrize(("case", "content", "needles"), [
    ("NUL in the name", {**GOOD, "name": "测试\x00服务有限公司"}, ["'name'", "U+0000"]),
    ("escape in the address", {**GOOD, "registered_address": "北京\x1b[31m"},
     ["'registered_address'", "U+001B"]),
    ("bidi override in the name", {**GOOD, "name": "evil\u202e有限公司"}, ["'name'", "U+202E"]),
    ("a 5,000-character name", {**GOOD, "name": "测" * 5000},
     ["'name' is 5000 characters long", "at most 200"]),
])
def test_hostile_text_is_refused_before_any_number_is_drawn(cli, home, tmp_path, case,
                                                            content, needles):
    path = _write(tmp_path, "orgs.json", json.dumps(content, ensure_ascii=False))
    result = cli("issue", "--profile", "cacq", "--input", str(path))
    _assert_one_line_error(result, "orgs.json: record 1", *needles)
    assert "internal error" not in result.stderr
    _nothing_stored(home)


def test_the_terminal_gets_escapes_not_control_sequences(keyed_home, cli, tmp_path):
    assert cli("keys", "init").returncode == 0
    pdf = tmp_path / "evil\x1b[31m\u202e.pdf"
    pdf.write_bytes(b"%PDF-1.4 not really")
    result = cli("verify", str(pdf))
    assert result.returncode != 0
    assert "\x1b" not in result.stderr + result.stdout
    assert "\u202e" not in result.stderr + result.stdout
    assert "evil\\x1b[31m\\u202e.pdf" in result.stderr
