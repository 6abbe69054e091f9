"""Finding things: the desk's home, search, a client's page, a certificate's page, an
archived document, and what falls due."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from certdesk.common.i18n import N_
from certdesk.services.cycle import due_list
from certdesk.services.ingest import ACCEPTED
from certdesk.store import events
from certdesk.store.db import session_scope
from certdesk.store.records import RECORD_TYPES, record_subject
from certdesk.web.staff import reporting, views
from certdesk.web.staff.deps import CurrentUser, DeskDep, SessionDep
from certdesk.web.staff.forms import day, known_profile
from certdesk.web.staff.web import area_router, download

router = area_router()


@router.get("/", name="staff_home")
def home(request: Request, desk: DeskDep, s: SessionDep, current: CurrentUser) -> Response:
    recent = views.recent(s, desk.today())
    warnings = reporting.warnings(s, desk.today())
    return desk.render(request, "home.html", current, recent=recent, query="",
                       warnings=warnings)


@router.get("/search", name="staff_search")
def search(request: Request, desk: DeskDep, s: SessionDep, current: CurrentUser,
           q: str = "") -> Response:
    number = views.exact_number(s, q)
    if number is not None:
        return desk.redirect(request, "staff_certificate", number=number)
    orgs, certs = views.search(s, q, desk.today())
    return desk.render(request, "search.html", current, query=q, orgs=orgs, certs=certs)


@router.get("/clients/{org_id}", name="staff_client")
def client(request: Request, org_id: int, desk: DeskDep, s: SessionDep,
           current: CurrentUser) -> Response:
    org, certs, records = views.client(s, org_id, desk.today())
    return desk.render(request, "client.html", current, org=org, certs=certs,
                       documents=records, record_types=RECORD_TYPES, accepted=ACCEPTED)


@router.get("/certificates/{number}", name="staff_certificate")
def certificate(request: Request, number: str, desk: DeskDep, s: SessionDep,
                current: CurrentUser) -> Response:
    page = views.certificate_page(s, desk.profiles, number, desk.today())
    profile = desk.profiles.get(page.main.cert.profile)
    grades = list(profile.rules.scoring.grade_names) if profile.scheme.graded else []
    return desk.render(request, "certificate.html", current, page=page, profile=profile,
                       grades=grades, record_types=RECORD_TYPES, accepted=ACCEPTED)


@router.get("/documents/{sha}", name="staff_document")
def document(sha: str, desk: DeskDep, s: SessionDep, current: CurrentUser) -> Response:
    row = views.record(s, sha)
    data = desk.store.read(row.sha256)
    with session_scope(desk.engine) as w:  # who read which record is part of the file's story
        events.append(w, "record.downloaded", record_subject(row.id),
                      {"sha256": row.sha256, "filename": row.filename}, current.user.name)
    return download(data, row.filename, row.media_type)


@router.get("/due", name="staff_due")
def due(request: Request, desk: DeskDep, current: CurrentUser, on: str = "",
        profile: str = "") -> Response:
    when = day(on, N_("参考日期")) or desk.today()
    if profile:
        known_profile(desk.profiles, profile)
    items = due_list(desk.engine, desk.profiles, when, profile or None)
    return desk.render(request, "due.html", current, items=items, on=when, profile=profile,
                       profiles=list(desk.profiles))
