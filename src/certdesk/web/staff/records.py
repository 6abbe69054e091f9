"""Records into the archive (scanned signed originals, Word files), and retention: records
past their keeping period, disposal proposed by one records officer and approved or
rejected by another."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import col, select

from certdesk.common.errors import CertdeskError
from certdesk.common.i18n import N_
from certdesk.services.disposal import approve, disposal_dict, due_records, propose, reject
from certdesk.services.ingest import take_in
from certdesk.services.publisher import Publisher
from certdesk.store.db import session_scope
from certdesk.store.models import Disposal
from certdesk.store.records import RECORD_TYPES, Filing, check_type, resolve_filing
from certdesk.web.i18n import _, current_lang, record_type_label
from certdesk.web.staff.accounts import check_second_officer
from certdesk.web.staff.deps import DeskDep, PublisherDep, RecordsOfficer, SessionDep, posts
from certdesk.web.staff.forms import day, known_profile, upload_bytes
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import Desk, area_router

router = area_router()

RecordsPost = Annotated[Current, Depends(posts("records"))]


def _take_all(desk: Desk, publisher: Publisher, files: list[UploadFile], record_type: str,
              filing: Filing, signer: str | None, actor: str) -> tuple[list[str], list[str]]:
    """Archive each file (one bad file does not stop the others): lines added, lines failed."""
    added, failed = [], []
    for upload in files:
        try:
            name, raw = upload_bytes(upload)
            got = take_in(desk.engine, desk.store, desk.settings, publisher.pool, raw, name,
                          record_type=record_type, filing=filing, signer=signer, actor=actor)
            added.append(got.filename if got.new
                         else _("{name}（此前已归档，未重复保存）", name=got.filename))
        except CertdeskError as exc:
            failed.append(exc.text(current_lang()))
    return added, failed


@router.post("/records", name="staff_add_records")
def add_records(request: Request, desk: DeskDep, s: SessionDep, current: RecordsPost,
                publisher: PublisherDep, record_type: Annotated[str, Form()],
                files: Annotated[list[UploadFile], File()],
                certificate: Annotated[str, Form()] = "", client: Annotated[str, Form()] = "",
                signer: Annotated[str, Form()] = "") -> Response:
    """Records made elsewhere into the archive, filed under the certificate or client whose
    page the form is on."""
    check_type(record_type)
    filing = resolve_filing(s, desk.profiles, certificate=certificate or None,
                            client=client or None, profile=None)
    added, failed = _take_all(desk, publisher, files, record_type, filing,
                              signer.strip() or None, current.user.name)
    text = _("已归档 {n} 份{kind}", n=len(added), kind=record_type_label(record_type))
    if failed:
        text += _("；{n} 份未归档", n=len(failed))
    level = "error" if failed else "ok"
    if filing.certificate_number:
        return desk.done(request, current, text, "staff_certificate", details=added + failed,
                         level=level, number=filing.certificate_number)
    return desk.done(request, current, text, "staff_client", details=added + failed,
                     level=level, org_id=filing.organisation_id)


@router.get("/retention", name="staff_retention")
def retention(request: Request, desk: DeskDep, s: SessionDep, current: RecordsOfficer,
              on: str = "", profile: str = "") -> Response:
    when = day(on, N_("参考日期")) or desk.today()
    if profile:
        known_profile(desk.profiles, profile)
    due = due_records(s, desk.profiles, when, profile or None)
    proposals = [disposal_dict(s, d) for d in s.exec(
        select(Disposal).where(Disposal.status == "proposed").order_by(col(Disposal.id)))]
    return desk.render(request, "retention.html", current, due=due, proposals=proposals,
                       on=when, profile=profile, profiles=list(desk.profiles),
                       record_types=RECORD_TYPES)


@router.post("/retention/propose", name="staff_propose_disposal")
def propose_disposal(request: Request, desk: DeskDep, current: RecordsPost,
                     records: Annotated[list[int], Form()] = [],  # noqa: B006 (FastAPI copies)
                     reason: Annotated[str, Form()] = "") -> Response:
    with session_scope(desk.engine) as s:
        proposal = propose(s, desk.profiles, records, by=current.user.name, reason=reason,
                           today=desk.today())
        number = proposal.id
    return desk.done(request, current, _("已提出销毁申请 {number}（{n} 份记录），"
                                         "需由另一名档案管理员批准。", number=number,
                                         n=len(records)), "staff_retention")


@router.post("/retention/{disposal_id}/approve", name="staff_approve_disposal")
def approve_disposal(request: Request, disposal_id: int, desk: DeskDep,
                     current: RecordsPost, publisher: PublisherDep) -> Response:
    check_second_officer(desk.engine, disposal_id, current.user.name)
    result = approve(publisher, disposal_id, by=current.user.name, today=desk.today())
    return desk.done(request, current, _("销毁申请 {number} 已批准：{n} 份记录已销毁，"
                                         "销毁证明已签名归档（记录 {record}）。",
                                         number=disposal_id, n=len(result.records),
                                         record=result.certificate_record),
                     "staff_retention")


@router.post("/retention/{disposal_id}/reject", name="staff_reject_disposal")
def reject_disposal(request: Request, disposal_id: int, desk: DeskDep, current: RecordsPost,
                    reason: Annotated[str, Form()] = "") -> Response:
    check_second_officer(desk.engine, disposal_id, current.user.name)
    with session_scope(desk.engine) as s:
        reject(s, disposal_id, by=current.user.name, reason=reason)
    return desk.done(request, current, _("销毁申请 {number} 已驳回，记录继续保存。",
                                         number=disposal_id),
                     "staff_retention")
