"""One source for the surveillance state (issue 16): the products and services each
surveillance covered (``products_json``) and whether its report is archived (``report``:
pending or archived) become columns of ``surveillance``, filled here from the log entries
that recorded them (``certificate.surveillance``, then ``certificate.surveillance_report``
for a report archived later), as ``store.state.Logged`` reads them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 12:20:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('surveillance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('products_json', sa.String(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column(
            'report', sa.Enum('pending', 'archived', name='ck_surveillance_report',
                              native_enum=False, create_constraint=True, length=16),
            nullable=False, server_default='pending'))
    _fill(op.get_bind())


def _fill(conn: sa.Connection) -> None:
    found: dict[tuple[str, int], dict[str, str]] = {}
    held: dict[str, int] = {}
    entries = conn.execute(sa.text(
        "SELECT kind, subject, data FROM event WHERE kind IN ('certificate.surveillance', "
        "'certificate.surveillance_report') ORDER BY seq"))
    for kind, subject, data in entries:
        data = json.loads(data or "{}")
        if kind == 'certificate.surveillance':
            held[subject] = held.get(subject, 0) + 1
            found[subject, held[subject]] = {
                'products_json': json.dumps(data.get('products', []), ensure_ascii=False),
                'report': 'archived' if 'report' in data else 'pending'}
        elif (subject, data.get('number')) in found:
            found[subject, data['number']]['report'] = 'archived'
    for (number, nth), values in found.items():
        conn.execute(sa.text("UPDATE surveillance SET products_json = :products_json, "
                             "report = :report WHERE certificate_number = :n AND number = :k"),
                     {**values, 'n': number, 'k': nth})


def downgrade() -> None:
    with op.batch_alter_table('surveillance', schema=None) as batch_op:
        batch_op.drop_constraint('ck_surveillance_report', type_='check')
        batch_op.drop_column('report')
        batch_op.drop_column('products_json')
