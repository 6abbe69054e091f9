"""The staff desk's plumbing: the ``Desk`` (page rendering, messages, redirects), and the
route class that turns every failure into a friendly page, in the reader's language, with
the right status. Role and CSRF checks are dependencies (``deps``).

The router cannot install app-wide middleware or exception handlers (the public app owns
those), so ``StaffRoute`` wraps each of its own endpoints instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.ext import i18n as jinja_i18n
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from certdesk.common import clock
from certdesk.common.errors import CertdeskError, InputError, NotFound, RuleViolation
from certdesk.common.i18n import HTML_LANG, LANGS, N_, Msg, catalog
from certdesk.common.settings import Settings
from certdesk.documents.qr import phone_cannot_open
from certdesk.domain.profiles import Profiles
from certdesk.store.blobs import open_store
from certdesk.store.db import reader
from certdesk.web.i18n import (
    OTHER,
    _,
    current_lang,
    record_type_label,
    request_lang,
    serve_in,
)
from certdesk.web.staff import sessions
from certdesk.web.staff.accounts import ROLES, may
from certdesk.web.staff.forms import MAX_UPLOAD
from certdesk.web.staff.sessions import Current, Visit

log = logging.getLogger("certdesk.staff")

TEMPLATES = Path(__file__).with_name("templates")
MAX_BODY = 4 * MAX_UPLOAD
"""Hard cap on any request to the desk, refused before it is read (abuse, not mistakes)."""

# No script runs on these pages at all; forms post only to us; nobody may frame them.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class Forbidden(CertdeskError):
    """The account's role may not do this, or the form's CSRF token is wrong."""


class LoginRequired(Exception):
    """No live session: answered with a redirect to the sign-in page."""


class PasswordChangeRequired(Exception):
    """The account's password was reset: answered with a redirect to the password form."""


ERROR_TITLES = {400: N_("请求有误"), 403: N_("无权操作"), 404: N_("未找到"),
                409: N_("不能执行此操作")}

STATUS_OF = ((NotFound, 404), (Forbidden, 403), (InputError, 400), (RuleViolation, 409))


def status_of(exc: CertdeskError) -> int:
    """4xx for what the user can fix; other expected failures (LibreOffice, keys, the
    store) are ours: 500, still with their one-line message."""
    return next((code for cls, code in STATUS_OF if isinstance(exc, cls)), 500)


class Desk:
    """Settings, database, archive store, body profiles and templates of one mounted staff
    desk (``app.state.staff_desk``)."""

    def __init__(self, settings: Settings, engine: Engine, profiles: Profiles) -> None:
        self.settings = settings
        self.engine = engine
        self.profiles = profiles
        self.reader = reader(engine)  # for SessionDep: on SQLite, no write lock while a page reads
        self.store = open_store(settings)
        self.zone = ZoneInfo(settings.staff_timezone)
        # One environment per language: gettext is installed into an environment.
        self.envs = {lang: self._environment(lang) for lang in LANGS}
        self.env = self.envs["zh"]

    def _environment(self, lang: str) -> Environment:
        env = Environment(loader=FileSystemLoader(TEMPLATES),
                          autoescape=select_autoescape(default=True), extensions=[jinja_i18n],
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        env.install_gettext_translations(catalog(lang), newstyle=True)  # type: ignore[attr-defined]
        env.filters["local_time"] = self.local_time
        env.filters["record_type"] = record_type_label
        env.globals["roles"] = ROLES
        env.globals["lang"], env.globals["html_lang"] = lang, HTML_LANG[lang]
        env.globals["other_lang"], env.globals["other_lang_name"] = OTHER[lang]
        # The issuing pages warn: QR codes on a loopback public URL open on no phone.
        env.globals["qr_unreachable"] = (self.settings.public_url
                                         if phone_cannot_open(self.settings.public_url)
                                         else None)
        return env

    def today(self) -> date:
        return clock.today()

    def local_time(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    # -- sessions --------------------------------------------------------------------------

    def current(self, request: Request) -> Visit | None:
        return sessions.load(self.engine, self.settings, request.cookies.get(sessions.COOKIE))

    def set_cookie(self, request: Request, response: Response, token: str) -> None:
        response.set_cookie(sessions.COOKIE, token, path=self.base(request), httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")

    # -- pages ------------------------------------------------------------------------------

    @staticmethod
    def base(request: Request) -> str:
        return request.url_for("staff_home").path

    def render(self, request: Request, template: str, current: Visit | None,
               status_code: int = 200, **context: Any) -> HTMLResponse:
        me = current.user if current else None

        def href(route: str, /, **params: Any) -> str:
            return request.url_for(route, **params).path

        html = self.envs[current_lang()].get_template(template).render(
            request=request, me=me, csrf=current.csrf_token if current else "",
            flash=current.flash if current else None, href=href, today=self.today(),
            may=(lambda action: me is not None and may(me.role, action)), **context)
        if current is not None and current.flash:
            sessions.clear_flash(self.engine, current)  # shown once
        return HTMLResponse(html, status_code=status_code)

    def error_page(self, request: Request, status_code: int, message: str) -> HTMLResponse:
        try:
            current = self.current(request)
        except Exception:  # the database itself may be what failed
            current = None
        return self.render(request, "error.html", current, status_code=status_code,
                           title=_(ERROR_TITLES.get(status_code, N_("出错了"))), message=message)

    def redirect(self, request: Request, route: str, /, **params: Any) -> RedirectResponse:
        return RedirectResponse(request.url_for(route, **params).path, status_code=303)

    def done(self, request: Request, current: Current, text: str, to: str, *,
             numbers: list[str] | None = None, details: list[str] | None = None,
             level: str = "ok", **params: Any) -> RedirectResponse:
        """After a form post: the message for the next page (``text`` already in the
        reader's language: ``_()``), and a redirect to it."""
        sessions.set_flash(self.engine, current, level, text, numbers, details)
        return self.redirect(request, to, **params)

    def safe_next(self, request: Request, target: str) -> str:
        """Where to go after signing in: a page of this desk, never another site."""
        base = self.base(request)
        if target.startswith(base) and "//" not in target and "\\" not in target:
            return target
        return base


def query_int(request: Request, key: str, label: str) -> int | None:
    """A whole-number GET parameter (a filter's page size, a cursor); ``label`` is a msgid."""
    text = request.query_params.get(key, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InputError(N_("{label}“{text}”应为整数。"), label=Msg(label), text=text)
    return int(text)


def download(data: bytes, filename: str, media_type: str) -> Response:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


def desk_of(request: Request) -> Desk:
    """The desk mounted on the app serving ``request`` (``router.mount``)."""
    desk: Desk = request.app.state.staff_desk
    return desk


def _failure(request: Request, exc: Exception) -> tuple[int, str]:
    """Status and one-line message of an endpoint's failure (logged when unexpected)."""
    if isinstance(exc, CertdeskError):
        return status_of(exc), exc.text(current_lang())
    if isinstance(exc, RequestValidationError):
        fields = sorted({str(e["loc"][-1]) for e in exc.errors()})
        return 400, _("表单不完整或格式不对：{fields}", fields=_("、").join(fields))
    if isinstance(exc, HTTPException):
        return exc.status_code, str(exc.detail)
    log.exception("staff desk: %s %s failed", request.method, request.url.path, exc_info=exc)
    return 500, _("系统内部错误，操作未完成。已记录，请联系系统管理员。")


def _sign_in_first(request: Request) -> RedirectResponse:
    target = request.url_for("staff_login").path
    if request.method == "GET":  # come back here, query included
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += f"?next={quote(here)}"
    return RedirectResponse(target, status_code=303)


class StaffRoute(APIRoute):
    """The desk's route class: its endpoints never show a traceback."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            serve_in(request_lang(request))  # the account's own choice once it is known
            try:
                response = await handler(request)
            except LoginRequired:
                response = _sign_in_first(request)
            except PasswordChangeRequired:
                response = RedirectResponse(request.url_for("staff_password").path,
                                            status_code=303)
            except Exception as exc:
                # The page reads the session: off the event loop.
                response = await run_in_threadpool(desk_of(request).error_page, request,
                                                   *_failure(request, exc))
            for header, value in SECURITY_HEADERS.items():
                response.headers.setdefault(header, value)
            return response

        return guarded


def area_router(**options: Any) -> APIRouter:
    """A router of the desk's pages (an area's; ``/staff`` is added where the areas are put
    together)."""
    return APIRouter(route_class=StaffRoute, include_in_schema=False, max_body_size=MAX_BODY,
                     **options)
