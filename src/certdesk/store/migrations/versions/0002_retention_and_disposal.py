"""Retention and disposal: holds, closed applications, disposals; records gain a client
credit code and their tombstone fields.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 08:59:03.646257
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('applicationclosure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_uscc', sa.String(length=18), nullable=False),
    sa.Column('outcome', sa.String(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('closed_by', sa.String(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('applicationclosure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applicationclosure_client_uscc'), ['client_uscc'])

    op.create_table('disposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('proposed_by', sa.String(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.String(), nullable=True),
    sa.Column('certificate_sha256', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('disposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposal_status'), ['status'])

    op.create_table('hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_uscc', sa.String(length=18), nullable=True),
    sa.Column('certificate_number', sa.String(), nullable=True),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('placed_by', sa.String(), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_by', sa.String(), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hold_certificate_number'), ['certificate_number'])
        batch_op.create_index(batch_op.f('ix_hold_client_uscc'), ['client_uscc'])

    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_uscc', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('disposed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disposal_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_record_client_uscc'), ['client_uscc'])
        batch_op.create_index(batch_op.f('ix_record_disposal_id'), ['disposal_id'])
        batch_op.create_foreign_key('fk_record_disposal_id', 'disposal', ['disposal_id'], ['id'])

    op.create_table('disposalitem',
    sa.Column('disposal_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('record_type', sa.String(), nullable=False),
    sa.Column('filename', sa.String(), nullable=False),
    sa.Column('rule', sa.String(), nullable=False),
    sa.Column('anchor_kind', sa.String(), nullable=False),
    sa.Column('anchor', sa.Date(), nullable=False),
    sa.Column('period', sa.String(), nullable=False),
    sa.Column('retain_until', sa.Date(), nullable=False),
    sa.Column('clause', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['disposal_id'], ['disposal.id'], ),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], ),
    sa.PrimaryKeyConstraint('disposal_id', 'record_id')
    )


def downgrade() -> None:
    op.drop_table('disposalitem')
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.drop_constraint('fk_record_disposal_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_record_disposal_id'))
        batch_op.drop_index(batch_op.f('ix_record_client_uscc'))
        batch_op.drop_column('disposal_id')
        batch_op.drop_column('disposed_at')
        batch_op.drop_column('client_uscc')

    with op.batch_alter_table('hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hold_client_uscc'))
        batch_op.drop_index(batch_op.f('ix_hold_certificate_number'))

    op.drop_table('hold')
    with op.batch_alter_table('disposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposal_status'))

    op.drop_table('disposal')
    with op.batch_alter_table('applicationclosure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applicationclosure_client_uscc'))

    op.drop_table('applicationclosure')
