"""How commands speak: JSON for scripts, rich text for people, one-line errors for both."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from certdesk.common.i18n import N_, from_environment, translate
from certdesk.common.settings import get_settings
from certdesk.domain.text import printable

UNWRAPPED = 100_000
"""The width used when output is not a terminal: piped output is read by programs and
grep, so a path or a table row stays on one line (tables still size to their content)."""


class SafeConsole(Console):
    """A console that shows control and bidi characters as escapes: what it prints may come
    from a PDF, an upload or an older database, and must not drive the terminal."""

    def render_str(self, text: str, **kwargs):
        return super().render_str(printable(text), **kwargs)


def _console(stderr: bool = False) -> SafeConsole:
    stream = sys.stderr if stderr else sys.stdout
    return SafeConsole(stderr=stderr, width=None if stream.isatty() else UNWRAPPED)


console = _console()
err_console = _console(stderr=True)


def _default(obj: Any) -> Any:
    if isinstance(obj, date | datetime):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "as_dict"):
        return obj.as_dict()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def to_json(data: Any) -> str:
    """JSON with Chinese kept readable; bidi and other invisible characters escaped (a JSON
    reader turns the escapes back into the same characters)."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=_default)
    if printable(text) == text:
        return text
    return "".join(ch if printable(ch) == ch else json.dumps(ch)[1:-1] for ch in text)


def emit(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> None:
    """Print ``data`` as JSON on stdout when asked, else through ``human`` (or as JSON)."""
    if as_json or human is None:
        sys.stdout.write(to_json(data) + "\n")
    else:
        human(data)


def lang() -> str:
    """The language of the command's messages: ``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/``LANG``
    as gettext reads them (``zh_CN.UTF-8`` → Chinese; anything else English). Read on each
    use: a test, or a wrapper script, may set it between commands."""
    return from_environment()


def say(msgid: str, /, **params: object) -> str:
    """``msgid`` (Chinese, the catalogs' source) in the command's language."""
    return translate(lang(), msgid, **params)


def fail(message: str) -> None:
    """The one-line error every user-facing failure becomes."""
    # escape: messages name sections such as [sampling], which rich would take for markup
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    """A one-line warning on stderr: the command still does its work."""
    err_console.print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False,
                      soft_wrap=True)


def warn_if_qr_unreachable() -> None:
    """Said before anything is issued: certificates printed with a QR code on the default
    public URL point at this computer and no phone can open them."""
    # lazy: documents.qr (segno) with documents.convert (lxml) and signing.sandbox
    # (multiprocessing) at module top add 0.11 s of CPU to `certdesk --help` (0.63 → 0.74 s)
    from certdesk.documents.qr import phone_cannot_open

    url = get_settings().public_url
    if phone_cannot_open(url):
        warn(say(N_("CERTDESK_PUBLIC_URL 为 {url}（本机地址）：手机无法打开这些证书上的二维码。"
                    "请将其设为公开查询网站的地址（docs/verification.md）。"), url=url))
