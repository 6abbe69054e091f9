"""Staff desk: failed sign-ins become one counter per account and per address (taken
atomically before a password is checked), and the CLI's OS-user ↔ account mapping.

The staff tables are still made by ``create_all`` (``web.staff.accounts.ensure_tables``);
this revision only changes a database where they already exist.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if 'staffuser' not in tables:
        return
    if 'staffloginfailure' in tables:
        op.drop_table('staffloginfailure')
    if 'stafflogincounter' not in tables:
        op.create_table('stafflogincounter',
                        sa.Column('key', sa.String(length=80), nullable=False),
                        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
                        sa.Column('failures', sa.Integer(), nullable=False),
                        sa.PrimaryKeyConstraint('key'))
        op.create_index('ix_stafflogincounter_window_start', 'stafflogincounter',
                        ['window_start'])
    if 'staffosuser' not in tables:
        op.create_table('staffosuser',
                        sa.Column('os_user', sa.String(length=64), nullable=False),
                        sa.Column('user_id', sa.Integer(), nullable=False),
                        sa.ForeignKeyConstraint(['user_id'], ['staffuser.id']),
                        sa.PrimaryKeyConstraint('os_user'))
        op.create_index('ix_staffosuser_user_id', 'staffosuser', ['user_id'])


def downgrade() -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    for table in ('staffosuser', 'stafflogincounter'):
        if table in tables:
            op.drop_table(table)
