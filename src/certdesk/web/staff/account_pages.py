"""Account pages: each account changes its own password (``/staff/password``, where a reset
account is sent until it has); admins reset a password and change a role on the users
page. Every change is in the hash-chained log (``web.staff.accounts``)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine

from certdesk.common.errors import InputError
from certdesk.store.rows import stored_id
from certdesk.web.staff.accounts import (
    ROLES,
    change_password,
    must_change_password,
    reset_password,
    set_role,
)
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import Desk


def add_routes(router: APIRouter, desk: Desk, engine: Engine,
               done: Callable[..., Response]) -> None:
    """Register the pages on the staff router (before its catch-all route)."""

    @router.get("/password", name="staff_password")
    def password_page(request: Request, current: Current = Depends(
            desk.requires("view", before_password_change=True))) -> Response:
        return desk.render(request, "password.html", current,
                           forced=must_change_password(engine, stored_id(current.user.id)))

    @router.post("/password")
    def password(request: Request, current_password: str = Form(""),
                 new_password: str = Form(""), confirm: str = Form(""),
                 current: Current = Depends(
                     desk.posts("view", before_password_change=True))) -> Response:
        if new_password != confirm:
            raise InputError("两次输入的新密码不一致。")
        change_password(engine, current.user.name, current_password, new_password)
        return done(request, current, "密码已修改。", "staff_home")

    @router.post("/users/{name}/reset", name="staff_user_reset")
    def reset(request: Request, name: str, password: str = Form(""),
              current: Current = Depends(desk.posts("users"))) -> Response:
        if name == current.user.name:
            raise InputError("请在“修改密码”页面修改自己的密码。")
        reset_password(engine, name, password, actor=current.user.name)
        return done(request, current, f"已重置 {name} 的密码：其登录会话已结束，下次登录时须"
                    "先设置自己的新密码。", "staff_users")

    @router.post("/users/{name}/role", name="staff_user_role")
    def role(request: Request, name: str, role: str = Form(""),
             current: Current = Depends(desk.posts("users"))) -> Response:
        user = set_role(engine, name, role, actor=current.user.name)
        return done(request, current, f"{name} 的角色现为{ROLES[user.role]}。", "staff_users")
