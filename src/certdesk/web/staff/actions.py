"""What staff do to a certificate once issued: change its status, record a surveillance,
reissue, recertify — and the calendar sweep (a background job, ``job_pages``). Each form has
a preview (``preview`` set) that checks everything and saves nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session

from certdesk.common.errors import InputError
from certdesk.common.i18n import N_
from certdesk.documents.records import load_records
from certdesk.domain.coverage import parse_site_numbers
from certdesk.domain.guards import sweep_day
from certdesk.domain.scope import parse_site_scopes
from certdesk.services.certification import record_surveillance_report
from certdesk.services.cycle import (
    Changes,
    ReissuePreview,
    late_logged,
    main_certificate,
    recertify,
    record_surveillance,
    reissue,
    sweep,
)
from certdesk.services.issuing import IssuePreview, Issuer
from certdesk.services.jobs import sweep_input
from certdesk.services.publisher import Publisher
from certdesk.services.transitions import StatusPreview, change_status
from certdesk.web.i18n import _
from certdesk.web.staff import views
from certdesk.web.staff.deps import DeskDep, PublisherDep, issuer_for, posts
from certdesk.web.staff.forms import day, months, read_upload, required_day
from certdesk.web.staff.job_pages import SWEEP_LABELS, JobsDep
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import Desk, area_router

router = area_router()

StatusPost = Annotated[Current, Depends(posts("status"))]
SurveillancePost = Annotated[Current, Depends(posts("surveillance"))]
ReissuePost = Annotated[Current, Depends(posts("reissue"))]
RecertifyPost = Annotated[Current, Depends(posts("recertify"))]
SweepPost = Annotated[Current, Depends(posts("sweep"))]
Field = Annotated[str, Form()]


@router.post("/certificates/{number}/status", name="staff_change_status")
def status(request: Request, number: str, desk: DeskDep, current: StatusPost,
           publisher: PublisherDep, action: Field, reason: Field = "", on: Field = "",
           months_: Annotated[str, Form(alias="months")] = "", verified: Field = "",
           backdate_reason: Field = "", preview: Field = "") -> Response:
    if action not in views.STATUS_ACTIONS:
        raise InputError(N_("未知的状态操作“{action}”。"), action=action)
    change = change_status(publisher, number, action, reason, actor=current.user.name,
                           on=day(on, N_("生效日期")), months=months(months_),
                           verified=day(verified, N_("核实日期")),
                           backdate_reason=backdate_reason, dry_run=bool(preview))
    verb = _(views.STATUS_ACTIONS[action])
    if isinstance(change, StatusPreview):  # preview
        d = change.as_dict()
        return desk.done(request, current, _("预览（未保存）：将{verb} {numbers}，{on} 起生效",
                                             verb=verb, numbers=_("、").join(d["affected"]),
                                             on=d["on"])
                         + (_("，至 {until}", until=d["until"]) if d["until"] else "")
                         + (_("；补记 {days} 天", days=d["backdated_days"]) if d["backdated"]
                            else ""),
                         "staff_certificate", level="preview", number=number)
    late = _("注意：已超过规定时限（{late}）。", late=change.late) if change.late else ""
    return desk.done(request, current, _("已{verb}：{numbers}；通知书已签名归档。", verb=verb,
                                         numbers=_("、").join(change.affected)) + late,
                     "staff_certificate", number=number, level="warn" if late else "ok")


@router.post("/certificates/{number}/surveillance", name="staff_surveillance")
def surveillance(request: Request, number: str, desk: DeskDep, current: SurveillancePost,
                 publisher: PublisherDep, held: Field = "",
                 report: Annotated[UploadFile | None, File()] = None, sites: Field = "",
                 products: Field = "", preview: Field = "") -> Response:
    when = required_day(held, N_("监督审查日期"))
    visited = parse_site_numbers(sites, _("审查场所"))
    if report is None or not report.filename:  # the browser sends an empty part
        n = record_surveillance(desk.engine, desk.profiles, number, when, actor=current.user.name,
                                sites=visited, products=products, dry_run=bool(preview))
        return desk.done(request, current, _("预览（未保存）：可记录第 {n} 次监督审查（{held}）。",
                                             n=n, held=held)
                         if preview else _("已记录第 {n} 次监督审查（{held}）。", n=n, held=held),
                         "staff_certificate", number=number,
                         level="preview" if preview else "ok")
    name, records = read_upload(report, load_records, (".json",),
                                N_("请上传 .json 格式的审查报告（格式见 docs/templates.md）。"))
    n, kept, notice = record_surveillance_report(publisher, number, when, records, name,
                                                 actor=current.user.name, sites=visited,
                                                 products=products, dry_run=bool(preview))
    if kept is None:
        return desk.done(request, current, _("预览（未保存）：审查报告通过校验，可记录第 {n} 次"
                                             "监督审查（{held}）。", n=n, held=held),
                         "staff_certificate", number=number, level="preview")
    assert notice is not None, "signed and archived with the report"
    late = "；".join(late_logged(desk.engine, number, n))
    return desk.done(request, current, _("已记录第 {n} 次监督审查（{held}），审查报告 {report} "
                                         "及保持认证注册资格通知书 {notice} 已签名归档。", n=n,
                                         held=held, report=kept.filename,
                                         notice=notice.filename)
                     + (_("注意：已超过规定时限（{late}）。", late=late) if late else ""),
                     "staff_certificate", number=number, level="warn" if late else "ok")


def _changes(name: str, address: str, scope: str, grade: str, site_scopes: str,
             remove_sites: str) -> Changes:
    """A reissue's changes as the form states them (empty fields change nothing)."""
    removed = remove_sites.replace("，", ",").replace("、", ",").split(",")
    if not all(k.strip().isdigit() for k in removed if k.strip()):
        raise InputError(N_("移出的场所请填写序号，如“2,3”。"))
    return Changes(name.strip() or None, address.strip() or None, scope.strip() or None,
                   grade.strip() or None,
                   parse_site_scopes([line for line in site_scopes.splitlines()
                                      if line.strip()], _("场所范围")),
                   tuple(int(k) for k in removed if k.strip()))


def _issuer(desk: Desk, publisher: Publisher, number: str, current: Current) -> Issuer:
    """An issuer of the certificate's scheme; the lookup's session ends before the work."""
    with Session(desk.engine) as s:
        profile = main_certificate(s, number).profile
    return issuer_for(publisher, profile, current)


@router.post("/certificates/{number}/reissue", name="staff_reissue")
def reissue_(request: Request, number: str, desk: DeskDep, current: ReissuePost,
             publisher: PublisherDep, reason: Field = "", name: Field = "", address: Field = "",
             scope: Field = "", grade: Field = "", on: Field = "", site_scopes: Field = "",
             remove_sites: Field = "",
             preview: Field = "") -> Response:
    changes = _changes(name, address, scope, grade, site_scopes, remove_sites)
    with _issuer(desk, publisher, number, current) as issuer:
        certs = reissue(issuer, number, changes, reason, on=day(on, N_("换证日期")),
                        dry_run=bool(preview))
    if isinstance(certs, ReissuePreview):  # preview
        return desk.done(request, current, _("预览（未保存）：将换证 {numbers}（{on}），"
                                             "编号和有效期不变。",
                                             numbers=_("、").join(certs.certificates),
                                             on=certs.on), "staff_certificate",
                         level="preview", number=number)
    return desk.done(request, current, _("已换证：证书编号和有效期不变。"), "staff_certificate",
                     numbers=[c.number for c in certs], number=number)


@router.post("/certificates/{number}/recertify", name="staff_recertify")
def recertify_(request: Request, number: str, desk: DeskDep, current: RecertifyPost,
               publisher: PublisherDep, decision: Field = "", issue: Field = "",
               grade: Field = "", scope: Field = "", audit_end: Field = "",
               preview: Field = "") -> Response:
    with _issuer(desk, publisher, number, current) as issuer:
        certs = recertify(issuer, number, required_day(decision, N_("再认证决定日期")),
                          issue=day(issue, N_("签发日期")), grade=grade.strip() or None,
                          scope=scope.strip() or None,
                          audit_end=day(audit_end, N_("再认证审核结束日期")),
                          dry_run=bool(preview))
    if isinstance(certs, IssuePreview):  # preview
        return desk.done(request, current, _("预览（未取号、未保存）：下一个编号 {next}"
                                             "（共 {n} 份），有效期 {start} 至 {end}，"
                                             "原证书 {number} 将被取代。",
                                             next=certs.numbers[0], n=len(certs.numbers),
                                             start=certs.dates.effective_from,
                                             end=certs.dates.expiry_date, number=number),
                         "staff_certificate", level="preview", number=number)
    return desk.done(request, current, _("已再认证，原证书 {number} 已被取代。", number=number),
                     "staff_certificate", numbers=[c.number for c in certs],
                     number=certs[0].number)


@router.post("/sweep", name="staff_sweep")
def run_sweep(request: Request, desk: DeskDep, current: SweepPost, publisher: PublisherDep,
              jobs: JobsDep, on: Field = "", preview: Field = "") -> Response:
    when = day(on, N_("执行日期")) or desk.today()
    sweep_day(when, desk.today(), dry_run=bool(preview))  # refused now, not in the job
    actions = sweep(publisher, when, dry_run=True)
    if preview:
        return desk.done(request, current,
                         _("日历检查预览（{on}，未执行）：{n} 项将处理。", on=when, n=len(actions)),
                         "staff_due", level="preview",
                         details=[_("{action} {number}：{reason}",
                                    action=_(SWEEP_LABELS[a.action]), number=a.number,
                                    reason=a.reason) for a in actions])
    # Each suspension or revocation signs a notice: a background job, counted per action.
    job_id = jobs.submit("sweep", account=current.user.name, profile="",
                         input_name=f"日历检查 {when}", input_data=sweep_input(when),
                         total=len(actions))
    return desk.redirect(request, "staff_job", job_id=job_id)
