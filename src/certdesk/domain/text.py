"""The one rule for text that reaches a document, the log or a terminal.

Text is NFC-normalised, then refused (with an error naming the field and the character)
when it holds:

* control characters (C0, DEL, C1; NUL included): an ``ESC[31m`` stored in a name would
  later drive the terminal of whoever prints it; a tab or line break is text except in
  one-line fields (``SINGLE_LINE``: names, addresses);
* format characters (Unicode category Cf): the bidi embeddings, overrides and isolates
  (U+202A–202E, U+2066–2069), and also the invisible marks U+200E/U+200F (LRM/RLM),
  zero-width spaces and joiners and U+FEFF. A certificate names a company in Chinese or
  Latin script, which needs none of them, while each can make a printed name read
  differently from the stored one ("evil" shown as "live");
* line and paragraph separators (U+2028/2029) in one-line fields;
* surrogates and code points Unicode has not assigned.

Lengths are counted after normalisation and checked here, before anything is drawn or
stored: a name too long for the QR token must not cost a certificate number.
"""

from __future__ import annotations

import unicodedata

from certdesk.common.errors import InputError
from certdesk.common.i18n import N_, Msg

LIMITS: dict[str, int] = {
    "name": 200,
    "holder_name": 200,
    "registered_address": 300,
    "address": 300,
    "grade": 32,
    "scope": 2000,
    "reason": 1000,
    "filename": 255,
}
"""Longest text (characters) per field name; other fields take ``DEFAULT_LIMIT``. A holder
name travels in the QR code's signed token (GB 18030, two bytes a character): 200 keeps
the code readable."""

DEFAULT_LIMIT = 5000

SINGLE_LINE = frozenset({"name", "holder_name", "registered_address", "address", "grade",
                         "uscc", "number", "by", "signer", "organisation", "filename"})
"""Fields that are one line on the page and in the log (a name, an address): a line break
or a tab in them is refused. In other fields (findings, reasons, scope) it is text."""


class UnsafeText(InputError):
    """Text holds a character that must not reach a document, the log or a terminal."""


def _why(ch: str, multiline: bool) -> str | None:
    if multiline and ch in "\n\t":
        return None
    category = unicodedata.category(ch)
    if category == "Cc":
        return N_("控制字符")
    if category == "Cf":
        return N_("不可见的格式字符（双向或零宽）")
    if category in ("Zl", "Zp") and not multiline:
        return N_("行分隔符")
    if category == "Cs":
        return N_("孤立的代理码位")
    if category == "Cn":
        return N_("未分配的码位")
    return None


def clean_text(value: str, field: str, where: str = "", *, limit: int | None = None,
               multiline: bool | None = None) -> str:
    """``value`` NFC-normalised, or ``UnsafeText`` naming ``where``/``field``, the character
    and its position (1-based), or the limit it exceeds."""
    text = unicodedata.normalize("NFC", value)
    maximum = limit or LIMITS.get(field, DEFAULT_LIMIT)
    if len(text) > maximum:
        raise UnsafeText(N_("{where}：字段 {field!r} 长 {n} 个字符，最多允许 {maximum} 个") if where
                         else N_("字段 {field!r} 长 {n} 个字符，最多允许 {maximum} 个"),
                         where=where, field=field, n=len(text), maximum=maximum)
    lines = field not in SINGLE_LINE if multiline is None else multiline
    if lines:
        text = text.replace("\r\n", "\n")
    for i, ch in enumerate(text, start=1):
        why = _why(ch, lines)
        if why:
            raise UnsafeText(N_("{where}：字段 {field!r} 的第 {i} 个字符是{why}（U+{code}）")
                             if where else N_("字段 {field!r} 的第 {i} 个字符是{why}（U+{code}）"),
                             where=where, field=field, i=i, why=Msg(why), code=f"{ord(ch):04X}")
    return text


def printable(value: object) -> str:
    """``value`` as text safe to print on a terminal: control and bidi characters shown as
    ``\\x1b``/``\\u202e`` escapes (for text read back from a PDF or an older database)."""
    text = str(value)
    if all(_why(ch, True) is None for ch in text):
        return text
    return "".join(ch if _why(ch, True) is None else
                   (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
                   for ch in text)


def _cjk(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(("CJK ", "IDEOGRAPHIC"))


def normalise_spaces(value: str) -> str:
    """``value`` with every space character (full-width U+3000, no-break U+00A0 …) NFKC-folded
    to one ASCII space, runs collapsed, ends trimmed, and no space left between two Chinese
    characters: a name typed with an IME space must not reach a certificate as ``某　公司``.
    Only spaces change (NFKC on the whole text would turn a name's （） into ()); the
    refusals of ``clean_text`` still apply to the result."""
    spaced = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in value)
    parts = spaced.split(" ")
    out = parts[0]
    for part in parts[1:]:
        if not part:
            continue
        if out and not (_cjk(out[-1]) and _cjk(part[0])):
            out += " "
        out += part
    return out.strip()
