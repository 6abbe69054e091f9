"""Lint a Word template before anyone renders it (``certdesk templates check``).

What goes wrong when staff edit templates in Word, and what is checked here:

* Word splits text into runs when formatting, spell-checking or revision marks change
  mid-word; a tag typed in two goes can end up ``{{ org.`` + ``name }}`` in two runs.
  docxtpl glues many of those back, but not across paragraphs, and the glued tag takes the
  first run's formatting: every tag must sit in one run.
* Word's AutoFormat turns ``"`` into ``“ ”`` and a Chinese IME types ``｛`` and ``％``.
* A tag naming a value the document kind's context does not provide (compared with the
  declared schema in ``documents.schema``, down to nested keys such as ``org.fax``).
* Jinja syntax errors (an ``if`` without ``endif``).

Each problem names the template and the tag as the user sees it in Word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError, nodes
from lxml import etree

from certdesk.common.errors import CertdeskError
from certdesk.documents.kinds import KINDS
from certdesk.documents.render import environment
from certdesk.documents.schema import Schema
from certdesk.profiles import TEMPLATES_DIR

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
OPENER = re.compile(r"\{\{|\{%|\{#")
SMART_QUOTES = "“”‘’„‟‚‛「」『』＂＇"
FULL_WIDTH_DELIMITERS = re.compile(r"[｛{][｛{%％#＃]|[%％}｝#＃][｝}]")
DICT_METHODS = frozenset({"items", "keys", "values", "get"})
ANY: Any = object()
"""A value the schema cannot follow (a filter result, ``loop``): anything goes."""


@dataclass(frozen=True)
class Problem:
    template: str
    tag: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"template": self.template, "tag": self.tag, "message": self.message}

    def __str__(self) -> str:
        return f"{self.template}: {self.tag}: {self.message}" if self.tag else \
            f"{self.template}: {self.message}"


# -- what Word did to the text --------------------------------------------------------------

def _parts(doc) -> list[etree._Element]:
    """The body, then every header and footer: docxtpl renders all of them."""
    roots = [doc.element]
    for rel in doc.part.rels.values():
        if rel.reltype in (RT.HEADER, RT.FOOTER) and not rel.is_external:
            roots.append(etree.fromstring(rel.target_part.blob))
    return roots


def _paragraph_runs(p: etree._Element) -> tuple[str, list[tuple[int, int, int]]]:
    """The paragraph's text and, for each text piece, its span and its run's index."""
    runs: dict[int, int]
    text, spans, runs = "", [], {}
    for t in p.iter(f"{W}t"):
        run = t.getparent()
        index = runs.setdefault(id(run), len(runs))
        start = len(text)
        text += t.text or ""
        spans.append((start, len(text), index))
    return text, spans


def _word_problems(template: str, p: etree._Element) -> list[Problem]:
    text, spans = _paragraph_runs(p)
    if not any(c in text for c in "{}｛｝"):
        return []
    out = []
    for m in TAG.finditer(text):
        tag = m.group(0)
        runs = {i for s, e, i in spans if s < m.end() and e > m.start()}
        if len(runs) > 1:
            out.append(Problem(template, tag, f"split across {len(runs)} Word runs: select "
                               "the tag, delete it and type it again in one go"))
        quotes = sorted({c for c in tag if c in SMART_QUOTES})
        if quotes:
            out.append(Problem(template, tag, f"curly quote(s) {' '.join(quotes)} in the tag: "
                               "use straight quotes ' or \" (turn off Word's AutoFormat)"))
    rest = TAG.sub("", text)
    for m in OPENER.finditer(rest):
        out.append(Problem(template, rest[m.start():m.start() + 40].strip(),
                           "tag not closed in this paragraph: a tag must not span "
                           "paragraphs or line breaks"))
    for m in FULL_WIDTH_DELIMITERS.finditer(text):
        if not m.group(0).isascii():
            out.append(Problem(template, text[max(0, m.start() - 10):m.end() + 10].strip(),
                               f"full-width {m.group(0)!r}: type tag braces and % with the "
                               "input method in English mode"))
    return out


# -- what Jinja will see --------------------------------------------------------------------

def _jinja_source(tpl: DocxTemplate, doc) -> str:
    """The template text as docxtpl renders it (run tags stripped, ``{%p``/``{%tr``
    resolved), one paragraph per line so that Jinja's line numbers find the tag."""
    xml = tpl.patch_xml(tpl.xml_to_string(doc.element.body))
    for root in _parts(doc)[1:]:
        xml += tpl.patch_xml(etree.tostring(root, encoding="unicode"))
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)


def _tag_at(lines: list[str], lineno: int | None, hint: str) -> str:
    if not lineno or lineno > len(lines):
        return ""
    text = re.sub(r"<[^>]+>", "", lines[lineno - 1])
    tags = TAG.findall(text)
    return next((t for t in tags if hint in t), tags[0] if tags else text.strip()[:60])


class _Paths:
    """Walks the Jinja tree and reports ``a.b.c`` paths the schema does not declare,
    following loops (``for s in sites`` binds ``s`` to an item of ``sites``)."""

    def __init__(self, schema: dict) -> None:
        self.root = schema
        self.missing: list[tuple[str, str, int]] = []

    def visit(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        if isinstance(node, nodes.For):
            items = self.resolve(node.iter, scope)[0]
            inner = dict(scope, loop=ANY)
            self._bind(node.target, items[0] if isinstance(items, list) else ANY, inner)
            for child in (*node.body, *([node.test] if node.test else [])):
                self.visit(child, inner)
            for child in node.else_:
                self.visit(child, scope)
        elif isinstance(node, nodes.Assign):
            self._bind(node.target, self.resolve(node.node, scope)[0], scope)
        elif isinstance(node, nodes.Getattr | nodes.Getitem):
            self.resolve(node, scope)
        elif isinstance(node, nodes.Test) and node.name in ("defined", "undefined"):
            return  # an explicit "is defined" asks whether it exists: not an error
        elif (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr)
              and node.node.attr in DICT_METHODS):
            self.resolve(node.node.node, scope)
            for child in (*node.args, *node.kwargs):
                self.visit(child, scope)
        else:
            for child in node.iter_child_nodes():
                self.visit(child, scope)

    def _bind(self, target: nodes.Node, schema: Any, scope: dict[str, Any]) -> None:
        if isinstance(target, nodes.Name):
            scope[target.name] = schema
        else:  # tuple unpacking: the schema cannot say what each part is
            for name in target.find_all(nodes.Name):
                scope[name.name] = ANY

    def resolve(self, node: nodes.Node, scope: dict[str, Any]) -> tuple[Any, str]:
        """The schema of an expression and its text (``org.name``)."""
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name], node.name
            return self.root.get(node.name, ANY), node.name
        key = None
        if isinstance(node, nodes.Getattr):
            key = node.attr
        elif isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const):
                key = node.arg.value
            else:
                self.visit(node.arg, scope)
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            base, path = self.resolve(node.node, scope)
            path = f"{path}.{key}" if key is not None else f"{path}[…]"
            if isinstance(base, dict) and isinstance(key, str):
                if key not in base:
                    self.missing.append((path, ", ".join(base), node.lineno))
                    return ANY, path
                return base[key], path
            if isinstance(base, list) and isinstance(key, int):
                return base[0], path
            return ANY, path
        self.visit(node, scope)
        return ANY, type(node).__name__


def lint_template(path: Path, schema: Schema, name: str | None = None) -> list[Problem]:
    """Every problem of the template at ``path`` for a context shaped like ``schema``."""
    label = name or Path(path).name
    try:
        tpl = DocxTemplate(str(path))
        tpl.init_docx()
        doc = tpl.docx  # the python-docx Document docxtpl opened: read once
    except Exception as exc:  # python-docx raises several unrelated types for a bad file
        return [Problem(label, "", f"cannot be opened as a Word document ({exc})")]
    out = [p for root in _parts(doc) for para in root.iter(f"{W}p")
           for p in _word_problems(label, para)]
    env = environment()
    source = _jinja_source(tpl, doc)
    lines = source.split("\n")
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return [*out, Problem(label, _tag_at(lines, exc.lineno, ""), f"syntax: {exc.message}")]
    if not isinstance(schema, dict):
        raise TypeError("a document context schema is an object")
    for var in sorted(tpl.get_undeclared_template_variables(jinja_env=env) - set(schema)):
        tags = [t for t in TAG.findall(re.sub(r"<[^>]+>", "", source)) if var in t]
        out.append(Problem(label, tags[0] if tags else var,
                           f"the context has no {var!r} (it has: {', '.join(schema)})"))
    walker = _Paths(schema)
    walker.visit(tree, {})
    for dotted, known, lineno in walker.missing:
        out.append(Problem(label, _tag_at(lines, lineno, dotted.rsplit(".", 1)[-1]),
                           f"the context has no {dotted!r} (there: {known})"))
    return out


@dataclass
class CheckReport:
    checked: dict[str, list[str]]
    """Template (relative to templates/) → the document kinds it was checked for."""
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked,
                "problems": [p.as_dict() for p in self.problems]}


def check_profiles(profiles: list) -> CheckReport:
    """Lint every template the profiles name, once per (template, context shape), and the
    ``[templates]`` sections themselves (a kind without a template, an unknown kind)."""
    report = CheckReport({}, [])
    linted: set[tuple[Path, int]] = set()
    for profile in profiles:
        where = f"{profile.id}/profile.toml [templates]"
        for key, value in profile.templates.items():
            if key == "titles":
                unknown = sorted(set(value) - set(KINDS)) if isinstance(value, dict) else []
                report.problems += [Problem(where, f"titles.{k}", "not a document kind")
                                    for k in unknown]
            elif key not in KINDS:
                report.problems.append(Problem(where, key, f"not a document kind (known: "
                                                           f"{', '.join(KINDS)})"))
        for kind in KINDS.values():
            try:
                path = profile.template_path(kind.id)
            except CertdeskError as exc:
                report.problems.append(Problem(where, kind.id, str(exc)))
                continue
            name = str(path.relative_to(TEMPLATES_DIR)) if path.is_relative_to(
                TEMPLATES_DIR) else str(path)
            report.checked.setdefault(name, [])
            if kind.id not in report.checked[name]:
                report.checked[name].append(kind.id)
            if (path, id(kind.schema)) not in linted:
                linted.add((path, id(kind.schema)))
                report.problems += lint_template(path, kind.schema, name)
    return report
