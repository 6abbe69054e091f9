"""Public search by organisation, as people search the national certification platform:
by the exact unified social credit code, or by the start of the holder's name (at least
four characters, so that the register cannot be listed out letter by letter).

Only what the certificates themselves print is returned: number, holder, scheme, dates and
the status today — the certificate page has the rest. Main certificates are listed; each
one's page lists its sub-certificates. The app's rate limit charges a search more than a
page view (``web.guards.SEARCH_COST``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from certdesk.common.errors import InvalidUSCC
from certdesk.common.i18n import N_
from certdesk.domain.profiles import Profiles
from certdesk.domain.status import effective_status
from certdesk.domain.uscc import validate_uscc
from certdesk.store.models import Certificate, Organisation
from certdesk.web.i18n import TEXT, Words, request_lang
from certdesk.web.public.deps import get_session
from certdesk.web.public.views import CHINA
from certdesk.web.responses import error_response, page

MIN_NAME = 4
MAX_RESULTS = 50

# The search page's words, joined to the public pages' (desk.web.i18n).
TEXT.update({
    "search_title": N_("按组织名称或信用代码查询"),
    "search_hint": N_("输入获证组织名称的开头（至少 4 个字），或完整的 18 位统一社会信用代码。"),
    "search_label": N_("组织名称或统一社会信用代码"),
    "search_button": N_("查询"),
    "search_too_short": N_("请至少输入组织名称的前 {n} 个字，或完整的统一社会信用代码。"),
    "search_bad_uscc": N_("“{code}” 不是有效的统一社会信用代码（校验位不符或含有不允许的字符）。"),
    "search_none": N_("没有找到与“{query}”相符的证书。"),
    "search_count": N_("找到 {count} 张证书。"),
    "search_more": N_("结果超过 {n} 条，只显示前 {n} 条；请输入更完整的名称。"),
})

router = APIRouter()


@dataclass(frozen=True)
class Hit:
    number: str
    holder: str
    scheme: str
    status: str
    issue_date: date
    expiry_date: date


@dataclass(frozen=True)
class SearchResult:
    query: str
    kind: str
    """uscc | name"""
    hits: tuple[Hit, ...]
    truncated: bool

    def as_dict(self) -> dict:
        return asdict(self)


class SearchRefused(ValueError):
    """The query cannot be searched: ``key`` names the message, ``params`` fill it."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def search(s: Session, profiles: Profiles, text: str, today: date) -> SearchResult:
    query = "".join(text.split())  # names and codes carry no spaces
    # A code typed on a Chinese keyboard may come full-width; a name keeps its own
    # characters (NFKC would turn its full-width brackets into ones no name is stored with).
    upper = unicodedata.normalize("NFKC", query).upper()
    where: ColumnElement[bool]
    if re.fullmatch(r"[0-9A-Z]{18}", upper):
        try:
            code = validate_uscc(upper)
        except InvalidUSCC:
            raise SearchRefused("search_bad_uscc", code=query) from None
        kind = "uscc"
        where = col(Certificate.organisation_id).in_(
            select(Organisation.id).where(Organisation.uscc == code))
    elif len(query) >= MIN_NAME:
        kind = "name"
        # A range, not LIKE: the (holder_name, id) index answers it, and % or _ typed by a
        # visitor are plain characters.
        where = (col(Certificate.holder_name) >= query) & (col(Certificate.holder_name)
                                                           < query + "\U0010ffff")
    else:
        raise SearchRefused("search_too_short", n=MIN_NAME)
    rows = s.exec(select(Certificate).where(where, col(Certificate.main_number).is_(None))
                  .order_by(Certificate.holder_name, Certificate.number)
                  .limit(MAX_RESULTS + 1)).all()
    hits = tuple(Hit(c.number, c.holder_name, profiles.get(c.profile).scheme.name,
                     effective_status(c.status, c.expiry_date, today, issued=c.issue_date),
                     c.issue_date, c.expiry_date) for c in rows[:MAX_RESULTS])
    return SearchResult(query, kind, hits, len(rows) > MAX_RESULTS)


SearchQuery = Annotated[str, Query(max_length=100, description="An exact credit code, or "
                                                                "the start of a name (4+).")]
SessionDep = Annotated[Session, Depends(get_session)]


@router.get("/search", include_in_schema=False)
def search_html(request: Request, session: SessionDep, q: SearchQuery = "",
                lang: str | None = None):
    words = Words(request_lang(request))
    if not q.strip():
        return page(request, "search.html", words, q="", result=None, refusal=None)
    try:
        result = search(session, request.app.state.profiles, q, datetime.now(CHINA).date())
    except SearchRefused as exc:
        return page(request, "search.html", words, 400, q=q, result=None,
                    refusal=words(exc.key, **exc.params))
    return page(request, "search.html", words, q=q, result=result, refusal=None,
                max_results=MAX_RESULTS)


@router.get("/api/v1/search", summary="Certificates by credit code or name (JSON)",
            responses={400: {"description": "Too short, or not a valid credit code"}})
def search_json(request: Request, session: SessionDep, q: SearchQuery):
    """Main certificates of the organisation with this exact credit code, or whose holder's
    name starts with ``q`` (at least 4 characters): number, holder, scheme, status today,
    dates. At most 50; ``truncated`` says there were more."""
    try:
        result = search(session, request.app.state.profiles, q, datetime.now(CHINA).date())
    except SearchRefused as exc:
        return error_response(request, 400, exc.key, **exc.params)
    return JSONResponse(jsonable_encoder(result.as_dict()))
