"""Certificates carry their suspension period (first and last day) as typed columns, so the
restore check and the sweep read it there; filled from the suspension events already logged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 05:45:00
"""

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('suspended_until', sa.Date(), nullable=True))
    conn = op.get_bind()
    # The latest suspension event of each suspended certificate holds its period.
    latest: dict[str, dict[str, Any]] = {}
    for subject, data in conn.execute(sa.text(
            "SELECT subject, data FROM event WHERE kind = 'certificate.suspend' ORDER BY seq")):
        latest[subject] = json.loads(data)
    cert = sa.table('certificate', sa.column('number', sa.String),
                    sa.column('status', sa.String), sa.column('suspended_on', sa.Date),
                    sa.column('suspended_until', sa.Date))
    for number, data in latest.items():
        if not data.get("until"):
            continue
        conn.execute(cert.update()
                     .where(cert.c.number == number, cert.c.status == 'suspended')
                     .values(suspended_on=_day(data.get("on")),
                             suspended_until=_day(data["until"])))


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def downgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('suspended_until')
        batch_op.drop_column('suspended_on')
