"""The XBHT-style certificate number grammar [XBHT annex A].

``{body code}{year}{scheme}{sequence}R{cycle}{accreditation code}[-{sub}]``, printed with
optional spaces between the parts: ``0273 26 FWF 0001 R0 00 -1``.
Pure: values in, values out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from certdesk.common.errors import InvalidNumber
from certdesk.common.i18n import N_

SCHEMES: dict[str, str] = {
    "FWA": "商品售后服务认证",
    "FWD": "物业服务认证",
    "FWE": "保安服务认证",
    "FWF": "商品售后服务成熟度评价服务认证",
    "FWK": "合同能源管理服务认证",
}

# Year is always two digits, so the digits before the scheme split unambiguously into a
# 3/4-digit body code and the year; the accreditation code is the last two digits after R.
_NUMBER = re.compile(
    r"(?P<body>F\d{3}|\d{3,4})(?P<year>\d{2})(?P<scheme>FW[A-Z])(?P<seq>\d{4,5})"
    r"R(?P<cycle>\d{1,2})(?P<acc>\d{2})(?:[-—–](?P<sub>[1-9]\d{0,2}))?"
)
_APPROVAL = re.compile(r"CNCA-(?P<kind>RF?)-(?P<year>\d{4})-(?P<serial>\d{1,4})")


@dataclass(frozen=True, order=True)
class CertNumber:
    body_code: str
    year: int
    scheme: str
    sequence: str
    cycle: int = 0
    accreditation_code: str = "00"
    sub: int | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"F\d{3}|\d{3,4}", self.body_code):
            raise InvalidNumber(N_("机构代码 {code!r} 应为 3-4 位数字，或 F 加 3 位数字"),
                                code=self.body_code)
        if not 0 <= self.year <= 99:
            raise InvalidNumber(N_("年份 {year} 应为两位数字"), year=self.year)
        if self.scheme not in SCHEMES:
            raise InvalidNumber(N_("认证类别代码 {scheme!r} 不在 {schemes} 之中"),
                                scheme=self.scheme, schemes=", ".join(SCHEMES))
        if not re.fullmatch(r"\d{4,5}", self.sequence) or int(self.sequence) == 0:
            raise InvalidNumber(N_("流水号 {sequence!r} 应为 4-5 位数字，且不能全为 0"),
                                sequence=self.sequence)
        if not 0 <= self.cycle <= 99:
            raise InvalidNumber(N_("认证周期 R{cycle} 应在 0-99 之间"), cycle=self.cycle)
        if not re.fullmatch(r"\d{2}", self.accreditation_code):
            raise InvalidNumber(N_("认可代码 {code!r} 应为两位数字"),
                                code=self.accreditation_code)
        if self.sub is not None and not 1 <= self.sub <= 999:
            raise InvalidNumber(N_("子证书序号 {sub} 应在 1-999 之间"), sub=self.sub)

    def __str__(self) -> str:
        return self.format()

    def format(self, spaced: bool = False) -> str:
        parts = [
            self.body_code,
            f"{self.year:02d}",
            self.scheme,
            self.sequence,
            f"R{self.cycle}",
            self.accreditation_code,
        ]
        text = " ".join(parts) if spaced else "".join(parts)
        if self.sub is not None:
            text += f" -{self.sub}" if spaced else f"-{self.sub}"
        return text

    @property
    def main(self) -> CertNumber:
        """The main certificate's number (itself when this is not a sub-certificate)."""
        return replace(self, sub=None)

    def with_sub(self, sub: int) -> CertNumber:
        return replace(self, sub=sub)

    def next_cycle(self) -> CertNumber:
        return replace(self, cycle=self.cycle + 1, sub=None)

    def as_dict(self) -> dict[str, object]:
        return {
            "body_code": self.body_code,
            "year": self.year,
            "scheme": self.scheme,
            "sequence": self.sequence,
            "cycle": self.cycle,
            "accreditation_code": self.accreditation_code,
            "sub": self.sub,
        }


def parse(text: str) -> CertNumber:
    """Parse a number, tolerating the spaces of the printed form; raise ``InvalidNumber``."""
    compact = re.sub(r"\s+", "", text or "").upper()
    if not compact:
        raise InvalidNumber(N_("证书编号为空"))
    m = _NUMBER.fullmatch(compact)
    if not m:
        raise InvalidNumber(
            N_("{text!r} 不是证书编号（应如 027326FWF0001R000 或 0273 26 FWF 0001 R0 00 -1）"),
            text=text.strip())
    return CertNumber(
        body_code=m["body"],
        year=int(m["year"]),
        scheme=m["scheme"],
        sequence=m["seq"],
        cycle=int(m["cycle"]),
        accreditation_code=m["acc"],
        sub=int(m["sub"]) if m["sub"] else None,
    )


def body_code_from_approval(approval_number: str) -> str:
    """``CNCA-R-2002-273`` → ``273`` / ``0273`` kept as printed; ``CNCA-RF-2010-7`` → ``F007``.

    Domestic bodies use the 3- or 4-digit serial as printed (padded to 3); foreign bodies
    use F + the last three digits, zero-padded [XBHT A.1 note].
    """
    m = _APPROVAL.fullmatch((approval_number or "").strip().upper())
    if not m:
        raise InvalidNumber(N_("批准号 {number!r} 不符合 CNCA-R[F]-YYYY-NNN 格式"),
                            number=approval_number)
    serial = m["serial"]
    if m["kind"] == "RF":
        return "F" + serial[-3:].zfill(3)
    return serial.zfill(3)
