"""Refusals as an English reader sees them. ``pytest.raises(match=…)`` searches ``str(exc)``,
the Chinese line (the msgid filled in); ``raises_en`` searches ``exc.text("en")``, the line
the command line prints under ``LANG=C`` — so the English wording is held as before."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest

from certdesk.common.errors import CertdeskError


@contextlib.contextmanager
def raises_en(expected: type[CertdeskError] | tuple[type[CertdeskError], ...], match: str,
              ) -> Iterator[pytest.ExceptionInfo[CertdeskError]]:
    with pytest.raises(expected) as info:
        yield info
    english = info.value.text("en")
    assert re.search(match, english), f"{match!r} not in the English message {english!r}"
