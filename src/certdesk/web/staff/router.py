"""The staff desk: ``create_staff_router(settings, engine)`` gives the pages under ``/staff``.

Endpoints are plain ``def``s on purpose: FastAPI runs them in its threadpool, so a page
that waits on LibreOffice (issuing, notices) or on the database never blocks the server's
event loop. Every form post carries the CSRF token and redirects (post/redirect/get), so a
reload never repeats an action.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from certdesk.common.errors import CertdeskError, InputError, NotFound
from certdesk.common.settings import Settings, get_settings
from certdesk.documents.convert import ConverterPool
from certdesk.documents.records import load_records
from certdesk.domain.coverage import parse_site_numbers
from certdesk.domain.profiles import Profiles, installed_profiles
from certdesk.domain.scope import parse_site_scopes
from certdesk.services.certification import certify_cases, record_surveillance_report
from certdesk.services.cycle import (
    Changes,
    due_list,
    main_certificate,
    recertify,
    record_surveillance,
    reissue,
    sweep,
)
from certdesk.services.disposal import approve, disposal_dict, due_records, propose, reject
from certdesk.services.ingest import ACCEPTED, take_in
from certdesk.services.inputs import Rejected, load_organisations
from certdesk.services.issuing import Issuer
from certdesk.services.publisher import Publisher
from certdesk.services.transitions import change_status
from certdesk.store import events
from certdesk.store.blobs import open_store
from certdesk.store.db import get_engine, session_scope
from certdesk.store.models import Disposal
from certdesk.store.records import RECORD_TYPES, check_type, record_subject, resolve_filing
from certdesk.web.staff import account_pages, audit_log, sessions, views
from certdesk.web.staff import register as staff_register
from certdesk.web.staff import reporting as staff_reporting
from certdesk.web.staff.accounts import (
    ROLES,
    LoginFailed,
    TooManyAttempts,
    authenticate,
    check_second_officer,
    ensure_tables,
    list_users,
    set_active,
)
from certdesk.web.staff.accounts import add_user as create_user
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import Desk, Forbidden, download, staff_route_class

# The icon is inline because the package data rules ship .css and .html, not .svg.
FAVICON = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
           b'<rect width="32" height="32" rx="6" fill="#1d4e89"/>'
           b'<path d="M9 16.5l4.5 4.5L23 11.5" fill="none" stroke="#fff" stroke-width="3.2" '
           b'stroke-linecap="round" stroke-linejoin="round"/></svg>')
STATIC = {"staff.css": (Path(__file__).with_name("static").joinpath("staff.css").read_bytes(),
                        "text/css"),
          "favicon.svg": (FAVICON, "image/svg+xml")}
MAX_UPLOAD = 32 * 1024 * 1024
"""Largest file taken (a scanned original, an organisations list); a page says so beyond."""
MAX_BODY = 4 * MAX_UPLOAD
"""Hard cap on any request to the desk, refused before it is read (abuse, not mistakes)."""


def _day(text: str, label: str, *, required: bool = False) -> date | None:
    text = text.strip()
    if not text:
        if required:
            raise InputError(f"请填写{label}。")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{label}“{text}”不是日期（格式 YYYY-MM-DD）。") from None


def _months(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= 12:
        raise InputError(f"暂停期限“{text}”应为 1–12 的整数（月）。")
    return int(text)


def _upload_bytes(upload: UploadFile) -> tuple[str, bytes]:
    """The uploaded file's own name (no path) and its bytes, within the size limit."""
    name = Path(upload.filename or "").name
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InputError(f"{name}：文件超过 {MAX_UPLOAD // 2**20} MB，请分批上传。")
    return name, data


def _known_profile(profiles: Profiles, profile: str) -> None:
    if profile not in profiles:
        raise InputError(f"没有认证方案配置“{profile}”。")


def _read_upload(upload: UploadFile, load: Callable[[Path], list], suffixes: tuple[str, ...],
                 wrong_type: str) -> tuple[str, list]:
    """Parse an upload as the matching command reads a file: errors then name the file the
    user chose, not a temporary one."""
    name, data = _upload_bytes(upload)
    if Path(name).suffix.lower() not in suffixes:
        raise InputError(wrong_type)
    with tempfile.TemporaryDirectory(prefix="certdesk-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return name, load(path)


def create_staff_router(settings: Settings | None = None, engine: Engine | None = None, *,
                        pool: ConverterPool | None = None,
                        profiles: Profiles | None = None) -> APIRouter:
    """The staff pages under ``/staff``. ``pool`` shares a warm LibreOffice pool; without
    one the router keeps its own, started on the first document it produces."""
    settings = settings or get_settings()
    profiles = profiles or installed_profiles(settings)
    engine = engine or get_engine(settings.db_url)
    ensure_tables(engine)
    pool = pool or ConverterPool(settings=settings)
    store = open_store(settings)
    desk = Desk(settings, engine, profiles)
    router = APIRouter(prefix="/staff", route_class=staff_route_class(desk),
                       include_in_schema=False, max_body_size=MAX_BODY)
    viewer = Depends(desk.requires("view"))

    def publisher() -> Publisher:
        return Publisher(settings=settings, engine=engine, pool=pool, profiles=profiles)

    def issuer(profile_id: str, current: Current) -> Issuer:
        return Issuer(profiles.get(profile_id), settings=settings, engine=engine, pool=pool,
                      actor=current.user.name, profiles=profiles)

    def issuer_for(number: str, current: Current) -> Issuer:
        with Session(engine) as s:
            return issuer(main_certificate(s, number).profile, current)

    def done(request: Request, current: Current, text: str, to: str, *,
             numbers: list[str] | None = None, details: list[str] | None = None,
             level: str = "ok", **params) -> RedirectResponse:
        sessions.set_flash(engine, current, level, text, numbers, details)
        return desk.redirect(request, to, **params)

    def safe_next(request: Request, target: str) -> str:
        base = desk.base(request)
        if target.startswith(base) and "//" not in target and "\\" not in target:
            return target
        return base

    # -- static, sign in, sign out -----------------------------------------------------------

    @router.get("/static/{name}", name="staff_static")
    def static(name: str) -> Response:
        if name not in STATIC:
            raise NotFound("页面不存在。")
        data, media_type = STATIC[name]
        return Response(data, media_type=media_type, headers={"Cache-Control": "max-age=3600"})

    @router.get("/login", name="staff_login")
    def login_page(request: Request, next_: str = Query("", alias="next")) -> Response:
        current = desk.current(request)
        if current is not None and current.user is not None:
            return RedirectResponse(safe_next(request, next_), status_code=303)
        token = None
        if current is None:  # the pre-login cookie carries the sign-in form's CSRF token
            token = request.cookies.get(sessions.COOKIE) or sessions.new_token()
            current = sessions.prelogin(token)
        response = desk.render(request, "login.html", current, next=safe_next(request, next_),
                               error=None, name="")
        if token:
            desk.set_cookie(request, response, token)
        return response

    @router.post("/login")
    def login(request: Request, name: str = Form(""), password: str = Form(""),
              csrf: str = Form(""), next_: str = Form("", alias="next")) -> Response:
        current = desk.current(request)
        if current is None and request.cookies.get(sessions.COOKIE):
            current = sessions.prelogin(request.cookies[sessions.COOKIE])
        if current is None or not sessions.csrf_ok(current, csrf):
            raise Forbidden("登录页面已过期（CSRF 令牌缺失或无效），请重新打开登录页面。")
        address = request.client.host if request.client else "unknown"
        try:
            user = authenticate(engine, settings, name, password, address)
        except (LoginFailed, TooManyAttempts) as exc:
            return desk.render(request, "login.html", current,
                               status_code=429 if isinstance(exc, TooManyAttempts) else 401,
                               next=safe_next(request, next_), error=str(exc), name=name)
        token = sessions.sign_in(engine, settings, user, address, current.token_hash)
        response = RedirectResponse(safe_next(request, next_), status_code=303)
        desk.set_cookie(request, response, token)
        return response

    @router.post("/logout", name="staff_logout")
    def logout(request: Request, current: Current = Depends(
            desk.posts("view", before_password_change=True))) -> Response:
        sessions.sign_out(engine, current)
        response = desk.redirect(request, "staff_login")
        response.delete_cookie(sessions.COOKIE, path=desk.base(request))
        return response

    # -- finding things ----------------------------------------------------------------------

    @router.get("/", name="staff_home")
    def home(request: Request, current: Current = viewer) -> Response:
        with Session(engine) as s:
            recent = views.recent(s, desk.today())
            warnings = staff_reporting.warnings(s, desk.today())
        return desk.render(request, "home.html", current, recent=recent, query="",
                           warnings=warnings)

    @router.get("/search", name="staff_search")
    def search(request: Request, q: str = "", current: Current = viewer) -> Response:
        with Session(engine) as s:
            number = views.exact_number(s, q)
            if number is not None:
                return desk.redirect(request, "staff_certificate", number=number)
            orgs, certs = views.search(s, q, desk.today())
        return desk.render(request, "search.html", current, query=q, orgs=orgs, certs=certs)

    @router.get("/clients/{org_id}", name="staff_client")
    def client(request: Request, org_id: int, current: Current = viewer) -> Response:
        with Session(engine) as s:
            org, certs, records = views.client(s, org_id, desk.today())
        return desk.render(request, "client.html", current, org=org, certs=certs,
                           documents=records, record_types=RECORD_TYPES, accepted=ACCEPTED)

    @router.get("/certificates/{number}", name="staff_certificate")
    def certificate(request: Request, number: str, current: Current = viewer) -> Response:
        with Session(engine) as s:
            page = views.certificate_page(s, profiles, number, desk.today())
        profile = profiles.get(page.main.cert.profile)
        grades = (list(profile.rules.scoring.grade_names) if profile.scheme.graded
                  else [])
        return desk.render(request, "certificate.html", current, page=page, profile=profile,
                           grades=grades, record_types=RECORD_TYPES, accepted=ACCEPTED)

    @router.get("/documents/{sha}", name="staff_document")
    def document(sha: str, current: Current = viewer) -> Response:
        with Session(engine) as s:
            row = views.record(s, sha)
        data = store.read(row.sha256)
        with session_scope(engine) as s:  # who read which record is part of the file's story
            events.append(s, "record.downloaded", record_subject(row.id),
                          {"sha256": row.sha256, "filename": row.filename}, current.user.name)
        return download(data, row.filename, row.media_type)

    @router.get("/due", name="staff_due")
    def due(request: Request, on: str = "", profile: str = "",
            current: Current = viewer) -> Response:
        day = _day(on, "参考日期") or desk.today()
        if profile:
            _known_profile(profiles, profile)
        items = due_list(engine, profiles, day, profile or None)
        return desk.render(request, "due.html", current, items=items, on=day, profile=profile,
                           profiles=list(profiles))

    # -- issuing and the cycle ---------------------------------------------------------------

    @router.get("/issue", name="staff_issue")
    def issue_page(request: Request,
                   current: Current = Depends(desk.requires("issue"))) -> Response:
        return desk.render(request, "issue.html", current, profiles=list(profiles),
                           form_token=sessions.new_form_token(engine, current))

    @router.post("/issue")
    def issue(request: Request, profile: str = Form(...), file: UploadFile = File(...),
              form_token: str = Form(""), preview: str = Form(""),
              current: Current = Depends(desk.posts("issue"))) -> Response:
        _known_profile(profiles, profile)
        _name, records = _read_upload(file, load_organisations, (".json", ".csv", ".xlsx"),
                                      "请上传 .json、.csv 或 .xlsx 文件"
                                      "（格式见 docs/input-format.md）。")
        orgs = [r for r in records if not isinstance(r, Rejected)]
        failed = [str(r.error) for r in records if isinstance(r, Rejected)]
        if not orgs:
            raise InputError("文件中没有可签发的记录：" + "；".join(failed))
        if preview:  # the form stays usable: its token is not spent
            with issuer(profile, current) as iss:
                result = iss.preview_many(orgs)
            return done(request, current, f"预览（未签发、未取号）：将签发 {len(result.previews)} "
                        f"张证书，跳过 {len(result.skipped)} 个已持证组织",
                        "staff_issue", level="preview", details=[
                            *(f"{p.organisation}：下一个编号 {p.numbers[0]}（共 {len(p.numbers)} "
                              f"份），有效期 {p.dates.issue_date} 至 {p.dates.expiry_date}"
                              for p in result.previews),
                            *(s.reason for s in result.skipped),
                            *failed, *(f"{org}: {why}" for org, why in result.failed)])
        if not sessions.use_form_token(engine, current, form_token):
            raise InputError("这份签发表单已经提交过或已过期，请重新打开签发页面后再提交。")
        with issuer(profile, current) as iss:
            result = iss.issue_many(orgs)
        failed += [f"{org}: {reason}" for org, reason in result.failed]
        numbers = [c.number for c in result.issued]
        mains = [c.number for c in result.issued if c.main_number is None]
        text = f"已签发 {len(mains)} 张证书（含分证书共 {len(numbers)} 份）"
        if result.skipped:
            text += f"；{len(result.skipped)} 个组织已持有有效证书，未重复发证"
        if failed:
            text += f"；{len(failed)} 条记录未签发"
        level = "error" if failed else "ok"
        if len(mains) == 1 and not failed and not result.skipped:
            return done(request, current, text, "staff_certificate", numbers=numbers,
                        number=mains[0])
        return done(request, current, text, "staff_issue", numbers=numbers,
                    details=[s.reason for s in result.skipped] + failed, level=level)

    @router.get("/certify", name="staff_certify")
    def certify_page(request: Request,
                     current: Current = Depends(desk.requires("certify"))) -> Response:
        return desk.render(request, "certify.html", current, profiles=list(profiles),
                           form_token=sessions.new_form_token(engine, current))

    @router.post("/certify")
    def certify(request: Request, profile: str = Form(...), file: UploadFile = File(...),
                form_token: str = Form(""), preview: str = Form(""),
                current: Current = Depends(desk.posts("certify"))) -> Response:
        _known_profile(profiles, profile)
        name, cases = _read_upload(file, load_records, (".json",),
                                   "请上传 .json 案卷文件（格式见 docs/lifecycle.md）。")
        if preview:
            with issuer(profile, current) as iss:
                result = certify_cases(iss, cases, name, dry_run=True)
            return done(request, current, "预览（未签名、未取号、未归档）："
                        f"{len(result.certified)} 份案卷通过校验", "staff_certify",
                        level="preview", details=[
                            *(f"{c.name}：{c.outcome}；将归档 {len(c.records)} 份记录"
                              + (f"；下一个证书编号 {c.certificates.numbers[0]}"
                                 if c.certificates else "") for c in result.certified),
                            *(f"{where}: {why}" for where, why in result.failed)],
                        )
        if not sessions.use_form_token(engine, current, form_token):
            raise InputError("这份认证决定表单已经提交过或已过期，请重新打开页面后再提交。")
        with issuer(profile, current) as iss:
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
            return done(request, current, text, "staff_certificate", numbers=numbers,
                        number=approved[0].certificates[0].number)
        return done(request, current, text, "staff_certify", numbers=numbers,
                    details=failed + [f"{c.name}: {c.outcome}" for c in result.certified
                                      if not c.approved],
                    level="error" if failed else "ok")

    @router.post("/certificates/{number}/status", name="staff_change_status")
    def status(request: Request, number: str, action: str = Form(...), reason: str = Form(""),
               on: str = Form(""), months: str = Form(""), verified: str = Form(""),
               backdate_reason: str = Form(""), preview: str = Form(""),
               current: Current = Depends(desk.posts("status"))) -> Response:
        if action not in views.STATUS_ACTIONS:
            raise InputError(f"未知的状态操作“{action}”。")
        with publisher() as pub:
            change = change_status(pub, number, action, reason, actor=current.user.name,
                                   on=_day(on, "生效日期"), months=_months(months),
                                   verified=_day(verified, "核实日期"),
                                   backdate_reason=backdate_reason, dry_run=bool(preview))
        if preview:
            d = change.as_dict()
            return done(request, current, f"预览（未保存）：将{views.STATUS_ACTIONS[action]}"
                        f"{'、'.join(d['affected'])}，{d['on']} 起生效"
                        + (f"，至 {d['until']}" if d["until"] else "")
                        + (f"；补记 {d['backdated_days']} 天" if d["backdated"] else ""),
                        "staff_certificate", level="preview", number=number)
        late = f"注意：已超过规定时限（{change.late}）。" if change.late else ""
        return done(request, current, f"已{views.STATUS_ACTIONS[action]}："
                    f"{'、'.join(change.affected)}；通知书已签名归档。{late}",
                    "staff_certificate", number=number, level="warn" if late else "ok")

    @router.post("/certificates/{number}/surveillance", name="staff_surveillance")
    def surveillance(request: Request, number: str, held: str = Form(""),
                     report: UploadFile | None = File(None), sites: str = Form(""),
                     preview: str = Form(""),
                     current: Current = Depends(desk.posts("surveillance"))) -> Response:
        day = _day(held, "监督审查日期", required=True)
        visited = parse_site_numbers(sites, "审查场所")
        if report is None or not report.filename:  # the browser sends an empty part
            n = record_surveillance(engine, profiles, number, day, actor=current.user.name,
                                    sites=visited, dry_run=bool(preview))
            return done(request, current, f"预览（未保存）：可记录第 {n} 次监督审查（{held}）。"
                        if preview else f"已记录第 {n} 次监督审查（{held}）。",
                        "staff_certificate", number=number,
                        level="preview" if preview else "ok")
        name, records = _read_upload(report, load_records, (".json",),
                                     "请上传 .json 格式的审查报告（格式见 docs/templates.md）。")
        with publisher() as pub:
            n, kept, notice = record_surveillance_report(pub, number, day, records, name,
                                                         actor=current.user.name,
                                                         sites=visited, dry_run=bool(preview))
        if kept is None:
            return done(request, current, f"预览（未保存）：审查报告通过校验，可记录第 {n} 次监督"
                        f"审查（{held}）。", "staff_certificate", number=number,
                        level="preview")
        return done(request, current, f"已记录第 {n} 次监督审查（{held}），审查报告 "
                    f"{kept.filename} 及保持认证注册资格通知书 {notice.filename} 已签名归档。",
                    "staff_certificate", number=number)

    @router.post("/certificates/{number}/reissue", name="staff_reissue")
    def reissue_(request: Request, number: str, reason: str = Form(""), name: str = Form(""),
                 address: str = Form(""), scope: str = Form(""), grade: str = Form(""),
                 on: str = Form(""), site_scopes: str = Form(""), remove_sites: str = Form(""),
                 preview: str = Form(""),
                 current: Current = Depends(desk.posts("reissue"))) -> Response:
        removed = remove_sites.replace("，", ",").replace("、", ",").split(",")
        if not all(k.strip().isdigit() for k in removed if k.strip()):
            raise InputError("移出的场所请填写序号，如“2,3”。")
        changes = Changes(name.strip() or None, address.strip() or None, scope.strip() or None,
                          grade.strip() or None,
                          parse_site_scopes([line for line in site_scopes.splitlines()
                                             if line.strip()], "场所范围"),
                          tuple(int(k) for k in removed if k.strip()))
        with issuer_for(number, current) as issuer:
            certs = reissue(issuer, number, changes, reason, on=_day(on, "换证日期"),
                            dry_run=bool(preview))
        if preview:
            return done(request, current, f"预览（未保存）：将换证 {'、'.join(certs.certificates)}"
                        f"（{certs.on}），编号和有效期不变。", "staff_certificate",
                        level="preview", number=number)
        return done(request, current, "已换证：证书编号和有效期不变。", "staff_certificate",
                    numbers=[c.number for c in certs], number=number)

    @router.post("/certificates/{number}/recertify", name="staff_recertify")
    def recertify_(request: Request, number: str, decision: str = Form(""),
                   issue: str = Form(""), grade: str = Form(""), scope: str = Form(""),
                   audit_end: str = Form(""), preview: str = Form(""),
                   current: Current = Depends(desk.posts("recertify"))) -> Response:
        with issuer_for(number, current) as issuer:
            certs = recertify(issuer, number, _day(decision, "再认证决定日期", required=True),
                              issue=_day(issue, "签发日期"), grade=grade.strip() or None,
                              scope=scope.strip() or None,
                              audit_end=_day(audit_end, "再认证审核结束日期"),
                              dry_run=bool(preview))
        if preview:
            return done(request, current, f"预览（未取号、未保存）：下一个编号 {certs.numbers[0]}"
                        f"（共 {len(certs.numbers)} 份），有效期 {certs.dates.effective_from} 至 "
                        f"{certs.dates.expiry_date}，原证书 {number} 将被取代。",
                        "staff_certificate", level="preview", number=number)
        return done(request, current, f"已再认证，原证书 {number} 已被取代。", "staff_certificate",
                    numbers=[c.number for c in certs], number=certs[0].number)

    @router.post("/sweep", name="staff_sweep")
    def run_sweep(request: Request, on: str = Form(""), preview: str = Form(""),
                  current: Current = Depends(desk.posts("sweep"))) -> Response:
        day = _day(on, "执行日期") or desk.today()
        labels = {"suspend": "暂停", "revoke": "撤销", "expire": "到期"}
        with publisher() as pub:
            actions = sweep(pub, day, dry_run=bool(preview))
        if preview:
            return done(request, current,
                        f"日历检查预览（{day}，未执行）：{len(actions)} 项将处理。",
                        "staff_due", level="preview",
                        details=[f"{labels[a.action]} {a.number}：{a.reason}" for a in actions])
        # The sweep logs its own changes as "sweep"; this entry says who started it.
        with session_scope(engine) as s:
            events.append(s, "staff.sweep", f"sweep:{day}",
                          {"on": day, "actions": [a.as_dict() for a in actions]},
                          current.user.name)
        details = [f"{labels[a.action]} {a.number}：{a.reason}" for a in actions]
        with Session(engine) as s:
            late = staff_reporting.warnings(s, day)["report_overdue"]
        if late:
            details.append(f"另有 {late} 项认监委报送已逾期，请档案管理员尽快报送。")
        return done(request, current, f"日历检查（{day}）完成：{len(actions)} 项处理。",
                    "staff_due", numbers=[a.number for a in actions], details=details)

    # -- records ------------------------------------------------------------------------------

    @router.post("/records", name="staff_add_records")
    def add_records(request: Request, record_type: str = Form(...), certificate: str = Form(""),
                    client: str = Form(""), signer: str = Form(""),
                    files: list[UploadFile] = File(...),
                    current: Current = Depends(desk.posts("records"))) -> Response:
        """Records made elsewhere (scanned signed originals, Word files) into the archive,
        filed under the certificate or client whose page the form is on."""
        check_type(record_type)
        with Session(engine) as s:
            filing = resolve_filing(s, profiles, certificate=certificate or None,
                                    client=client or None, profile=None)
        added, failed = [], []
        for upload in files:  # one bad file does not stop the others
            try:
                name, raw = _upload_bytes(upload)
                got = take_in(engine, store, settings, pool, raw, name,
                              record_type=record_type, filing=filing,
                              signer=signer.strip() or None, actor=current.user.name)
                added.append(got.filename if got.new
                             else f"{got.filename}（此前已归档，未重复保存）")
            except CertdeskError as exc:
                failed.append(str(exc))
        text = f"已归档 {len(added)} 份{RECORD_TYPES[record_type].split()[0]}"
        if failed:
            text += f"；{len(failed)} 份未归档"
        level = "error" if failed else "ok"
        if filing.certificate_number:
            return done(request, current, text, "staff_certificate", details=added + failed,
                        level=level, number=filing.certificate_number)
        return done(request, current, text, "staff_client", details=added + failed, level=level,
                    org_id=filing.organisation_id)

    # -- accounts ----------------------------------------------------------------------------

    # -- retention and disposal (two officers) ------------------------------------------------

    @router.get("/retention", name="staff_retention")
    def retention(request: Request, on: str = "", profile: str = "",
                  current: Current = Depends(desk.requires("records"))) -> Response:
        day = _day(on, "参考日期") or desk.today()
        if profile:
            _known_profile(profiles, profile)
        with Session(engine) as s:
            due = due_records(s, profiles, day, profile or None)
            proposals = [disposal_dict(s, d) for d in s.exec(
                select(Disposal).where(Disposal.status == "proposed").order_by(Disposal.id))]
        return desk.render(request, "retention.html", current, due=due, proposals=proposals,
                           on=day, profile=profile, profiles=list(profiles),
                           record_types=RECORD_TYPES)

    @router.post("/retention/propose", name="staff_propose_disposal")
    def propose_disposal(request: Request, records: list[int] = Form(default=[]),
                         reason: str = Form(""),
                         current: Current = Depends(desk.posts("records"))) -> Response:
        with session_scope(engine) as s:
            proposal = propose(s, profiles, records, by=current.user.name, reason=reason,
                               today=desk.today())
            number = proposal.id
        return done(request, current, f"已提出销毁申请 {number}（{len(records)} 份记录），"
                    "需由另一名档案管理员批准。", "staff_retention")

    @router.post("/retention/{disposal_id}/approve", name="staff_approve_disposal")
    def approve_disposal(request: Request, disposal_id: int,
                         current: Current = Depends(desk.posts("records"))) -> Response:
        check_second_officer(engine, disposal_id, current.user.name)
        result = approve(engine, store, settings, pool, profiles, disposal_id,
                         by=current.user.name, today=desk.today())
        return done(request, current, f"销毁申请 {disposal_id} 已批准：{len(result.records)} 份"
                    f"记录已销毁，销毁证明已签名归档（记录 {result.certificate_record}）。",
                    "staff_retention")

    @router.post("/retention/{disposal_id}/reject", name="staff_reject_disposal")
    def reject_disposal(request: Request, disposal_id: int, reason: str = Form(""),
                        current: Current = Depends(desk.posts("records"))) -> Response:
        check_second_officer(engine, disposal_id, current.user.name)
        with session_scope(engine) as s:
            reject(s, disposal_id, by=current.user.name, reason=reason)
        return done(request, current, f"销毁申请 {disposal_id} 已驳回，记录继续保存。",
                    "staff_retention")

    @router.get("/users", name="staff_users")
    def users(request: Request, current: Current = Depends(desk.requires("users"))) -> Response:
        return desk.render(request, "users.html", current, users=list_users(engine))

    @router.post("/users")
    def add_user(request: Request, name: str = Form(""), role: str = Form(""),
                 password: str = Form(""),
                 current: Current = Depends(desk.posts("users"))) -> Response:
        user = create_user(engine, name, role, password, actor=current.user.name)
        return done(request, current, f"已添加用户 {user.name}（{ROLES[user.role]}）。",
                    "staff_users")

    @router.post("/users/{name}/active", name="staff_user_active")
    def user_active(request: Request, name: str, active: bool = Form(...),
                    current: Current = Depends(desk.posts("users"))) -> Response:
        if name == current.user.name and not active:
            raise InputError("不能停用自己的账户。")
        set_active(engine, name, active, actor=current.user.name)
        return done(request, current, f"已{'启用' if active else '停用'}用户 {name}。",
                    "staff_users")

    staff_reporting.add_routes(router, desk, engine, done, _day)
    staff_register.add_routes(router, desk, engine, store, _day)
    audit_log.add_routes(router, desk, engine, _day)
    account_pages.add_routes(router, desk, engine, done)

    @router.api_route("/{path:path}", methods=["GET", "POST"], name="staff_not_found")
    def not_found(path: str) -> Response:
        raise NotFound("页面不存在。")

    return router
