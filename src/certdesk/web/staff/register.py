"""The certificate register page (``/staff/certificates``): every certificate, filtered by
status, scheme, grade, dates, "expiring within N days" or a search; sorted; keyset pages;
the current view exported to ``.xlsx`` / ``.csv`` or the selected PDFs as one zip (a
background job: its page offers the file), or printed.

Every role may read the register (as every role may search). Filters are a GET form, so a
view is a URL a colleague can open; an export is a POST (CSRF): it stores a job.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from fastapi.responses import Response

from certdesk.common.errors import NotFound
from certdesk.common.i18n import N_
from certdesk.domain.profiles import Profiles
from certdesk.domain.status import STATUS_LABELS
from certdesk.services.jobs import export_input, pdfs_input
from certdesk.store.register import (
    EXPORT_FORMATS,
    RegisterQuery,
    all_rows,
    page,
    pdf_records,
)
from certdesk.web.i18n import _
from certdesk.web.staff.deps import CurrentUser, DeskDep, SessionDep, posts
from certdesk.web.staff.forms import day
from certdesk.web.staff.job_pages import JobsDep
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import area_router, query_int

router = area_router()

ViewPost = Annotated[Current, Depends(posts("view"))]
SORT_LABELS = {"number": N_("证书编号"), "issue_date": N_("发证日期"),
               "expiry_date": N_("有效期至"), "holder": N_("获证组织")}
PRINT_MAX = 2000
"""Rows a print view shows: beyond that a printout is not what anyone wants (export)."""


def query_from(request: Request) -> RegisterQuery:
    """The view the GET parameters describe (unknown values refused in Chinese)."""
    p = request.query_params
    return RegisterQuery(
        status=tuple(s for s in p.getlist("status") if s), profile=p.get("profile") or None,
        grade=p.get("grade") or None,
        issued_from=day(p.get("issued_from", ""), N_("发证日期起")),
        issued_to=day(p.get("issued_to", ""), N_("发证日期止")),
        expires_from=day(p.get("expires_from", ""), N_("有效期至（起）")),
        expires_to=day(p.get("expires_to", ""), N_("有效期至（止）")),
        expiring_within=query_int(request, "expiring_within", N_("到期天数")),
        search=p.get("search", ""),
        sort=p.get("sort") or "number", descending=p.get("descending") == "true",
        limit=query_int(request, "limit", N_("每页条数")) or 50, after=p.get("after") or None)


def view_url(request: Request, route: str, q: RegisterQuery, **extra: object) -> str:
    params = {**q.as_params(), **{k: v for k, v in extra.items() if v is not None}}
    pairs = [(k, x) for k, v in params.items() for x in (v if isinstance(v, list) else [v])]
    pairs = [(k, str(v).lower() if isinstance(v, bool) else v) for k, v in pairs]
    path = request.url_for(route).path
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _grades(profiles: Profiles) -> list[str]:
    names: dict[str, None] = {}
    for p in profiles:
        if p.scheme.graded:
            names.update(dict.fromkeys(p.rules.scoring.grade_names))
    return list(names)


@router.get("/certificates", name="staff_register")
def register_page(request: Request, desk: DeskDep, s: SessionDep,
                  current: CurrentUser) -> Response:
    q = query_from(request)
    result = page(s, q, desk.today())
    return desk.render(
        request, "register.html", current, q=q, result=result, statuses=STATUS_LABELS,
        sorts=SORT_LABELS, profiles=list(desk.profiles), grades=_grades(desk.profiles),
        export_url=view_url(request, "staff_register_export", q),
        print_url=view_url(request, "staff_register_print", q),
        first_url=view_url(request, "staff_register", q) if q.after else None,
        next_url=(view_url(request, "staff_register", q, after=result.next_cursor)
                  if result.next_cursor else None))


@router.post("/register/export", name="staff_register_export")
def export(request: Request, desk: DeskDep, jobs: JobsDep, current: ViewPost,
           fmt: Annotated[str, Form()] = "xlsx") -> Response:
    """The view (the filters in the URL) written by a background job, always: an export
    may be 100,000 rows (tens of seconds of .xlsx), and one path means the small one is
    the large one tested; the job page offers the file as soon as it is written. The file
    is named in the language of who asked (the name is shown on the job's page)."""
    suffix = f".{fmt}"
    if suffix not in EXPORT_FORMATS:
        raise NotFound(N_("页面不存在。"))
    q, today = query_from(request), desk.today()  # a bad filter is refused here, not in the job
    job_id = jobs.submit("export", account=current.user.name, profile=q.profile or "",
                         input_name=_("证书登记-{day}{suffix}", day=today, suffix=suffix),
                         input_data=export_input(suffix, q, today), total=0)
    return desk.redirect(request, "staff_job", job_id=job_id)


@router.get("/register/print", name="staff_register_print")
def print_view(request: Request, desk: DeskDep, s: SessionDep,
               current: CurrentUser) -> Response:
    q, today = query_from(request), desk.today()
    rows = all_rows(s, q, today)
    return desk.render(request, "register_print.html", current, q=q,
                       rows=rows[:PRINT_MAX], total=len(rows), statuses=STATUS_LABELS,
                       sorts=SORT_LABELS, back_url=view_url(request, "staff_register", q))


@router.post("/register/pdfs", name="staff_register_pdfs")
def pdfs(request: Request, desk: DeskDep, s: SessionDep, jobs: JobsDep, current: ViewPost,
         numbers: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006 (FastAPI copies)
    """The selected PDFs as one zip, written by an export job (up to MAX_ZIP PDFs read from
    the archive, which may be S3); each download of it is logged."""
    picked = pdf_records(s, numbers)  # a bad selection is refused here, not in the job
    job_id = jobs.submit("export", account=current.user.name, profile="",
                         input_name=_("证书-{day}-{n}份.zip", day=desk.today(), n=len(picked)),
                         input_data=pdfs_input(picked), total=len(picked))
    return desk.redirect(request, "staff_job", job_id=job_id)
