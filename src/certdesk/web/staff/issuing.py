"""Issuing certificates from an organisations file (``/staff/issue``) and certification
decisions from case files (``/staff/certify``). Each upload page hands out a one-time form
token: a preview leaves it unspent, a real submission spends it, so a second click or a
reload never issues twice."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from certdesk.common.errors import InputError
from certdesk.common.i18n import N_
from certdesk.documents.records import load_records
from certdesk.services.certification import certify_cases
from certdesk.services.inputs import Rejected, load_organisations
from certdesk.web.i18n import _, current_lang
from certdesk.web.staff import sessions
from certdesk.web.staff.deps import DeskDep, PublisherDep, issuer_for, posts, requires
from certdesk.web.staff.forms import known_profile, read_upload
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
          profile: Annotated[str, Form()], file: Upload, form_token: Annotated[str, Form()] = "",
          preview: Annotated[str, Form()] = "") -> Response:
    known_profile(desk.profiles, profile)
    _name, records = read_upload(file, load_organisations, (".json", ".csv", ".xlsx"),
                                 N_("请上传 .json、.csv 或 .xlsx 文件"
                                    "（格式见 docs/input-format.md）。"))
    orgs = [r for r in records if not isinstance(r, Rejected)]
    failed = [r.error.text(current_lang()) for r in records if isinstance(r, Rejected)]
    if not orgs:
        raise InputError(N_("文件中没有可签发的记录：{failed}"), failed=_("；").join(failed))
    if preview:  # the form stays usable: its token is not spent
        with issuer_for(publisher, profile, current) as iss:
            planned = iss.preview_many(orgs)
        return desk.done(request, current, _("预览（未签发、未取号）：将签发 {n} 张证书，"
                                             "跳过 {skipped} 个已持证组织",
                                             n=len(planned.previews),
                                             skipped=len(planned.skipped)),
                         "staff_issue", level="preview", details=[
                             *(_("{organisation}：下一个编号 {next}（共 {n} 份），"
                                 "有效期 {start} 至 {end}", organisation=p.organisation,
                                 next=p.numbers[0], n=len(p.numbers),
                                 start=p.dates.issue_date, end=p.dates.expiry_date)
                               for p in planned.previews),
                             *(s.text(current_lang()) for s in planned.skipped),
                             *failed, *(f"{org}: {why}" for org, why in planned.failed)])
    if not sessions.use_form_token(desk.engine, current, form_token):
        raise InputError(N_("这份签发表单已经提交过或已过期，请重新打开签发页面后再提交。"))
    with issuer_for(publisher, profile, current) as iss:
        result = iss.issue_many(orgs)
    failed += [f"{org}: {reason}" for org, reason in result.failed]
    numbers = [c.number for c in result.issued]
    mains = [c.number for c in result.issued if c.main_number is None]
    text = _("已签发 {n} 张证书（含分证书共 {all} 份）", n=len(mains), all=len(numbers))
    if result.skipped:
        text += _("；{n} 个组织已持有有效证书，未重复发证", n=len(result.skipped))
    if failed:
        text += _("；{n} 条记录未签发", n=len(failed))
    if len(mains) == 1 and not failed and not result.skipped:
        return desk.done(request, current, text, "staff_certificate", numbers=numbers,
                         number=mains[0])
    return desk.done(request, current, text, "staff_issue", numbers=numbers,
                     details=[s.text(current_lang()) for s in result.skipped] + failed,
                     level="error" if failed else "ok")


@router.get("/certify", name="staff_certify")
def certify_page(request: Request, desk: DeskDep, current: Certifying) -> Response:
    return desk.render(request, "certify.html", current, profiles=list(desk.profiles),
                       form_token=sessions.new_form_token(desk.engine, current))


@router.post("/certify")
def certify(request: Request, desk: DeskDep, current: CertifyPost, publisher: PublisherDep,
            profile: Annotated[str, Form()], file: Upload,
            form_token: Annotated[str, Form()] = "",
            preview: Annotated[str, Form()] = "") -> Response:
    known_profile(desk.profiles, profile)
    name, cases = read_upload(file, load_records, (".json",),
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
                             *(f"{where}: {why}" for where, why in planned.failed)])
    if not sessions.use_form_token(desk.engine, current, form_token):
        raise InputError(N_("这份认证决定表单已经提交过或已过期，请重新打开页面后再提交。"))
    with issuer_for(publisher, profile, current) as iss:
        result = certify_cases(iss, cases, name)
    approved = [c for c in result.certified if c.approved]
    numbers = [cert.number for c in approved for cert in c.certificates]
    text = _("已作出 {n} 项认证决定：批准 {approved} 项，不予认证注册 {refused} 项；"
             "归档记录 {records} 份", n=len(result.certified), approved=len(approved),
             refused=len(result.certified) - len(approved),
             records=sum(len(c.records) for c in result.certified))
    failed = [f"{where}: {reason}" for where, reason in result.failed]
    if failed:
        text += _("；{n} 份案卷未处理", n=len(failed))
    if len(approved) == 1 and len(cases) == 1:
        return desk.done(request, current, text, "staff_certificate", numbers=numbers,
                         number=approved[0].certificates[0].number)
    return desk.done(request, current, text, "staff_certify", numbers=numbers,
                     details=failed + [f"{c.name}: {c.outcome}" for c in result.certified
                                       if not c.approved],
                     level="error" if failed else "ok")
