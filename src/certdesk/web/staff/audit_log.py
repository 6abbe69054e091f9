"""The audit trail page (``/staff/log``): who did what, when — the hash-chained log filtered
by account, action, subject and dates, newest first, in keyset pages, with the chain check
at the top and the current filter as CSV. For records officers and admins.

The chain check re-hashes the whole log: 4 s at 100,000 entries on a loaded 2-core machine,
too slow for every view. A check is reused for CHECK_TTL seconds, never longer, because an
entry edited in the database leaves the log head as it was — keying the check on the head
alone would hide exactly what this page must show. 重新校验 (``?recheck=1``) checks at once.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session

from certdesk.common.i18n import N_
from certdesk.store import trail
from certdesk.store.events import ChainReport, verify_chain
from certdesk.store.models import utcnow
from certdesk.web.staff.accounts import RESERVED_NAMES, list_users
from certdesk.web.staff.deps import DeskDep, RecordsOfficer, SessionDep
from certdesk.web.staff.forms import day
from certdesk.web.staff.web import area_router, download, query_int

CHECK_TTL = 300.0

router = area_router()


class ChainCheck:
    """The last chain check of this process, reused for CHECK_TTL seconds."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = threading.Lock()  # two views at once wait for one check, not run two
        self.last: tuple[float, datetime, ChainReport] | None = None

    def __call__(self, fresh: bool = False) -> tuple[datetime, ChainReport]:
        with self.lock:
            if fresh or self.last is None or time.monotonic() - self.last[0] > CHECK_TTL:
                with Session(self.engine) as s:
                    self.last = (time.monotonic(), utcnow(), verify_chain(s))
            return self.last[1], self.last[2]


def query_from(request: Request) -> trail.TrailQuery:
    p = request.query_params
    return trail.TrailQuery(
        actor=p.get("actor", "").strip() or None, kind=p.get("kind", "").strip() or None,
        subject=p.get("subject", "").strip() or None,
        since=day(p.get("since", ""), N_("起始日期")),
        until=day(p.get("until", ""), N_("截止日期")),
        limit=query_int(request, "limit", N_("每页条数")) or 50,
        before=query_int(request, "before", N_("翻页位置")))


def view_url(request: Request, route: str, q: trail.TrailQuery, **extra: object) -> str:
    params = q.as_params() | {k: str(v) for k, v in extra.items() if v is not None}
    path = request.url_for(route).path
    return f"{path}?{urlencode(params)}" if params else path


def get_check(request: Request) -> ChainCheck:
    check: ChainCheck = request.app.state.staff_chain_check
    return check


@router.get("/log", name="staff_log")
def log_page(request: Request, desk: DeskDep, s: SessionDep,
             check: Annotated[ChainCheck, Depends(get_check)],
             current: RecordsOfficer) -> Response:
    q = query_from(request)
    checked_at, chain = check(fresh=request.query_params.get("recheck") == "1")
    result = trail.page(s, q, desk.zone)
    kinds = trail.kinds(s)
    actors = sorted(RESERVED_NAMES | {u.name for u in list_users(desk.engine)})
    return desk.render(
        request, "audit_log.html", current, q=q, result=result, chain=chain,
        checked_at=checked_at, recheck_url=view_url(request, "staff_log", q, recheck=1),
        kinds=kinds, actors=actors, csv_url=view_url(request, "staff_log_csv", q),
        first_url=view_url(request, "staff_log", q) if q.before else None,
        next_url=(view_url(request, "staff_log", q, before=result.next_before)
                  if result.next_before else None))


@router.get("/log/export.csv", name="staff_log_csv")
def export(request: Request, desk: DeskDep, s: SessionDep, current: RecordsOfficer) -> Response:
    rows = trail.all_entries(s, query_from(request), desk.zone)
    return download(trail.csv_bytes(rows), f"审计日志-{desk.today()}.csv",
                    "text/csv; charset=utf-8")
