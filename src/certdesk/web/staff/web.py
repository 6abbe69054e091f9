"""The staff desk's plumbing: page rendering, sign-in and role checks, CSRF checks, and the
route class that turns every failure into a friendly Chinese page with the right status.

The router cannot install app-wide middleware or exception handlers (the public app owns
those), so ``StaffRoute`` wraps each of its own endpoints instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from certdesk.common import clock
from certdesk.common.errors import CertdeskError, InputError, NotFound, RuleViolation
from certdesk.common.settings import Settings
from certdesk.documents.qr import phone_cannot_open
from certdesk.domain.profiles import Profiles
from certdesk.web.staff import sessions
from certdesk.web.staff.accounts import ROLES, may, must_change_password
from certdesk.web.staff.sessions import Current

log = logging.getLogger("certdesk.staff")

TEMPLATES = Path(__file__).with_name("templates")

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


ERROR_TITLES = {400: "请求有误", 403: "无权操作", 404: "未找到", 409: "不能执行此操作"}

STATUS_OF = ((NotFound, 404), (Forbidden, 403), (InputError, 400), (RuleViolation, 409))


def status_of(exc: CertdeskError) -> int:
    """4xx for what the user can fix; other expected failures (LibreOffice, keys, the
    store) are ours: 500, still with their one-line message."""
    return next((code for cls, code in STATUS_OF if isinstance(exc, cls)), 500)


class Desk:
    """Settings, database and templates of one mounted staff desk."""

    def __init__(self, settings: Settings, engine: Engine, profiles: Profiles) -> None:
        self.settings = settings
        self.engine = engine
        self.profiles = profiles
        self.zone = ZoneInfo(settings.staff_timezone)
        self.env = Environment(loader=FileSystemLoader(TEMPLATES),
                               autoescape=select_autoescape(default=True),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.filters["local_time"] = self.local_time
        self.env.globals["roles"] = ROLES
        # The issuing pages warn: QR codes on a loopback public URL open on no phone.
        self.env.globals["qr_unreachable"] = (settings.public_url
                                              if phone_cannot_open(settings.public_url)
                                              else None)

    def today(self) -> date:
        return clock.today()

    def local_time(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    # -- sessions and permissions -----------------------------------------------------------

    def current(self, request: Request) -> Current | None:
        return sessions.load(self.engine, self.settings, request.cookies.get(sessions.COOKIE))

    def requires(self, action: str, *, before_password_change: bool = False
                 ) -> Callable[..., Current]:
        """Dependency: a signed-in account whose role may do ``action`` (and whose password
        is its own, except on the pages that change it)."""

        def dependency(request: Request) -> Current:  # sync: FastAPI runs it in a thread
            current = self.current(request)
            if current is None or current.user is None:
                raise LoginRequired
            if not before_password_change and must_change_password(self.engine,
                                                                   current.user.id):
                raise PasswordChangeRequired
            if not may(current.user.role, action):
                raise Forbidden(f"您的角色（{ROLES[current.user.role]}）无权执行此操作。")
            return current

        return dependency

    def posts(self, action: str, *, before_password_change: bool = False
              ) -> Callable[..., Any]:
        """Dependency for a form post: as ``requires``, and the form carries the session's
        CSRF token (synchronizer token pattern)."""
        allowed = self.requires(action, before_password_change=before_password_change)

        async def dependency(request: Request, current: Current = Depends(allowed)) -> Current:
            form = await request.form()  # FastAPI has parsed it already: cached
            if not sessions.csrf_ok(current, form.get("csrf")):
                raise Forbidden("表单校验失败（CSRF 令牌缺失或无效）。请刷新页面后重试。")
            return current

        return dependency

    def set_cookie(self, request: Request, response: Response, token: str) -> None:
        response.set_cookie(sessions.COOKIE, token, path=self.base(request), httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")

    # -- pages ------------------------------------------------------------------------------

    @staticmethod
    def base(request: Request) -> str:
        return request.url_for("staff_home").path

    def render(self, request: Request, template: str, current: Current | None,
               status_code: int = 200, **context: Any) -> HTMLResponse:
        me = current.user if current else None

        def href(route: str, /, **params: Any) -> str:
            return request.url_for(route, **params).path

        html = self.env.get_template(template).render(
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
                           title=ERROR_TITLES.get(status_code, "出错了"), message=message)

    def redirect(self, request: Request, route: str, /, **params: Any) -> RedirectResponse:
        return RedirectResponse(request.url_for(route, **params).path, status_code=303)


def query_int(request: Request, key: str, label: str) -> int | None:
    """A whole-number GET parameter (a filter's page size, a cursor), refused in Chinese."""
    text = request.query_params.get(key, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InputError(f"{label}“{text}”应为整数。")
    return int(text)


def download(data: bytes, filename: str, media_type: str) -> Response:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


def staff_route_class(desk: Desk) -> type[APIRoute]:
    """A route class bound to ``desk`` whose endpoints never show a traceback."""

    class StaffRoute(APIRoute):
        def get_route_handler(self) -> Callable:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                failure: tuple[int, str] | None = None
                try:
                    response = await handler(request)
                except LoginRequired:
                    target = request.url_for("staff_login").path
                    if request.method == "GET":  # come back here, query included
                        here = request.url.path + (f"?{request.url.query}"
                                                   if request.url.query else "")
                        target += f"?next={quote(here)}"
                    response = RedirectResponse(target, status_code=303)
                except PasswordChangeRequired:
                    response = RedirectResponse(request.url_for("staff_password").path,
                                                status_code=303)
                except CertdeskError as exc:
                    failure = status_of(exc), str(exc)
                except RequestValidationError as exc:
                    fields = sorted({str(e["loc"][-1]) for e in exc.errors()})
                    failure = 400, f"表单不完整或格式不对：{'、'.join(fields)}"
                except HTTPException as exc:
                    failure = exc.status_code, str(exc.detail)
                except Exception:
                    log.exception("staff desk: %s %s failed", request.method, request.url.path)
                    failure = 500, "系统内部错误，操作未完成。已记录，请联系系统管理员。"
                if failure is not None:  # the page reads the session: off the event loop
                    response = await run_in_threadpool(desk.error_page, request, *failure)
                for header, value in SECURITY_HEADERS.items():
                    response.headers.setdefault(header, value)
                return response

            return guarded

    return StaffRoute
