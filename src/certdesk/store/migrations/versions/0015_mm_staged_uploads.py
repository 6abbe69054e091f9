"""Staged uploads in the database (issue 18): the file kept between the staff desk's issue
preview and its confirmation, readable by every web process on the database (it was a file
under one web process's home).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stagedupload',
                    sa.Column('key', sa.String(length=32), nullable=False),
                    sa.Column('owner', sa.String(length=64), nullable=False),
                    sa.Column('filename', sa.String(), nullable=False),
                    sa.Column('profile', sa.String(length=32), nullable=False),
                    sa.Column('sha256', sa.String(length=64), nullable=False),
                    sa.Column('form_token', sa.String(), nullable=False),
                    sa.Column('rows_json', sa.Text(), nullable=False),
                    sa.Column('data', sa.LargeBinary(), nullable=False),
                    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('key'))
    op.create_index('ix_stagedupload_created', 'stagedupload', ['created'])


def downgrade() -> None:
    op.drop_index('ix_stagedupload_created', table_name='stagedupload')
    op.drop_table('stagedupload')
