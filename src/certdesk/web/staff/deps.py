"""The desk's dependencies, as ``Annotated`` types the endpoints declare: the mounted
``Desk``, a database session, the app's one ``Publisher``, and the signed-in account whose
role may do an action (``CurrentUser`` for any role).

A form post declares its action's ``posts(...)`` alias instead: the account, and the form's
CSRF token checked against the session's (synchronizer token pattern).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from certdesk.common.errors import CertdeskError
from certdesk.common.i18n import N_, Msg
from certdesk.common.settings import Settings
from certdesk.documents.converter import Converter
from certdesk.domain.profiles import Profiles
from certdesk.services.issuing import Issuer
from certdesk.services.publisher import Publisher
from certdesk.store.rows import stored_id
from certdesk.web.i18n import switch_to
from certdesk.web.staff import sessions
from certdesk.web.staff.accounts import ROLES, may, must_change_password
from certdesk.web.staff.sessions import Current
from certdesk.web.staff.web import Desk, Forbidden, LoginRequired, PasswordChangeRequired, desk_of

log = logging.getLogger("certdesk.staff")


class Publishing:
    """The app's one ``Publisher`` (key, signer, converter pool), opened at start-up and
    shared by every request; opened on first use where no lifespan runs (a bare test app)."""

    def __init__(self, settings: Settings, engine: Engine, pool: Converter | None,
                 profiles: Profiles) -> None:
        self.settings, self.engine, self.pool = settings, engine, pool
        self.profiles = profiles
        self._lock = threading.Lock()  # two first requests at once open one publisher
        self._publisher: Publisher | None = None

    def __call__(self) -> Publisher:
        with self._lock:
            if self._publisher is None:
                self._publisher = Publisher(settings=self.settings, engine=self.engine,
                                            pool=self.pool, profiles=self.profiles)
            return self._publisher

    def close(self) -> None:
        with self._lock:
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None


@asynccontextmanager
async def publishing_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the publisher before the first request and close its pool at shutdown. A key
    that cannot be loaded does not stop the desk's reading pages: the actions then show
    the one-line reason."""
    publishing: Publishing = app.state.staff_publishing
    try:
        publishing()
    except CertdeskError as exc:
        log.warning("staff desk: signing key not loaded at start-up: %s", exc)
    yield
    publishing.close()


def get_session(request: Request) -> Iterator[Session]:
    """A session for reading (writes go through ``session_scope`` of the desk's engine)."""
    with Session(desk_of(request).reader) as session:
        yield session


def get_publisher(request: Request) -> Publisher:
    publishing: Publishing = request.app.state.staff_publishing
    return publishing()


DeskDep = Annotated[Desk, Depends(desk_of)]
SessionDep = Annotated[Session, Depends(get_session)]
PublisherDep = Annotated[Publisher, Depends(get_publisher)]


def issuer_for(publisher: Publisher, profile_id: str, current: Current) -> Issuer:
    """An issuer of ``profile_id`` on the shared publisher, acting as the signed-in user."""
    return Issuer(publisher.profiles.get(profile_id), actor=current.user.name,
                  shared=publisher)


def requires(action: str, *, before_password_change: bool = False
             ) -> Callable[..., Current]:
    """Dependency: a signed-in account whose role may do ``action`` (and whose password
    is its own, except on the pages that change it)."""

    def dependency(request: Request, desk: DeskDep) -> Current:  # sync: run in a thread
        current = desk.current(request)
        if current is None or current.user is None:
            raise LoginRequired
        if not before_password_change and must_change_password(desk.engine,
                                                               stored_id(current.user.id)):
            raise PasswordChangeRequired
        if current.user.language:
            switch_to(current.user.language)
        if not may(current.user.role, action):
            raise Forbidden(N_("您的角色（{role}）无权执行此操作。"),
                            role=Msg(ROLES[current.user.role]))
        return Current(current.token_hash, current.csrf_token, current.user, current.flash)

    return dependency


def posts(action: str, *, before_password_change: bool = False
          ) -> Callable[..., Coroutine[Any, Any, Current]]:
    """Dependency for a form post: as ``requires``, and the form carries the session's
    CSRF token."""
    allowed = requires(action, before_password_change=before_password_change)

    # A plain default: with postponed annotations FastAPI could not see ``allowed`` (local).
    async def dependency(request: Request, current: Current = Depends(allowed)) -> Current:
        form = await request.form()  # FastAPI has parsed it already: cached
        if not sessions.csrf_ok(current, form.get("csrf")):
            raise Forbidden(N_("表单校验失败（CSRF 令牌缺失或无效）。请刷新页面后重试。"))
        return current

    return dependency


CurrentUser = Annotated[Current, Depends(requires("view"))]
"""Any signed-in account (every role may read the desk)."""
RecordsOfficer = Annotated[Current, Depends(requires("records"))]
Admin = Annotated[Current, Depends(requires("users"))]
