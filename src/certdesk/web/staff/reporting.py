"""Staff pages of the reporting ledger, for records officers and admins: items the regulator
(认监委) must still hear of, export batches to download and mark sent, and revoked or
cancelled certificates still to come back (``certdesk report`` / ``certdesk returns``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session

from certdesk.common.errors import InputError, NotFound
from certdesk.services.reporting import batch_file
from certdesk.store import reporting
from certdesk.store.db import session_scope
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import Desk, download

MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8", "json": "application/json"}


def warnings(s: Session, today: date) -> dict[str, int]:
    """What the desk's home warns of: overdue report items, certificates not returned."""
    return {"report_overdue": len(reporting.overdue(s, today)),
            "returns_outstanding": len(reporting.returns(s))}


def add_routes(router: APIRouter, desk: Desk, engine: Engine,
               done: Callable[..., Response], day: Callable[..., date | None]) -> None:
    """Register the pages on the staff router (before its catch-all route)."""
    officer = Depends(desk.requires("records"))

    @router.get("/reporting", name="staff_reporting")
    def reporting_page(request: Request, current: Current = officer) -> Response:
        today = desk.today()
        with Session(engine) as s:
            items = [reporting.item_dict(i, today) for i in reporting.unsent(s)]
            batches = [reporting.batch_dict(s, b) for b in reporting.batches(s)[:20]]
        return desk.render(request, "reporting.html", current, items=items, batches=batches)

    @router.post("/reporting/export", name="staff_report_export")
    def export(request: Request, include_sent: bool = Form(False),
               current: Current = Depends(desk.posts("records"))) -> Response:
        with session_scope(engine) as s:
            batch, items = reporting.new_batch(s, current.user.name, include_sent=include_sent)
            number = batch.id
        return done(request, current, f"已生成报送批次 {number}（{len(items)} 项）。请下载文件"
                    "上报，上报后点击“标记为已报送”。", "staff_reporting")

    @router.get("/reporting/batches/{batch_id}.{fmt}", name="staff_report_file")
    def batch_download(batch_id: int, fmt: str, current: Current = officer) -> Response:
        if fmt not in MEDIA:
            raise NotFound("页面不存在。")
        name, data = batch_file(engine, desk.profiles, batch_id, f".{fmt}")
        return download(data, name, MEDIA[fmt])

    @router.post("/reporting/batches/{batch_id}/sent", name="staff_report_sent")
    def mark_sent(request: Request, batch_id: int,
                  current: Current = Depends(desk.posts("records"))) -> Response:
        with session_scope(engine) as s:
            marked = reporting.mark_sent(s, batch_id, current.user.name)
        note = f"（另有 {len(marked.already_sent)} 项此前已报送）" if marked.already_sent else ""
        return done(request, current, f"批次 {batch_id} 已标记为已报送：{len(marked.marked)} 项"
                    f"{note}。", "staff_reporting")

    @router.get("/returns", name="staff_returns")
    def returns_page(request: Request, current: Current = officer) -> Response:
        with Session(engine) as s:
            rows = reporting.returns(s, outstanding_only=False)
        return desk.render(request, "returns.html", current,
                           outstanding=[r for r in rows if r.status == "outstanding"],
                           closed=[r for r in reversed(rows) if r.status != "outstanding"][:50],
                           labels=reporting.EVENT_LABELS, outcomes=reporting.RETURN_OUTCOMES)

    @router.post("/returns/record", name="staff_record_return")
    def record_return(request: Request, numbers: list[str] = Form(default=[]),
                      on: str = Form(""), how: str = Form(""), outcome: str = Form("returned"),
                      current: Current = Depends(desk.posts("records"))) -> Response:
        if not numbers:
            raise InputError("请勾选至少一张证书。")
        with session_scope(engine) as s:
            closed = reporting.record_return(
                s, numbers, day(on, "日期", required=True), how, current.user.name,
                outcome=outcome, today=desk.today())
            done_numbers = [r.certificate_number for r in closed]
        return done(request, current, f"已登记 {len(done_numbers)} 张证书"
                    f"{reporting.RETURN_OUTCOMES.get(outcome, '')}。", "staff_returns",
                    numbers=done_numbers)
