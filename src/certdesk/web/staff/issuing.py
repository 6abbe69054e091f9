"""Issuing certificates from an organisations file (``/staff/issue``) and certification
decisions from case files (``/staff/certify``). Each upload page hands out a one-time form
token: a preview leaves it unspent, a real submission spends it, so a second click or a
reload never issues twice."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from certdesk.common.errors import InputError
from certdesk.documents.records import load_records
from certdesk.services.certification import certify_cases
from certdesk.services.inputs import Rejected, load_organisations
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
    with issuer_for(publisher, profile, current) as iss:
        result = iss.issue_many(orgs)
    failed += [f"{org}: {reason}" for org, reason in result.failed]
    numbers = [c.number for c in result.issued]
    mains = [c.number for c in result.issued if c.main_number is None]
    text = f"已签发 {len(mains)} 张证书（含分证书共 {len(numbers)} 份）"
    if result.skipped:
        text += f"；{len(result.skipped)} 个组织已持有有效证书，未重复发证"
    if failed:
        text += f"；{len(failed)} 条记录未签发"
    if len(mains) == 1 and not failed and not result.skipped:
        return desk.done(request, current, text, "staff_certificate", numbers=numbers,
                         number=mains[0])
    return desk.done(request, current, text, "staff_issue", numbers=numbers,
                     details=[s.reason for s in result.skipped] + failed,
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
    with issuer_for(publisher, profile, current) as iss:
        result = certify_cases(iss, cases, name)
    approved = [c for c in result.certified if c.approved]
    numbers = [cert.number for c in approved for cert in c.certificates]
    text = (f"已作出 {len(result.certified)} 项认证决定：批准 {len(approved)} 项，"
            f"不予认证注册 {len(result.certified) - len(approved)} 项；"
            f"归档记录 {sum(len(c.records) for c in result.certified)} 份")
    failed = [f"{where}: {reason}" for where, reason in result.failed]
    if failed:
        text += f"；{len(failed)} 份案卷未处理"
    if len(approved) == 1 and len(cases) == 1:
        return desk.done(request, current, text, "staff_certificate", numbers=numbers,
                         number=approved[0].certificates[0].number)
    return desk.done(request, current, text, "staff_certify", numbers=numbers,
                     details=failed + [f"{c.name}: {c.outcome}" for c in result.certified
                                       if not c.approved],
                     level="error" if failed else "ok")
