"""Public notices (公告) of suspended, revoked and cancelled certificates [CACQ 9.3 "在机构网站
上公布相关信息"; ZPIC 7.3.2; DNI 撤销认证资格…并公告].

One notice per status change: a main certificate and the sub-certificates that followed it
are one notice, as the signed notice letter names them together. Only what the certificates
themselves state is shown (holder, numbers, scope) with the date and the kind of change —
never the reason or who made it, like the certificate page.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select

from certdesk.documents.context import full_scope
from certdesk.domain.profiles import Profiles
from certdesk.domain.status import effective_status
from certdesk.store.ledger import CHINA, event_date
from certdesk.store.models import Certificate, Event
from certdesk.web.i18n import Words, request_lang
from certdesk.web.public.deps import get_session
from certdesk.web.responses import page

ACTIONS = ("suspend", "revoke", "cancel")
PAGE_SIZE = 20

router = APIRouter()


@dataclass(frozen=True)
class Notice:
    anchor: str
    on: date
    action: str
    """suspend | revoke | cancel"""
    holder: str
    numbers: tuple[str, ...]
    """The certificates it names, main certificate first."""
    scope: str
    status: str
    """The first certificate's status today (a suspension may have been lifted since)."""


@dataclass(frozen=True)
class NoticePage:
    notices: tuple[Notice, ...]
    page: int
    pages: int
    total: int
    number: str | None


def all_notices(s: Session, profiles: Profiles, today: date) -> list[Notice]:
    """Every notice, newest first (by the date it took effect, then by log order)."""
    groups: dict[str, list[Event]] = {}
    for ev in s.exec(select(Event)
                     .where(col(Event.kind).in_([f"certificate.{a}" for a in ACTIONS]))
                     .order_by(col(Event.seq))):
        ref = json.loads(ev.data).get("notice") or f"entry-{ev.seq}"
        groups.setdefault(f"{ev.kind}:{ref}", []).append(ev)
    out = []
    for group in groups.values():
        first = group[0]
        numbers = tuple(sorted({e.subject for e in group}))
        cert = s.exec(select(Certificate).where(Certificate.number == numbers[0])).one()
        out.append((first.seq, Notice(
            anchor=f"n{first.seq}", on=event_date(first, json.loads(first.data)),
            action=first.kind.removeprefix("certificate."), holder=cert.holder_name,
            numbers=numbers, scope=full_scope(profiles.get(cert.profile), cert.scope),
            status=effective_status(cert.status, cert.expiry_date, today,
                                          issued=cert.issue_date))))
    out.sort(key=lambda pair: (pair[1].on, pair[0]), reverse=True)
    return [n for _, n in out]


def notice_page(s: Session, profiles: Profiles, page_no: int, number: str | None,
                today: date) -> NoticePage:
    notices = all_notices(s, profiles, today)
    if number:
        notices = [n for n in notices if number in n.numbers]
    pages = max(1, -(-len(notices) // PAGE_SIZE))
    page_no = min(max(page_no, 1), pages)
    start = (page_no - 1) * PAGE_SIZE
    return NoticePage(tuple(notices[start:start + PAGE_SIZE]), page_no, pages, len(notices),
                      number)


PageQuery = Annotated[int, Query(alias="page", ge=1, description="Page, 20 notices each.")]
NumberQuery = Annotated[str | None, Query(max_length=64,
                                          description="Only this certificate's notices.")]


def _page(request: Request, session: Session, page_no: int,
          number: str | None) -> NoticePage:
    return notice_page(session, request.app.state.profiles, page_no,
                       (number or "").strip().upper() or None, datetime.now(CHINA).date())


@router.get("/notices", include_in_schema=False)
def notices_html(request: Request, session: Annotated[Session, Depends(get_session)],
                 lang: str | None = None, page_no: PageQuery = 1, number: NumberQuery = None):
    """The public notices, newest first, 20 a page; ``number`` keeps one certificate's."""
    return page(request, "notices.html", Words(request_lang(request)),
                result=_page(request, session, page_no, number))


@router.get("/api/v1/notices", summary="Notices of suspended, revoked, cancelled certificates")
def notices_json(request: Request, session: Annotated[Session, Depends(get_session)],
                 page_no: PageQuery = 1, number: NumberQuery = None):
    """The public notices as JSON, newest first: date, action (suspend / revoke / cancel),
    holder, certificate numbers, scope and today's status."""
    return JSONResponse(jsonable_encoder(asdict(_page(request, session, page_no, number))))
