"""The audit trail page (``/staff/log``): who did what, when — the hash-chained log filtered
by account, action, subject and dates, newest first, in keyset pages, with the chain check
at the top and the current filter as CSV. For records officers and admins.

The chain is re-checked on every view rather than cached on the log head: an entry edited
in the database leaves the head as it was, and that is exactly what this page must show.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session

from archive import trail
from archive.events import verify_chain
from common.errors import InputError
from desk.staff.accounts import RESERVED_NAMES, list_users
from desk.staff.sessions import Current
from desk.staff.web import Desk, download


def query_from(request: Request, day: Callable[..., date | None]) -> trail.TrailQuery:
    p = request.query_params

    def number(key: str, label: str) -> int | None:
        text = p.get(key, "").strip()
        if not text:
            return None
        if not text.isdigit():
            raise InputError(f"{label}“{text}”应为整数。")
        return int(text)

    return trail.TrailQuery(
        actor=p.get("actor", "").strip() or None, kind=p.get("kind", "").strip() or None,
        subject=p.get("subject", "").strip() or None,
        since=day(p.get("since", ""), "起始日期"), until=day(p.get("until", ""), "截止日期"),
        limit=number("limit", "每页条数") or 50, before=number("before", "翻页位置"))


def view_url(request: Request, route: str, q: trail.TrailQuery, **extra: object) -> str:
    params = q.as_params() | {k: str(v) for k, v in extra.items() if v is not None}
    path = request.url_for(route).path
    return f"{path}?{urlencode(params)}" if params else path


def add_routes(router: APIRouter, desk: Desk, engine: Engine,
               day: Callable[..., date | None]) -> None:
    """Register the pages on the staff router (before its catch-all route)."""
    officer = Depends(desk.requires("records"))

    @router.get("/log", name="staff_log")
    def log_page(request: Request, current: Current = officer) -> Response:
        q = query_from(request, day)
        with Session(engine) as s:
            chain = verify_chain(s)
            result = trail.page(s, q, desk.zone)
            kinds = trail.kinds(s)
        actors = sorted(RESERVED_NAMES | {u.name for u in list_users(engine)})
        return desk.render(
            request, "audit_log.html", current, q=q, result=result, chain=chain, kinds=kinds,
            actors=actors, csv_url=view_url(request, "staff_log_csv", q),
            first_url=view_url(request, "staff_log", q) if q.before else None,
            next_url=(view_url(request, "staff_log", q, before=result.next_before)
                      if result.next_before else None))

    @router.get("/log/export.csv", name="staff_log_csv")
    def export(request: Request, current: Current = officer) -> Response:
        q = query_from(request, day)
        with Session(engine) as s:
            rows = trail.all_entries(s, q, desk.zone)
        return download(trail.csv_bytes(rows), f"审计日志-{desk.today()}.csv",
                        "text/csv; charset=utf-8")
