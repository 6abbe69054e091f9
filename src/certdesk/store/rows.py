"""Rows as the type checker sees them. SQLModel types a table's ``id`` ``int | None`` (None
until the row is flushed) and does not declare the ``__table__`` its metaclass sets: code
holding a stored row or a table model says so here once."""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import SQLModel


def stored_id(ident: int | None) -> int:
    """The id of a flushed or loaded row; None means the caller skipped the flush (a bug)."""
    if ident is None:
        raise ValueError("the row has no id yet: flush it first")
    return ident


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy ``Table`` of a ``table=True`` model."""
    table: Table = model.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass
    return table
