"""Account pages: each account changes its own password (``/staff/password``, where a reset
account is sent until it has); admins list, add, enable and disable accounts, reset a
password and change a role on the users page. Every change is in the hash-chained log
(``web.staff.accounts``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import Response

from certdesk.common.errors import InputError
from certdesk.common.i18n import N_
from certdesk.store.rows import stored_id
from certdesk.web.i18n import _, switch_to
from certdesk.web.staff.accounts import (
    ROLES,
    add_user,
    change_password,
    list_users,
    must_change_password,
    reset_password,
    set_active,
    set_language,
    set_role,
)
from certdesk.web.staff.deps import Admin, DeskDep, posts, requires
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import area_router

router = area_router()

OwnAccount = Annotated[Current, Depends(requires("view", before_password_change=True))]
OwnAccountPost = Annotated[Current, Depends(posts("view", before_password_change=True))]
AdminPost = Annotated[Current, Depends(posts("users"))]
Field = Annotated[str, Form()]


@router.get("/password", name="staff_password")
def password_page(request: Request, desk: DeskDep, current: OwnAccount) -> Response:
    return desk.render(request, "password.html", current,
                       forced=must_change_password(desk.engine, stored_id(current.user.id)))


@router.post("/password")
def password(request: Request, desk: DeskDep, current: OwnAccountPost,
             current_password: Field = "", new_password: Field = "",
             confirm: Field = "") -> Response:
    if new_password != confirm:
        raise InputError(N_("两次输入的新密码不一致。"))
    change_password(desk.engine, current.user.name, current_password, new_password)
    return desk.done(request, current, _("密码已修改。"), "staff_home")


@router.post("/language", name="staff_language")
def language(request: Request, desk: DeskDep, current: OwnAccountPost,
             language: Field = "") -> Response:
    """The account's own choice of the desk's language (empty: the browser's)."""
    user = set_language(desk.engine, current.user.name, language or None)
    if user.language:
        switch_to(user.language)  # the confirmation already in the chosen language
    return desk.done(request, current, _("界面语言已保存。"), "staff_password")


@router.get("/users", name="staff_users")
def users(request: Request, desk: DeskDep, current: Admin) -> Response:
    return desk.render(request, "users.html", current, users=list_users(desk.engine))


@router.post("/users")
def new_user(request: Request, desk: DeskDep, current: AdminPost, name: Field = "",
             role: Field = "", password: Field = "") -> Response:
    user = add_user(desk.engine, name, role, password, actor=current.user.name)
    return desk.done(request, current, _("已添加用户 {name}（{role}）。", name=user.name,
                                         role=_(ROLES[user.role])),
                     "staff_users")


@router.post("/users/{name}/active", name="staff_user_active")
def user_active(request: Request, name: str, desk: DeskDep, current: AdminPost,
                active: Annotated[bool, Form()]) -> Response:
    if name == current.user.name and not active:
        raise InputError(N_("不能停用自己的账户。"))
    set_active(desk.engine, name, active, actor=current.user.name)
    return desk.done(request, current, _("已启用用户 {name}。", name=name) if active
                     else _("已停用用户 {name}。", name=name),
                     "staff_users")


@router.post("/users/{name}/reset", name="staff_user_reset")
def reset(request: Request, name: str, desk: DeskDep, current: AdminPost,
          password: Field = "") -> Response:
    if name == current.user.name:
        raise InputError(N_("请在“修改密码”页面修改自己的密码。"))
    reset_password(desk.engine, name, password, actor=current.user.name)
    return desk.done(request, current, _("已重置 {name} 的密码：其登录会话已结束，下次登录时须"
                                         "先设置自己的新密码。", name=name), "staff_users")


@router.post("/users/{name}/role", name="staff_user_role")
def role(request: Request, name: str, desk: DeskDep, current: AdminPost,
         role: Field = "") -> Response:
    user = set_role(desk.engine, name, role, actor=current.user.name)
    return desk.done(request, current, _("{name} 的角色现为{role}。", name=name,
                                         role=_(ROLES[user.role])), "staff_users")
