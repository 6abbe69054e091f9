"""Issuing certificates from an organisations file (``/staff/issue``: upload, a per-row
preview, then "issue these N") and certification decisions from case files
(``/staff/certify``). Each upload page hands out a one-time form token: a preview leaves it
unspent, a real submission spends it, so a second click or a reload never issues twice.
The issue itself runs as a background job (``job_pages``)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from certdesk.common.errors import InputError, NotFound
from certdesk.common.i18n import N_
from certdesk.documents.records import load_records
from certdesk.services.certification import certify_cases
from certdesk.services.import_plan import plan_rows
from certdesk.services.import_template import MEDIA_TYPES, template_bytes
from certdesk.services.inputs import Rejected, load_organisations
from certdesk.web.i18n import _, current_lang
from certdesk.web.staff import sessions, staging
from certdesk.web.staff.deps import DeskDep, PublisherDep, issuer_for, posts, requires
from certdesk.web.staff.forms import known_profile, load_upload, upload_bytes
from certdesk.web.staff.job_pages import JobsDep
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import area_router, download

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


@router.get("/issue/template.{suffix}", name="staff_issue_template")
def template(current: Issuing, suffix: str) -> Response:
    """The template sheet with the loader's Chinese headers and an example row."""
    if f".{suffix}" not in MEDIA_TYPES:
        raise NotFound(N_("模板只有 .xlsx 和 .csv 两种。"))
    return download(template_bytes(f".{suffix}", current_lang()),
                    _("组织导入模板.{suffix}", suffix=suffix),
                    MEDIA_TYPES[f".{suffix}"])


@router.post("/issue")
def upload(request: Request, desk: DeskDep, current: IssuePost, publisher: PublisherDep,
           profile: Annotated[str, Form()], file: Upload,
           form_token: Annotated[str, Form()] = "") -> Response:
    """Read the file, find each row's fate, keep the file for the confirmation and show the
    rows; nothing is drawn or stored, and the form's token stays unspent."""
    known_profile(desk.profiles, profile)
    name, data = upload_bytes(file)
    records = load_upload(name, data, load_organisations, (".json", ".csv", ".xlsx"),
                          N_("请上传 .json、.csv 或 .xlsx 文件（格式见 docs/input-format.md）。"))
    with issuer_for(publisher, profile, current) as iss:
        rows = plan_rows(iss, records)
    staged = staging.stage(desk.engine, current, filename=name, profile=profile, data=data,
                           form_token=form_token,
                           rows=[r.as_dict(current_lang()) for r in rows])
    return desk.redirect(request, "staff_issue_preview", key=staged.key)


@router.get("/issue/preview/{key}", name="staff_issue_preview")
def preview_page(request: Request, desk: DeskDep, current: Issuing, key: str) -> Response:
    staged = staging.load(desk.engine, current, key)
    ok = [r for r in staged.rows if r["state"] == "ok"]
    return desk.render(request, "issue_preview.html", current, staged=staged, ok=ok,
                       counts={s: sum(r["state"] == s for r in staged.rows)
                               for s in ("ok", "error", "held")},
                       profile=desk.profiles.get(staged.profile))


@router.post("/issue/confirm", name="staff_issue_confirm")
def confirm(request: Request, desk: DeskDep, current: IssuePost, jobs: JobsDep,
            key: Annotated[str, Form()], digest: Annotated[str, Form()],
            rows: Annotated[str, Form()], form_token: Annotated[str, Form()] = "") -> Response:
    """Issue exactly the rows the preview showed as issuable, from the file kept for it."""
    staged = staging.load(desk.engine, current, key)
    if hashlib.sha256(staged.data).hexdigest() != digest or staged.sha256 != digest:
        raise InputError(N_("预览之后，暂存的文件已改变，未签发。请重新上传文件并预览。"))
    chosen = {int(r) for r in rows.split(",") if r.isdigit()}
    if chosen != {r["row"] for r in staged.rows if r["state"] == "ok"}:
        raise InputError(N_("提交的记录与预览不一致，未签发。请重新上传文件并预览。"))
    records = load_upload(staged.filename, staged.data, load_organisations,
                          (".json", ".csv", ".xlsx"), "")
    orgs = [rec for i, rec in enumerate(records, start=1) if i in chosen]
    if any(isinstance(rec, Rejected) for rec in orgs) or len(orgs) != len(chosen):
        raise InputError(N_("预览之后文件的读取结果已改变，未签发。请重新上传文件并预览。"))
    if not sessions.use_form_token(desk.engine, current, form_token):
        raise InputError(N_("这份签发表单已经提交过或已过期，请重新打开签发页面后再提交。"))
    staging.drop(desk.engine, key)
    # the job reads the same file (its digest checked above): the rows issued are the ones shown
    job_id = jobs.submit("issue", account=current.user.name, profile=staged.profile,
                         input_name=staged.filename, input_data=staged.data, total=len(orgs))
    return desk.redirect(request, "staff_job", job_id=job_id)


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
    name, data = upload_bytes(file)
    cases = load_upload(name, data, load_records, (".json",),
                        N_("请上传 .json 案卷文件（格式见 docs/lifecycle.md）。"))
    if preview:
        with issuer_for(publisher, profile, current) as iss:
            planned = certify_cases(iss, cases, name, dry_run=True)
        return desk.done(request, current, _("预览（未签名、未取号、未归档）：{n} 份案卷通过校验",
                                             n=len(planned.certified)), "staff_certify",
                         level="preview", details=[
                             *(_("{name}：{outcome}；将归档 {n} 份记录", name=c.name,
                                 outcome=c.outcome, n=len(c.records))
                               + (_("；下一个证书编号 {next}", next=c.certificates.numbers[0])
                                  if c.certificates else "") for c in planned.certified),
                             *(_("{where}：{error}", where=where, error=why)
                               for where, why in planned.failed)])
    if not sessions.use_form_token(desk.engine, current, form_token):
        raise InputError(N_("这份认证决定表单已经提交过或已过期，请重新打开页面后再提交。"))
    job_id = jobs.submit("certify", account=current.user.name, profile=profile,
                         input_name=name, input_data=data, total=len(cases))
    return desk.redirect(request, "staff_job", job_id=job_id)
