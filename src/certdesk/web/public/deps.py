"""The public pages' dependencies: a reader's database session (the public pages only
read; tests override ``get_session``, the SQLModel way), the settings, and the query
parameters every page takes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlmodel import Session

from certdesk.common.settings import Settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    # async: opening and closing a session is too short to be worth a thread hand-off.
    with Session(request.app.state.reader) as session:
        yield session


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
LANG = "zh (default) or en"
TOKEN = "The signed token from the QR code."
LangQuery = Annotated[str | None, Query(description=LANG)]
TokenQuery = Annotated[str | None, Query(description=TOKEN)]
