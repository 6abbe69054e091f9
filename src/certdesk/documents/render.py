"""Fill a Word template with docxtpl: autoescaped, sandboxed, strict about missing values.

A template cannot read files or call Python (Jinja's sandbox, and an environment without
a loader, so ``include``/``import`` have nothing to read), text is XML-escaped (so ``&``
and ``<`` in names cannot break the .docx), and a value the template asks for but the
context lacks is an error naming both — never an empty gap on the page.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import StrictUndefined
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment

from certdesk.common.errors import TemplateError


class Image:
    """A picture for the template (QR code, seal): PNG bytes and printed width."""

    def __init__(self, png: bytes, width_mm: float) -> None:
        self.png = png
        self.width_mm = width_mm


class _Environment(SandboxedEnvironment):
    """Compiles each template part once. docxtpl hands Jinja the same XML for every
    document made from a template, and compiling it took as long as rendering it."""

    MAX_COMPILED = 256

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=True)
        self._compiled: dict[str, Any] = {}
        self._lock = threading.Lock()

    def from_string(self, source, globals=None, template_class=None):  # noqa: A002 (Jinja's name)
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        compiled = self._compiled.get(source)
        if compiled is None:
            compiled = super().from_string(source)
            with self._lock:  # bounded: a template being edited must not grow it forever
                if len(self._compiled) >= self.MAX_COMPILED:
                    self._compiled.clear()
                self._compiled[source] = compiled
        return compiled


_ENVIRONMENT = _Environment()


def environment() -> SandboxedEnvironment:
    """The only Jinja environment templates see (rendering and ``templates check``);
    shared and thread-safe (compiled templates are immutable)."""
    return _ENVIRONMENT


def render_docx(template: Path, context: Mapping[str, Any]) -> bytes:
    """Render ``template`` with ``context``; ``Image`` values become inline pictures."""
    try:
        tpl = DocxTemplate(str(template))
        tpl.init_docx()
    except Exception as exc:  # python-docx raises several unrelated types for a bad file
        raise TemplateError(f"template {template.name}: cannot be opened ({exc})") from None
    ctx = {k: (InlineImage(tpl, io.BytesIO(v.png), width=Mm(v.width_mm))
               if isinstance(v, Image) else v) for k, v in context.items()}
    try:
        tpl.render(ctx, jinja_env=environment(), autoescape=True)
        buf = io.BytesIO()
        tpl.save(buf)
    except JinjaTemplateError as exc:
        raise TemplateError(f"template {template.name}: {describe(exc)}") from None
    except Exception as exc:
        # Whatever else a template can provoke (include without a loader, raw XML through
        # a filter that breaks the document) is still the template's fault, said in a line.
        raise TemplateError(f"template {template.name}: {type(exc).__name__}: {exc}") from None
    return buf.getvalue()


def describe(exc: JinjaTemplateError) -> str:
    msg = str(exc.message or exc)
    if type(exc).__name__ == "SecurityError":
        return f"forbidden in a template: {msg}"
    if "undefined" in msg or "has no attribute" in msg:
        return f"missing value: {msg}"
    line = getattr(exc, "lineno", None)
    return f"{type(exc).__name__}: {msg}" + (f" (line {line})" if line else "")
