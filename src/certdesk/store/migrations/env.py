"""Alembic environment: runs on the connection ``store.db.init_db`` hands over, or on the
database the settings name when run as ``alembic upgrade head`` from the repository."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from certdesk.common.settings import get_settings
from certdesk.store.db import include_object, make_engine

target_metadata = SQLModel.metadata


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      include_object=include_object, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:  # the ``alembic`` command line, from the repository (alembic.ini)
    with make_engine(get_settings().db_url).begin() as conn:
        run(conn)
