"""Unified social credit code (统一社会信用代码) check [GB 32100-2015].

18 characters from 0-9 and A-Z without I, O, Z, S, V; the last is a check character:
C18 = 31 - (Σ Ci·Wi mod 31), with Wi = 3^(i-1) mod 31, and 31 written as 0.
"""

from __future__ import annotations

from certdesk.common.errors import InvalidUSCC
from certdesk.common.i18n import N_

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Return the normalised code, or raise ``InvalidUSCC`` saying what is wrong."""
    norm = (code or "").strip().upper()
    if len(norm) != 18:
        raise InvalidUSCC(N_("统一社会信用代码 {code!r} 有 {n} 位，应为 18 位"), code=code,
                          n=len(norm))
    bad = sorted({c for c in norm if c not in _VALUE})
    if bad:
        raise InvalidUSCC(
            N_("统一社会信用代码 {code!r} 含有不允许的字符 {bad!r}（允许：0-9，及 I、O、Z、S、V "
               "以外的大写字母）"), code=code, bad="".join(bad))
    expected = check_character(norm[:17])
    if norm[17] != expected:
        raise InvalidUSCC(N_("统一社会信用代码 {code!r} 的校验码为 {got!r}，应为 {expected!r}"),
                          code=code, got=norm[17], expected=expected)
    return norm
