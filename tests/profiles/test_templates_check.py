"""`certdesk templates check` passes on the shipped templates and names the template and
the tag of every problem staff can make in Word."""

from __future__ import annotations

import json

import pytest
from docx import Document
from docx.shared import Pt

from certdesk.documents.authoring import new_document, para
from certdesk.documents.lint import check_profiles, lint_template
from certdesk.documents.schema import CERTIFICATE, NOTICE
from tests.shipped import SHIPPED


def test_every_shipped_template_passes_for_every_profile():
    report = check_profiles(list(SHIPPED))
    assert report.ok, "\n".join(map(str, report.problems))
    assert {"base/certificate.docx", "base/notice.docx", "base/report.docx",
            "dni-spshfw/certificate.docx"} <= set(report.checked)


def _doc_with(tmp_path, *paragraphs, name="edited.docx"):
    doc = new_document()
    for p in paragraphs:
        if isinstance(p, str):
            para(doc, p)
        else:  # a list of strings: one paragraph whose text is split into these runs
            par = doc.add_paragraph()
            for i, piece in enumerate(p):
                run = par.add_run(piece)
                run.font.size = Pt(11 + i % 2)  # different formatting, as Word does
    path = tmp_path / name
    doc.save(path)
    return path


def _problems(path, schema=CERTIFICATE):
    return [(p.tag, p.message) for p in lint_template(path, schema, path.name)]


def test_a_tag_split_across_word_runs_is_named(tmp_path):
    path = _doc_with(tmp_path, ["证书编号：{{ cert.", "number }}"])
    problems = _problems(path)
    assert [tag for tag, msg in problems if "split across 2 Word runs" in msg] == \
        ["{{ cert.number }}"]


def test_a_tag_whose_braces_are_split_is_named(tmp_path):
    path = _doc_with(tmp_path, ["{", "{ org.name }}"])
    assert any("split across" in msg and tag == "{{ org.name }}"
               for tag, msg in _problems(path))


def test_curly_quotes_in_a_tag_are_named(tmp_path):
    path = _doc_with(tmp_path, "{{ scheme.standards|join(“；”) }}")
    problems = _problems(path)
    assert any("curly quote" in msg and "join(“；”)" in tag for tag, msg in problems)


def test_full_width_braces_typed_by_a_chinese_input_method_are_named(tmp_path):
    path = _doc_with(tmp_path, "证书编号：｛｛ cert.number ｝｝")
    assert any("full-width" in msg for _, msg in _problems(path))


def test_a_value_the_context_lacks_is_named_with_its_tag(tmp_path):
    path = _doc_with(tmp_path, "传真：{{ org.fax_number }}", "{{ signature }}")
    problems = _problems(path)
    assert ("{{ org.fax_number }}", "the context has no 'org.fax_number' "
            "(there: name, uscc, registered_address)") in problems
    assert any(tag == "{{ signature }}" and "'signature'" in msg for tag, msg in problems)


def test_a_loop_item_field_the_context_lacks_is_named(tmp_path):
    path = _doc_with(tmp_path, "{%p for s in sites %}", "{{ s.address }} {{ s.phone }}",
                     "{%p endfor %}")
    problems = _problems(path)
    assert [tag for tag, msg in problems] == ["{{ s.phone }}"]
    assert "s.phone" in problems[0][1]


def test_is_defined_checks_are_allowed(tmp_path):
    path = _doc_with(tmp_path, "{% if org.fax is defined %}{{ org.name }}{% endif %}")
    assert _problems(path) == []


def test_a_syntax_error_is_named_with_its_paragraph(tmp_path):
    path = _doc_with(tmp_path, "{% if cert.grade %}等级：{{ cert.grade }}")
    problems = _problems(path)
    assert len(problems) == 1 and problems[0][1].startswith("syntax:")


def test_a_tag_left_open_is_named(tmp_path):
    path = _doc_with(tmp_path, "{{ org.name ", "}}")
    assert any("not closed" in msg for _, msg in _problems(path))


def test_notice_templates_may_use_only_what_status_changes_provide(tmp_path):
    path = _doc_with(tmp_path, "{{ notice.title }} {{ scheme.name }}")
    assert [t for t, _ in _problems(path, NOTICE)] == ["{{ scheme.name }}"]


def test_a_file_that_is_not_a_word_document_is_reported(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_text("hello")
    assert "cannot be opened" in _problems(path)[0][1]


# -- the command ---------------------------------------------------------------------------

def test_the_check_command_passes_on_the_shipped_templates(cli):
    res = cli("templates", "check", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["ok"] and data["problems"] == []


def test_the_check_command_fails_on_a_broken_template_naming_template_and_tag(cli, tmp_path):
    path = _doc_with(tmp_path, ["{{ org.", "name }}"], "{{ org.fax_number }}",
                     name="my-certificate.docx")
    res = cli("templates", "check", "--file", str(path), "--kind", "certificate")
    assert res.returncode == 1
    assert "my-certificate.docx" in res.stdout
    assert "{{ org.name }}" in res.stdout and "split across" in res.stdout
    assert "{{ org.fax_number }}" in res.stdout
    assert "Traceback" not in res.stderr


def test_the_check_command_fails_on_a_profile_pointing_at_a_broken_template(
        tmp_path, monkeypatch):
    """The same check `templates check --profile` runs, with one profile's certificate
    replaced by an edited copy with a mistake."""

    broken = _doc_with(tmp_path, "{{ org.name }}{{ cert.serial }}", name="cert-edit.docx")
    profile = SHIPPED.get("zpic")
    real = type(profile).template_path
    monkeypatch.setattr(type(profile), "template_path", lambda self, kind: broken
                        if kind == "certificate" else real(self, kind))
    report = check_profiles([profile])
    assert not report.ok
    assert [(p.template.rsplit("/", 1)[-1], p.tag) for p in report.problems] == [
        ("cert-edit.docx", "{{ cert.serial }}")]


def test_the_list_command_names_each_kind_and_its_template(cli):
    res = cli("templates", "list", "--json")
    assert res.returncode == 0, res.stderr
    kinds = {k["id"]: k for k in json.loads(res.stdout)["kinds"]}
    assert {"programme", "plan", "report", "nonconformity", "decision", "certificate",
            "sub_certificate", "site_annex", "surveillance_notice", "suspension_notice",
            "restoration_notice", "revocation_notice", "cancellation_notice",
            "refusal_notice", "reissue_notice", "maintenance_notice", "notice"} == set(kinds)
    assert kinds["maintenance_notice"]["profiles"]["dni-spshfw"]["title"] == "保持认证资格确认证书"
    assert kinds["certificate"]["profiles"]["dni-sh"]["template"] == \
        "dni-spshfw/certificate.docx"
    assert kinds["report"]["profiles"]["cacq"]["title"] == "评价报告"
    assert "org.name (text)" in kinds["report"]["context"]


@pytest.mark.parametrize("args", [("templates", "check", "--kind", "report"),
                                  ("templates", "check", "--file", "nope.docx")])
def test_check_option_mistakes_are_one_line_errors(cli, args):
    res = cli(*args)
    assert res.returncode == 2 and "error:" in res.stderr and "Traceback" not in res.stderr


def test_the_shipped_templates_keep_every_tag_in_one_run(tmp_path):
    """Regenerating the templates gives files whose tags each sit in one run, as the
    lint demands (the authoring helpers put a tag's whole text in one run)."""
    from certdesk.documents.authoring import write_templates

    written = write_templates(tmp_path)
    assert len(written) >= 10
    for path in written:
        runs_with_half_tags = [
            r.text for p in Document(path).paragraphs for r in p.runs
            if r.text.count("{{") != r.text.count("}}")]
        assert runs_with_half_tags == [], path.name
