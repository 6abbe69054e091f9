"""Signing in and out (``/staff/login``, ``/staff/logout``). The sign-in form's CSRF token
comes from a pre-login cookie, so an anonymous visitor costs no database row."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from certdesk.common.i18n import N_
from certdesk.web.i18n import current_lang
from certdesk.web.staff import sessions
from certdesk.web.staff.accounts import LoginFailed, TooManyAttempts, authenticate
from certdesk.web.staff.deps import DeskDep, posts
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import Forbidden, area_router

router = area_router()

SignedIn = Annotated[Current, Depends(posts("view", before_password_change=True))]


@router.get("/login", name="staff_login")
def login_page(request: Request, desk: DeskDep,
               next_: Annotated[str, Query(alias="next")] = "") -> Response:
    current = desk.current(request)
    if current is not None and current.user is not None:
        return RedirectResponse(desk.safe_next(request, next_), status_code=303)
    token = None
    if current is None:  # the pre-login cookie carries the sign-in form's CSRF token
        token = request.cookies.get(sessions.COOKIE) or sessions.new_token()
        current = sessions.prelogin(token)
    response = desk.render(request, "login.html", current, next=desk.safe_next(request, next_),
                           error=None, name="")
    if token:
        desk.set_cookie(request, response, token)
    return response


@router.post("/login")
def login(request: Request, desk: DeskDep, name: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "",
          next_: Annotated[str, Form(alias="next")] = "") -> Response:
    current = desk.current(request)
    if current is None and request.cookies.get(sessions.COOKIE):
        current = sessions.prelogin(request.cookies[sessions.COOKIE])
    if current is None or not sessions.csrf_ok(current, csrf):
        raise Forbidden(N_("登录页面已过期（CSRF 令牌缺失或无效），请重新打开登录页面。"))
    address = request.client.host if request.client else "unknown"
    try:
        user = authenticate(desk.engine, desk.settings, name, password, address)
    except (LoginFailed, TooManyAttempts) as exc:
        return desk.render(request, "login.html", current,
                           status_code=429 if isinstance(exc, TooManyAttempts) else 401,
                           next=desk.safe_next(request, next_), error=exc.text(current_lang()),
                           name=name)
    token = sessions.sign_in(desk.engine, desk.settings, user, address, current.token_hash)
    response = RedirectResponse(desk.safe_next(request, next_), status_code=303)
    desk.set_cookie(request, response, token)
    return response


@router.post("/logout", name="staff_logout")
def logout(request: Request, desk: DeskDep, current: SignedIn) -> Response:
    sessions.sign_out(desk.engine, current)
    response = desk.redirect(request, "staff_login")
    response.delete_cookie(sessions.COOKIE, path=desk.base(request))
    return response
