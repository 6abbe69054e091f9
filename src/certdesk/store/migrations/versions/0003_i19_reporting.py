"""Reporting to the regulator: report items, export batches and the certificates to be
returned after revocation or cancellation (issue 19).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 05:31:36.865443
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reportbatch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('include_sent', sa.Boolean(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_by', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('certificatereturn',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_number', sa.String(), nullable=False),
    sa.Column('main_number', sa.String(), nullable=True),
    sa.Column('event_kind', sa.String(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('how', sa.String(), nullable=True),
    sa.Column('recorded_by', sa.String(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_seq'], ['event.seq'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('certificate_number', 'event_seq')
    )
    with op.batch_alter_table('certificatereturn', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificatereturn_certificate_number'),
                              ['certificate_number'])
        batch_op.create_index(batch_op.f('ix_certificatereturn_event_seq'), ['event_seq'])
        batch_op.create_index(batch_op.f('ix_certificatereturn_status'), ['status'])

    op.create_table('reportitem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_number', sa.String(), nullable=False),
    sa.Column('main_number', sa.String(), nullable=True),
    sa.Column('event_kind', sa.String(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.Column('event_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_by', sa.String(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['reportbatch.id'], ),
    sa.ForeignKeyConstraint(['event_seq'], ['event.seq'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('certificate_number', 'event_kind', 'event_seq')
    )
    with op.batch_alter_table('reportitem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reportitem_batch_id'), ['batch_id'])
        batch_op.create_index(batch_op.f('ix_reportitem_certificate_number'),
                              ['certificate_number'])
        batch_op.create_index(batch_op.f('ix_reportitem_due_date'), ['due_date'])
        batch_op.create_index(batch_op.f('ix_reportitem_event_kind'), ['event_kind'])
        batch_op.create_index(batch_op.f('ix_reportitem_event_seq'), ['event_seq'])
        batch_op.create_index(batch_op.f('ix_reportitem_status'), ['status'])

    op.create_table('reportbatchitem',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['reportbatch.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['reportitem.id'], ),
    sa.PrimaryKeyConstraint('batch_id', 'item_id')
    )


def downgrade() -> None:
    op.drop_table('reportbatchitem')
    with op.batch_alter_table('reportitem', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reportitem_status'))
        batch_op.drop_index(batch_op.f('ix_reportitem_event_seq'))
        batch_op.drop_index(batch_op.f('ix_reportitem_event_kind'))
        batch_op.drop_index(batch_op.f('ix_reportitem_due_date'))
        batch_op.drop_index(batch_op.f('ix_reportitem_certificate_number'))
        batch_op.drop_index(batch_op.f('ix_reportitem_batch_id'))

    op.drop_table('reportitem')
    with op.batch_alter_table('certificatereturn', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificatereturn_status'))
        batch_op.drop_index(batch_op.f('ix_certificatereturn_event_seq'))
        batch_op.drop_index(batch_op.f('ix_certificatereturn_certificate_number'))

    op.drop_table('certificatereturn')
    op.drop_table('reportbatch')
