"""The staff desk put together: ``router`` serves every area under ``/staff``, and
``mount(app, settings, engine)`` puts what its endpoints depend on into ``app.state``.

Endpoints are plain ``def``s on purpose: FastAPI runs them in its threadpool, so a page
that waits on LibreOffice (issuing, notices) or on the database never blocks the server's
event loop. Every form post carries the CSRF token and redirects (post/redirect/get), so a
reload never repeats an action.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy.engine import Engine

from certdesk.common.errors import NotFound
from certdesk.common.i18n import N_
from certdesk.common.settings import Settings
from certdesk.documents.converter import Converter
from certdesk.domain.profiles import Profiles, installed_profiles
from certdesk.services.jobs import Jobs
from certdesk.web.staff import (
    account_pages,
    actions,
    audit_log,
    home,
    issuing,
    job_pages,
    records,
    register,
    reporting,
    sign_in,
)
from certdesk.web.staff.deps import Publishing, publishing_lifespan
from certdesk.web.staff.web import Desk, area_router

# The icon is inline because the package data rules ship .css and .html, not .svg.
FAVICON = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
           b'<rect width="32" height="32" rx="6" fill="#1d4e89"/>'
           b'<path d="M9 16.5l4.5 4.5L23 11.5" fill="none" stroke="#fff" stroke-width="3.2" '
           b'stroke-linecap="round" stroke-linejoin="round"/></svg>')
STATIC = {"staff.css": (Path(__file__).with_name("static").joinpath("staff.css").read_bytes(),
                        "text/css"),
          "favicon.svg": (FAVICON, "image/svg+xml"),
          "jobs.js": (Path(__file__).with_name("static").joinpath("jobs.js").read_bytes(),
                      "text/javascript")}
AREAS = (sign_in, home, issuing, actions, records, account_pages, reporting, register,
         audit_log, job_pages)


@asynccontextmanager
async def desk_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The publisher first: the in-process job consumer signs with it."""
    async with publishing_lifespan(app), job_pages.consuming(app):
        yield


router = area_router(prefix="/staff", lifespan=desk_lifespan)


@router.get("/static/{name}", name="staff_static")
def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound(N_("页面不存在。"))
    data, media_type = STATIC[name]
    return Response(data, media_type=media_type, headers={"Cache-Control": "max-age=3600"})


for area in AREAS:
    router.include_router(area.router)


@router.api_route("/{path:path}", methods=["GET", "POST"], name="staff_not_found")
def not_found(path: str) -> Response:  # after every area: it matches any path
    raise NotFound(N_("页面不存在。"))


def mount(app: FastAPI, settings: Settings, engine: Engine, *,
          pool: Converter | None = None, profiles: Profiles | None = None) -> None:
    """Serve the staff desk on ``app``: its state and its pages. ``pool`` shares a warm
    LibreOffice pool; without one the desk's publisher keeps its own, started on the
    first document it produces and closed at shutdown. ``profiles``: the install's body
    profiles (default: those its settings name)."""
    profiles = profiles or installed_profiles(settings)
    app.state.staff_desk = Desk(settings, engine, profiles)
    app.state.staff_publishing = Publishing(settings, engine, pool, profiles)
    app.state.staff_chain_check = audit_log.ChainCheck(engine)
    app.state.staff_jobs = Jobs(settings, engine, app.state.staff_publishing)
    app.include_router(router)
