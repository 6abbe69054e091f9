"""A small register with one certificate in every state, put straight into the database
(and, when a store is given, a PDF for each), relative to today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from certdesk.store.models import Certificate, Organisation
from tests.store.conftest import make_pdf as pdf_bytes
from tests.store.conftest import make_uscc as uscc


@dataclass(frozen=True)
class Row:
    key: str
    profile: str
    name: str
    grade: str | None
    issued: int
    """Days from today (negative: in the past)."""
    expires: int
    stored: str


# key → what the register should call it today
ROWS = (
    Row("valid", "xbht", "北京恒信达家电售后服务有限公司", "五星级", -400, 700, "valid"),
    Row("soon", "zpic", "上海恒信通家电维修有限公司", None, -1000, 20, "valid"),
    Row("suspended", "xbht", "天津宏远家电服务有限公司", "四星级", -300, 400, "suspended"),
    Row("expired", "xbht", "广州嘉美家电服务有限公司", "五星级", -1100, -10, "valid"),
    Row("revoked", "zpic", "深圳华安家电服务有限公司", None, -200, 800, "revoked"),
    Row("not_yet_valid", "xbht", "杭州新联家电服务有限公司", "三星级", 5, 1100, "valid"),
    Row("superseded", "xbht", "南京众创家电服务有限公司", "四星级", -900, 100, "superseded"),
    Row("cancelled", "zpic", "成都盛和家电服务有限公司", None, -500, 600, "cancelled"),
)
EFFECTIVE = {r.key: r.key if r.key != "soon" else "valid" for r in ROWS}


def seed(engine, store=None, today: date | None = None) -> dict[str, str]:
    """The rows of ROWS as certificates; key → number."""
    today = today or date.today()
    numbers = {}
    with Session(engine) as s:
        for i, r in enumerate(ROWS, start=1):
            org = Organisation(uscc=uscc(i), name=r.name, registered_address="北京市")
            s.add(org)
            s.flush()
            issued = today + timedelta(days=r.issued)
            code = "FWF" if r.profile == "xbht" else "FWS"
            number = f"0273{issued.year % 100:02d}{code}{i:04d}R000"
            sha = store.put(pdf_bytes(number)) if store is not None else None
            s.add(Certificate(number=number, profile=r.profile, organisation_id=org.id,
                              holder_name=r.name, scope="家用电器的安装、维修", grade=r.grade,
                              decision_date=issued, issue_date=issued, effective_from=issued,
                              expiry_date=today + timedelta(days=r.expires), status=r.stored,
                              pdf_sha256=sha))
            numbers[r.key] = number
        s.commit()
    return numbers
