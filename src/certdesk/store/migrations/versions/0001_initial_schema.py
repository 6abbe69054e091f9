"""Initial schema: the tables certdesk had before migrations (issuing, numbering, log).

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 08:58:49.467675
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('event',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('subject', sa.String(), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.Column('data', sa.String(), nullable=False),
    sa.Column('prev_hash', sa.String(), nullable=False),
    sa.Column('hash', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_kind'), ['kind'])
        batch_op.create_index(batch_op.f('ix_event_subject'), ['subject'])

    op.create_table('loghead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # The log head row exists before any append, so appends only ever UPDATE it.
    op.execute(sa.text("INSERT INTO loghead (id, seq, hash) VALUES (1, 0, :h)")
               .bindparams(h="0" * 64))
    op.create_table('numbercounter',
    sa.Column('body_code', sa.String(), nullable=False),
    sa.Column('scheme', sa.String(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('body_code', 'scheme', 'year')
    )
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('registered_address', sa.String(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_uscc'), ['uscc'], unique=True)

    op.create_table('voidnumber',
    sa.Column('number', sa.String(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(), nullable=False),
    sa.Column('main_number', sa.String(), nullable=True),
    sa.Column('profile', sa.String(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.Integer(), nullable=True),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('holder_name', sa.String(), nullable=False),
    sa.Column('scope', sa.String(), nullable=False),
    sa.Column('site_address', sa.String(), nullable=True),
    sa.Column('sites_json', sa.String(), nullable=False),
    sa.Column('grade', sa.String(), nullable=True),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('expiry_date', sa.Date(), nullable=False),
    sa.Column('reissue_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('status_reason', sa.String(), nullable=True),
    sa.Column('status_changed', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pdf_sha256', sa.String(), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_main_number'), ['main_number'])
        batch_op.create_index(batch_op.f('ix_certificate_number'), ['number'], unique=True)
        batch_op.create_index(batch_op.f('ix_certificate_organisation_id'), ['organisation_id'])
        batch_op.create_index(batch_op.f('ix_certificate_pdf_sha256'), ['pdf_sha256'])
        batch_op.create_index(batch_op.f('ix_certificate_profile'), ['profile'])
        batch_op.create_index(batch_op.f('ix_certificate_status'), ['status'])

    op.create_table('record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.String(), nullable=False),
    sa.Column('filename', sa.String(), nullable=False),
    sa.Column('media_type', sa.String(), nullable=False),
    sa.Column('profile', sa.String(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('certificate_number', sa.String(), nullable=True),
    sa.Column('signer', sa.String(), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_certificate_number'), ['certificate_number'])
        batch_op.create_index(batch_op.f('ix_record_organisation_id'), ['organisation_id'])
        batch_op.create_index(batch_op.f('ix_record_profile'), ['profile'])
        batch_op.create_index(batch_op.f('ix_record_record_type'), ['record_type'])
        batch_op.create_index(batch_op.f('ix_record_sha256'), ['sha256'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_sha256'))
        batch_op.drop_index(batch_op.f('ix_record_record_type'))
        batch_op.drop_index(batch_op.f('ix_record_profile'))
        batch_op.drop_index(batch_op.f('ix_record_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_record_certificate_number'))

    op.drop_table('record')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_status'))
        batch_op.drop_index(batch_op.f('ix_certificate_profile'))
        batch_op.drop_index(batch_op.f('ix_certificate_pdf_sha256'))
        batch_op.drop_index(batch_op.f('ix_certificate_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_number'))
        batch_op.drop_index(batch_op.f('ix_certificate_main_number'))

    op.drop_table('certificate')
    op.drop_table('voidnumber')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_uscc'))

    op.drop_table('organisation')
    op.drop_table('numbercounter')
    op.drop_table('loghead')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_subject'))
        batch_op.drop_index(batch_op.f('ix_event_kind'))

    op.drop_table('event')
