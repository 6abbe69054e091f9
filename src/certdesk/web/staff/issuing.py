"""Issuing certificates from an organisations file (``/staff/issue``) and certification
decisions from case files (``/staff/certify``). Each upload page hands out a one-time form
token: a preview leaves it unspent, a real submission spends it, so a second click or a
reload never issues twice. A real submission becomes a background job (``job_pages``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from certdesk.common.errors import InputError
from certdesk.documents.records import load_records
from certdesk.services.certification import certify_cases
from certdesk.services.inputs import Rejected, load_organisations
from certdesk.services.jobs import Jobs
from certdesk.web.staff import sessions
from certdesk.web.staff.deps import DeskDep, PublisherDep, issuer_for, posts, requires
from certdesk.web.staff.forms import known_profile, read_upload
from certdesk.web.staff.job_pages import JobsDep
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import area_router

router = area_router()

Issuing = Annotated[Current, Depends(requires("issue"))]
IssuePost = Annotated[Current, Depends(posts("issue"))]
Certifying = Annotated[Current, Depends(requires("certify"))]
CertifyPost = Annotated[Current, Depends(posts("certify"))]
Upload = Annotated[UploadFile, File()]


@router.get("/issue", name="staff_issue")
def issue_page(request: Request, desk: DeskDep, current: Issuing) -> Response:
    return desk.render(request, "issue.html", current, profiles=list(desk.profiles),
                       form_token=sessions.new_form_token(desk.engine, current))


@router.post("/issue")
def issue(request: Request, desk: DeskDep, current: IssuePost, publisher: PublisherDep,
          jobs: JobsDep,
          profile: Annotated[str, Form()], file: Upload, form_token: Annotated[str, Form()] = "",
          preview: Annotated[str, Form()] = "") -> Response:
    known_profile(desk.profiles, profile)
    name, records = read_upload(file, load_organisations, (".json", ".csv", ".xlsx"),
                                 "请上传 .json、.csv 或 .xlsx 文件"
                                 "（格式见 docs/input-format.md）。")
    orgs = [r for r in records if not isinstance(r, Rejected)]
    failed = [str(r.error) for r in records if isinstance(r, Rejected)]
    if not orgs:
        raise InputError("文件中没有可签发的记录：" + "；".join(failed))
    if preview:  # the form stays usable: its token is not spent
        with issuer_for(publisher, profile, current) as iss:
            planned = iss.preview_many(orgs)
        return desk.done(request, current, f"预览（未签发、未取号）：将签发 "
                         f"{len(planned.previews)} 张证书，跳过 {len(planned.skipped)} "
                         "个已持证组织",
                         "staff_issue", level="preview", details=[
                             *(f"{p.organisation}：下一个编号 {p.numbers[0]}（共 {len(p.numbers)} "
                               f"份），有效期 {p.dates.issue_date} 至 {p.dates.expiry_date}"
                               for p in planned.previews),
                             *(s.reason for s in planned.skipped),
                             *failed, *(f"{org}: {why}" for org, why in planned.failed)])
    if not sessions.use_form_token(desk.engine, current, form_token):
        raise InputError("这份签发表单已经提交过或已过期，请重新打开签发页面后再提交。")
    job_id = start_issue_job(jobs, current, profile, name, uploaded(file), len(orgs))
    return desk.redirect(request, "staff_job", job_id=job_id)


def uploaded(file: UploadFile) -> bytes:
    """The upload's bytes again, after ``read_upload`` parsed them (the job keeps them)."""
    file.file.seek(0)
    return file.file.read()


def start_issue_job(jobs: Jobs, current: Current, profile: str, name: str, data: bytes,
                    total: int) -> int:
    """Queue the issue of an organisations file (``total`` organisations to issue) as the
    signed-in account; the job's id (its page shows progress and result)."""
    return jobs.submit("issue", account=current.user.name, profile=profile, input_name=name,
                       input_data=data, total=total)


@router.get("/certify", name="staff_certify")
def certify_page(request: Request, desk: DeskDep, current: Certifying) -> Response:
    return desk.render(request, "certify.html", current, profiles=list(desk.profiles),
                       form_token=sessions.new_form_token(desk.engine, current))


@router.post("/certify")
def certify(request: Request, desk: DeskDep, current: CertifyPost, publisher: PublisherDep,
            jobs: JobsDep,
            profile: Annotated[str, Form()], file: Upload,
            form_token: Annotated[str, Form()] = "",
            preview: Annotated[str, Form()] = "") -> Response:
    known_profile(desk.profiles, profile)
    name, cases = read_upload(file, load_records, (".json",),
                              "请上传 .json 案卷文件（格式见 docs/lifecycle.md）。")
    if preview:
        with issuer_for(publisher, profile, current) as iss:
            planned = certify_cases(iss, cases, name, dry_run=True)
        return desk.done(request, current, "预览（未签名、未取号、未归档）："
                         f"{len(planned.certified)} 份案卷通过校验", "staff_certify",
                         level="preview", details=[
                             *(f"{c.name}：{c.outcome}；将归档 {len(c.records)} 份记录"
                               + (f"；下一个证书编号 {c.certificates.numbers[0]}"
                                  if c.certificates else "") for c in planned.certified),
                             *(f"{where}: {why}" for where, why in planned.failed)])
    if not sessions.use_form_token(desk.engine, current, form_token):
        raise InputError("这份认证决定表单已经提交过或已过期，请重新打开页面后再提交。")
    job_id = jobs.submit("certify", account=current.user.name, profile=profile,
                         input_name=name, input_data=uploaded(file), total=len(cases))
    return desk.redirect(request, "staff_job", job_id=job_id)
