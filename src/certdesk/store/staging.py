"""The ``stagedupload`` table: an organisations file kept between its per-row preview and
the confirmation that issues it (the staff desk's ``/staff/issue``). In the database, not
the web process's home, so the confirmation may reach another web process than the upload
did (several web hosts behind one address, docs/deployment.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import LargeBinary, Text, delete
from sqlalchemy.engine import Engine
from sqlmodel import Column, Field, Session, SQLModel, col, select

from certdesk.store.models import utcnow

KEEP = timedelta(days=1)
"""What nobody confirmed is removed after this long."""


class StagedUpload(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=32)
    """Random and unguessable (``secrets.token_urlsafe``): the preview page's address."""
    owner: str = Field(max_length=64)
    """The hash of the staff session that uploaded it: only it may read it."""
    filename: str
    profile: str = Field(max_length=32)
    sha256: str = Field(max_length=64)
    form_token: str
    """The issue form's one-time token, spent by the confirmation."""
    rows_json: str = Field(sa_column=Column(Text, nullable=False))
    """The rows as previewed (JSON)."""
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created: datetime = Field(default_factory=utcnow, index=True)


def add_staged(engine: Engine, staged: StagedUpload) -> None:
    """Keep ``staged``, removing what has waited longer than ``KEEP`` meanwhile."""
    with Session(engine) as s:
        s.execute(delete(StagedUpload).where(col(StagedUpload.created) < utcnow() - KEEP))
        s.add(staged)
        s.commit()


def get_staged(engine: Engine, key: str) -> StagedUpload | None:
    """The upload kept under ``key``, unless it is gone or older than ``KEEP``."""
    with Session(engine) as s:
        return s.exec(select(StagedUpload).where(col(StagedUpload.key) == key,
                                                 col(StagedUpload.created) >= utcnow() - KEEP)
                      ).first()


def drop_staged(engine: Engine, key: str) -> None:
    with Session(engine) as s:
        s.execute(delete(StagedUpload).where(col(StagedUpload.key) == key))
        s.commit()
