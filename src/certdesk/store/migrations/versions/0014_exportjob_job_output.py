"""A job's produced file (issue 17: register exports run as background jobs): ``job.output``,
the ``.xlsx``, ``.csv`` or zip of PDFs an export job wrote, downloaded from the job page.
In the row, not a file beside the database: 100,000 rows are 3.7 MB of ``.xlsx`` or 13 MB
of CSV, well inside a SQLite BLOB or a PostgreSQL ``bytea`` (1 GB each), and the row goes
wherever the database goes (backups, several machines) without a shared folder.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('output', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('output')
