"""Jobs (issue 17 item 4): the ``job`` table of the staff desk's background work, and the
task queue's own tables for installs whose queue lives in the archive's database
(PostgreSQL, shared by workers on several machines: huey's ``PostgresStorage`` with the
table prefix ``queue``, ``services.jobs``). An embedded install's queue is a file of its
own and leaves them empty.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = ("queued", "running", "done", "failed", "interrupted")


def upgrade() -> None:
    op.create_table(
        'job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('state', sa.Enum(*STATES, name='ck_job_state', native_enum=False,
                                   create_constraint=True, length=16), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('account', sa.String(length=32), nullable=False),
        sa.Column('profile', sa.String(length=32), nullable=False),
        sa.Column('input_name', sa.String(), nullable=False),
        sa.Column('input_data', sa.LargeBinary(), nullable=False),
        sa.Column('worker', sa.String(length=128), nullable=True),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished', sa.DateTime(timezone=True), nullable=True),
        sa.Column('result_json', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_job_state', 'job', ['state'])
    op.create_index('ix_job_account', 'job', ['account'])
    op.create_index('ix_job_created', 'job', ['created'])
    # huey's PostgresStorage tables (huey/storage.py), with its DDL's types.
    serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table('queue_kv',
                    sa.Column('queue', sa.Text(), nullable=False),
                    sa.Column('key', sa.Text(), nullable=False),
                    sa.Column('value', sa.LargeBinary(), nullable=False),
                    sa.PrimaryKeyConstraint('queue', 'key'))
    op.create_table('queue_schedule',
                    sa.Column('id', serial, autoincrement=True, nullable=False),
                    sa.Column('queue', sa.Text(), nullable=False),
                    sa.Column('data', sa.LargeBinary(), nullable=False),
                    sa.Column('timestamp', sa.Double(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('queue_schedule_queue_timestamp', 'queue_schedule',
                    ['queue', 'timestamp'])
    op.create_table('queue_task',
                    sa.Column('id', serial, autoincrement=True, nullable=False),
                    sa.Column('queue', sa.Text(), nullable=False),
                    sa.Column('data', sa.LargeBinary(), nullable=False),
                    sa.Column('priority', sa.Double(), server_default='0', nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('queue_task_queue_priority_id', 'queue_task',
                    ['queue', sa.text('priority DESC'), 'id'])
    op.create_table('queue_counter',
                    sa.Column('queue', sa.Text(), nullable=False),
                    sa.Column('key', sa.Text(), nullable=False),
                    sa.Column('value', sa.BigInteger(), server_default='0', nullable=False),
                    sa.PrimaryKeyConstraint('queue', 'key'))


def downgrade() -> None:
    for table in ('queue_counter', 'queue_task', 'queue_schedule', 'queue_kv'):
        op.drop_table(table)
    op.drop_index('ix_job_created', 'job')
    op.drop_index('ix_job_account', 'job')
    op.drop_index('ix_job_state', 'job')
    op.drop_table('job')
