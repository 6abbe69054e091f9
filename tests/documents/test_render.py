"""Rendering is sandboxed, autoescaped and strict: a template cannot reach Python or the
file system, text cannot break the Word XML, a missing value is an error naming it."""

from __future__ import annotations

import io

import pytest
from docx import Document

from certdesk.common.errors import TemplateError
from certdesk.documents.render import render_docx


def _template(tmp_path, *paragraphs: str, name: str = "probe.docx"):
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    path = tmp_path / name
    doc.save(path)
    return path


def _text(docx: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)


@pytest.mark.parametrize("tag", [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ self._TemplateReference__context }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ org.name.__class__.__base__ }}",
])
def test_a_template_reaching_for_python_internals_is_refused(tmp_path, tag):
    path = _template(tmp_path, f"x {tag} y")
    with pytest.raises(TemplateError) as err:
        render_docx(path, {"org": {"name": "A"}})
    assert "probe.docx" in str(err.value)
    assert "forbidden" in str(err.value) or "unsafe" in str(err.value)


@pytest.mark.parametrize("tag", ["{% include '/etc/passwd' %}",
                                 "{% import '/etc/hostname' as h %}",
                                 "{% extends '/etc/passwd' %}"])
def test_a_template_cannot_read_files(tmp_path, tag):
    path = _template(tmp_path, tag)
    with pytest.raises(TemplateError) as err:
        render_docx(path, {})
    assert "probe.docx" in str(err.value)
    assert "root:" not in str(err.value)


def test_a_missing_value_is_an_error_naming_the_value_and_the_template(tmp_path):
    path = _template(tmp_path, "{{ org.name }} {{ org.fax_number }}", name="letter.docx")
    with pytest.raises(TemplateError) as err:
        render_docx(path, {"org": {"name": "A"}})
    assert "letter.docx" in str(err.value) and "fax_number" in str(err.value)


def test_a_missing_top_level_value_is_named_too(tmp_path):
    path = _template(tmp_path, "{{ body.name }}", name="letter.docx")
    with pytest.raises(TemplateError) as err:
        render_docx(path, {})
    assert "letter.docx" in str(err.value) and "'body'" in str(err.value)


def test_ampersands_angle_brackets_and_quotes_arrive_as_text(tmp_path):
    hostile = "A & B <C> \"D\" 'E' </w:t></w:r><w:r><w:t>F ]]> &amp;"
    path = _template(tmp_path, "{{ name }}", "{% for s in sites %}{{ s }};{% endfor %}")
    docx = render_docx(path, {"name": hostile, "sites": ["<x/>", "&"]})
    text = _text(docx)
    assert hostile in text
    assert "<x/>;&;" in text


def test_a_template_that_is_not_a_word_file_is_named(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(TemplateError) as err:
        render_docx(path, {})
    assert "broken.docx" in str(err.value)


def test_a_template_compiled_once_renders_each_context_on_its_own(tmp_path):
    from certdesk.documents.render import environment

    path = _template(tmp_path, "持证组织：{{ org.name }}")
    first = render_docx(path, {"org": {"name": "甲公司"}})
    compiled = len(environment()._compiled)
    second = render_docx(path, {"org": {"name": "乙公司 & <子>"}})
    assert len(environment()._compiled) == compiled  # the second render compiled nothing
    assert _text(first) == "持证组织：甲公司"
    assert _text(second) == "持证组织：乙公司 & <子>"
    with pytest.raises(TemplateError, match="missing value"):
        render_docx(path, {})  # the cached template is as strict as a fresh one
