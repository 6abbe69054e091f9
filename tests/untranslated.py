"""Finding Chinese left on a page served in English: what remains once the page's data is
taken out is a message somebody forgot to put through gettext.

The page's data is everything the database and the body profiles hold (holders, scopes,
addresses, scheme and body names, logged reasons), what the test typed into a form, and
clause references in brackets ("the clause references stay"); an element marked
``lang="zh-CN"`` (the language switch's "中文") is Chinese on purpose.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import json
import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from certdesk.domain.profiles import Profiles

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
MARKED_CHINESE = re.compile(r'<(\w+)[^>]*\blang="zh[^"]*"[^>]*>.*?</\1>', re.S)
CLAUSE = re.compile(r"\[[^\]\n]*\]")
HOW_TO_FIX = ("untranslated text on a page served in English. Put it through gettext "
              "(_() in Python, {{ _('…') }} in a template), run `bash scripts/i18n.sh`, fill "
              "its msgstr in src/certdesk/locale/en/LC_MESSAGES/certdesk.po and run the "
              "script again (docs/translations.md)")


def _strings(value: object, depth: int = 0) -> Iterable[str]:
    if depth > 8 or value is None:
        return
    if isinstance(value, str):
        yield value
        if value[:1] in "[{":
            with contextlib.suppress(ValueError):
                yield from _strings(json.loads(value), depth + 1)
        yield from value.split()
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k, depth + 1)
            yield from _strings(v, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _strings(v, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name), depth + 1)


def page_data(engine: Engine, profiles: Profiles, *typed: str) -> list[str]:
    """Every Chinese string the pages may show as data, longest first."""
    found: set[str] = set(typed)
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "staffsession":  # holds the next message: never data
                continue
            for row in conn.execute(select(table)):
                found.update(_strings(list(row)))
    for profile in profiles:
        found.update(_strings(profile))
    return sorted((s for s in found if CJK.search(s)), key=len, reverse=True)


def untranslated(page: str, data: list[str]) -> list[str]:
    """The Chinese passages of ``page`` that are no data: each with some context."""
    text = MARKED_CHINESE.sub("", html.unescape(page))
    text = CLAUSE.sub("", text)
    for s in data:
        text = text.replace(s, "")
    text = re.sub(r"<[^>]+>", " ", text)
    runs = re.finditer(f"{CJK.pattern}+", text)
    return sorted({m.group() + "  in: " + " ".join(text[max(0, m.start() - 25):m.end() + 25]
                                                  .split()) for m in runs})
