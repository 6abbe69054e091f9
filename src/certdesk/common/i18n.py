"""Languages and message catalogs: gettext, with the catalogs kept by Babel.

Chinese is the source language: every msgid is the Chinese text as the pages and messages
have always shown it, so Chinese needs no catalog and a msgid missing from a catalog still
reads right to a Chinese user. English is ``certdesk/locale/en/LC_MESSAGES/certdesk.po``
(``scripts/i18n.sh`` extracts, updates and compiles; docs/translations.md).

A catalog is read once per process, on first use: the compiled ``.mo`` when it is at least
as new as its ``.po`` (``scripts/setup.sh`` and the wheel build it), else the ``.po`` itself
compiled in memory with Babel — so a fresh clone, or a ``.po`` just edited, is never shown
stale or missing translations.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import io
import os
import re
from collections.abc import Mapping
from pathlib import Path

LANGS = ("zh", "en")
DEFAULT = "zh"
DOMAIN = "certdesk"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
"""The ``<html lang>`` of a page in each language."""


def N_(msgid: str) -> str:
    """Marks a msgid for extraction where it is defined; it is translated where shown."""
    return msgid


class Msg(str):
    """A message parameter that is itself a msgid (a status word, a role): translated
    together with the message it fills (a tuple of them: each, joined by "、")."""

    __slots__ = ()


def pick(value: str | None) -> str | None:
    """``zh``/``en`` for a language tag (``en``, ``en-US``, ``zh_CN.UTF-8``…), else None."""
    if not value:
        return None
    head = re.split(r"[-_.@]", value.strip().lower(), maxsplit=1)[0]
    return head if head in LANGS else None


def from_accept_language(header: str | None) -> str | None:
    """The first of zh* / en* in an ``Accept-Language`` header, by quality (RFC 9110)."""
    ranked = []
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if (m := re.search(r"q\s*=\s*([0-9.]+)", params)) is not None:
            try:
                quality = float(m.group(1))
            except ValueError:
                continue
        if (lang := pick(tag)) is not None and quality > 0:
            ranked.append((-quality, i, lang))
    return min(ranked)[2] if ranked else None


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The command line's language, as gettext picks it: the first set of ``LANGUAGE``,
    ``LC_ALL``, ``LC_MESSAGES``, ``LANG``. Chinese for ``zh*``; anything else (``C``,
    ``en_US.UTF-8``, unset) is English, as the command line has always spoken."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        if value := env.get(name):
            first = value.split(":")[0]
            return "zh" if pick(first) == "zh" else "en"
    return "en"


@functools.cache
def catalog(lang: str) -> _gettext.NullTranslations:
    """The translations into ``lang`` (none for Chinese, the source language)."""
    if lang == DEFAULT or lang not in LANGS:
        return _gettext.NullTranslations()
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return _gettext.GNUTranslations(f)
    return _compile(po)


def _compile(po: Path) -> _gettext.GNUTranslations:
    # Lazy: Babel's catalog reader is only needed where no fresh .mo was built.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        messages = read_po(f)
    buffer = io.BytesIO()
    write_mo(buffer, messages)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def translate(lang: str, msgid: str, /, **params: object) -> str:
    """``msgid`` in ``lang``, its ``{name}`` fields filled (``Msg`` values and errors
    translated too).
    Without params the text is returned as is: a message may contain braces."""
    text = catalog(lang).gettext(msgid) if msgid else msgid
    if not params:
        return text
    return text.format(**{k: _param(lang, v) for k, v in params.items()})


def _param(lang: str, value: object) -> object:
    if isinstance(value, Msg):
        return translate(lang, value)
    if callable(text := getattr(value, "text", None)):  # an error or notice carried inside
        return text(lang)
    if isinstance(value, tuple) and value and all(isinstance(v, Msg) for v in value):
        return translate(lang, N_("、")).join(translate(lang, v) for v in value)
    return value


def plural(lang: str, singular: str, many: str, n: int, /, **params: object) -> str:
    """The form of a message for ``n`` (Chinese has one; English two)."""
    return catalog(lang).ngettext(singular, many, n).format(n=n, **params)


class Said(str):
    """A line said before its reader is known (a file's warning, a batch's failure): ``str``
    is the Chinese line, ``text(lang)`` the line in ``lang``, where it is shown."""

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, /, **params: object) -> Said:
        said = super().__new__(cls, translate(DEFAULT, msgid, **params))
        said.msgid, said.params = msgid, params
        return said

    def text(self, lang: str) -> str:
        return translate(lang, self.msgid, **self.params)


def shown(line: str, lang: str) -> str:
    """``line`` in ``lang`` where it is a ``Said``; other text (data, a line kept as text)
    as it is."""
    return line.text(lang) if isinstance(line, Said) else line
