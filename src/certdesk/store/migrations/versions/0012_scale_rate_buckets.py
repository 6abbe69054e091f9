"""The shared rate limit's buckets (issue 18): several web processes on one database take
the tokens of PDF checks, searches and staff sign-ins from one bucket per address.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ratebucket',
                    sa.Column('key', sa.String(length=80), nullable=False),
                    sa.Column('tokens', sa.Float(), nullable=False),
                    sa.Column('at', sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint('key'))
    op.create_index('ix_ratebucket_at', 'ratebucket', ['at'])


def downgrade() -> None:
    op.drop_index('ix_ratebucket_at', table_name='ratebucket')
    op.drop_table('ratebucket')
