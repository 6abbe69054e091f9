"""The staff desk's tables come under Alembic (issue 16): accounts, sessions, sign-in
counters, the CLI's OS-user mapping and password resets.

Desks made before this revision have them already (``create_all`` made them, in the shape
the models still have): each table that exists is left as it is.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 08:55:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _staffuser() -> None:
    op.create_table('staffuser',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('name', sa.String(length=32), nullable=False),
                    sa.Column('role', sa.String(length=32), nullable=False),
                    sa.Column('password_hash', sa.String(), nullable=False),
                    sa.Column('active', sa.Boolean(), nullable=False),
                    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('last_login', sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_staffuser_name', 'staffuser', ['name'], unique=True)


def _staffsession() -> None:
    op.create_table('staffsession',
                    sa.Column('token_hash', sa.String(length=64), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=True),
                    sa.Column('csrf_token', sa.String(), nullable=False),
                    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('expires', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('flash', sa.String(), nullable=True),
                    sa.Column('form_token', sa.String(), nullable=True),
                    sa.ForeignKeyConstraint(['user_id'], ['staffuser.id']),
                    sa.PrimaryKeyConstraint('token_hash'))
    op.create_index('ix_staffsession_user_id', 'staffsession', ['user_id'])
    op.create_index('ix_staffsession_expires', 'staffsession', ['expires'])


def _stafflogincounter() -> None:
    op.create_table('stafflogincounter',
                    sa.Column('key', sa.String(length=80), nullable=False),
                    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('failures', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('key'))
    op.create_index('ix_stafflogincounter_window_start', 'stafflogincounter',
                    ['window_start'])


def _staffosuser() -> None:
    op.create_table('staffosuser',
                    sa.Column('os_user', sa.String(length=64), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(['user_id'], ['staffuser.id']),
                    sa.PrimaryKeyConstraint('os_user'))
    op.create_index('ix_staffosuser_user_id', 'staffosuser', ['user_id'])


def _staffpasswordreset() -> None:
    op.create_table('staffpasswordreset',
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.Column('by', sa.String(length=32), nullable=False),
                    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['user_id'], ['staffuser.id']),
                    sa.PrimaryKeyConstraint('user_id'))


TABLES: dict[str, Callable[[], None]] = {
    'staffuser': _staffuser, 'staffsession': _staffsession,
    'stafflogincounter': _stafflogincounter, 'staffosuser': _staffosuser,
    'staffpasswordreset': _staffpasswordreset}
"""In creation order (staffuser first: the others refer to it)."""


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    # The tables stay: before this revision create_all made them, and they hold accounts.
    pass
