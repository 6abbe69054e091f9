"""Staff pages of the reporting ledger, for records officers and admins: items the regulator
(认监委) must still hear of, export batches to download and mark sent, and revoked or
cancelled certificates still to come back (``certdesk report`` / ``certdesk returns``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from certdesk.common.errors import InputError, NotFound
from certdesk.common.i18n import N_
from certdesk.services.reporting import batch_file
from certdesk.store import reporting
from certdesk.store.db import session_scope
from certdesk.web.i18n import _
from certdesk.web.staff.deps import DeskDep, RecordsOfficer, SessionDep, posts
from certdesk.web.staff.forms import required_day
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import area_router, download

MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8", "json": "application/json"}


router = area_router()

RecordsPost = Annotated[Current, Depends(posts("records"))]


def warnings(s: Session, today: date) -> dict[str, int]:
    """What the desk's home warns of: overdue report items, certificates not returned."""
    return {"report_overdue": len(reporting.overdue(s, today)),
            "returns_outstanding": len(reporting.returns(s))}


@router.get("/reporting", name="staff_reporting")
def reporting_page(request: Request, desk: DeskDep, s: SessionDep,
                   current: RecordsOfficer) -> Response:
    today = desk.today()
    items = [reporting.item_dict(i, today) for i in reporting.unsent(s)]
    batches = [reporting.batch_dict(s, b) for b in reporting.batches(s)[:20]]
    return desk.render(request, "reporting.html", current, items=items, batches=batches)


@router.post("/reporting/export", name="staff_report_export")
def export(request: Request, desk: DeskDep, current: RecordsPost,
           include_sent: Annotated[bool, Form()] = False) -> Response:
    with session_scope(desk.engine) as s:
        batch, items = reporting.new_batch(s, current.user.name, include_sent=include_sent)
        number = batch.id
    return desk.done(request, current, _("已生成报送批次 {number}（{n} 项）。请下载文件"
                                         "上报，上报后点击“标记为已报送”。", number=number,
                                         n=len(items)), "staff_reporting")


@router.get("/reporting/batches/{batch_id}.{fmt}", name="staff_report_file")
def batch_download(batch_id: int, fmt: str, desk: DeskDep,
                   current: RecordsOfficer) -> Response:
    if fmt not in MEDIA:
        raise NotFound(N_("页面不存在。"))
    name, data = batch_file(desk.engine, desk.profiles, batch_id, f".{fmt}")
    return download(data, name, MEDIA[fmt])


@router.post("/reporting/batches/{batch_id}/sent", name="staff_report_sent")
def mark_sent(request: Request, batch_id: int, desk: DeskDep, current: RecordsPost) -> Response:
    with session_scope(desk.engine) as s:
        marked = reporting.mark_sent(s, batch_id, current.user.name)
    note = (_("（另有 {n} 项此前已报送）", n=len(marked.already_sent)) if marked.already_sent
            else "")
    return desk.done(request, current, _("批次 {number} 已标记为已报送：{n} 项", number=batch_id,
                                         n=len(marked.marked)) + note + _("。"),
                     "staff_reporting")


@router.get("/returns", name="staff_returns")
def returns_page(request: Request, desk: DeskDep, s: SessionDep,
                 current: RecordsOfficer) -> Response:
    rows = reporting.returns(s, outstanding_only=False)
    return desk.render(request, "returns.html", current,
                       outstanding=[r for r in rows if r.status == "outstanding"],
                       closed=[r for r in reversed(rows) if r.status != "outstanding"][:50],
                       labels=reporting.EVENT_LABELS, outcomes=reporting.RETURN_OUTCOMES)


@router.post("/returns/record", name="staff_record_return")
def record_return(request: Request, desk: DeskDep, current: RecordsPost,
                  numbers: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies)
                  on: Annotated[str, Form()] = "", how: Annotated[str, Form()] = "",
                  outcome: Annotated[str, Form()] = "returned") -> Response:
    if not numbers:
        raise InputError(N_("请勾选至少一张证书。"))
    with session_scope(desk.engine) as s:
        closed = reporting.record_return(
            s, numbers, required_day(on, N_("日期")), how, current.user.name,
            outcome=outcome, today=desk.today())
        done_numbers = [r.certificate_number for r in closed]
    return desk.done(request, current, _("已登记 {n} 张证书{outcome}。", n=len(done_numbers),
                                         outcome=_(reporting.RETURN_OUTCOMES.get(outcome, ""))),
                     "staff_returns",
                     numbers=done_numbers)
