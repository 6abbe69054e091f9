"""Current state in typed columns (issue 16): the certificate's status is kept to its five
stored values by a CHECK constraint; the successor of a superseded certificate
(``superseded_by``), the next surveillance's latest date (``next_surveillance_due``) and
the surveillances held (table ``surveillance``) become columns and rows, filled here from
the log entries that recorded them.

The next due date is the body's rule applied to the surveillances held
(``domain.dates.surveillance_plan``), as ``store.state.next_surveillance`` does.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 08:45:00
"""

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

from certdesk.common.settings import get_settings
from certdesk.domain.dates import surveillance_plan
from certdesk.domain.profiles import installed_profiles

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ('valid', 'suspended', 'revoked', 'cancelled', 'superseded')


def upgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(), type_=sa.String(length=16),
                              existing_nullable=False)
        batch_op.create_check_constraint(
            'ck_certificate_status', f"status IN ({', '.join(repr(x) for x in STATUSES)})")
        batch_op.add_column(sa.Column('superseded_by', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('next_surveillance_due', sa.Date(), nullable=True))
    op.create_table('surveillance',
                    sa.Column('certificate_number', sa.String(), nullable=False),
                    sa.Column('number', sa.Integer(), nullable=False),
                    sa.Column('held_on', sa.Date(), nullable=False),
                    sa.Column('sites_json', sa.String(), nullable=False),
                    sa.Column('event_seq', sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(['event_seq'], ['event.seq']),
                    sa.PrimaryKeyConstraint('certificate_number', 'number'))
    op.create_index('ix_surveillance_event_seq', 'surveillance', ['event_seq'])
    _fill(op.get_bind())


def _fill(conn: sa.Connection) -> None:
    successor: dict[str, str] = {}
    held: dict[str, list[dict[str, Any]]] = {}
    entries = conn.execute(sa.text(
        "SELECT seq, kind, subject, data FROM event WHERE kind IN "
        "('certificate.superseded', 'certificate.surveillance') ORDER BY seq"))
    for seq, kind, subject, data in entries:
        data = json.loads(data or "{}")
        if kind == 'certificate.superseded' and data.get('by'):
            successor[subject] = data['by']
        elif kind == 'certificate.surveillance':
            mine = held.setdefault(subject, [])
            mine.append({'certificate_number': subject, 'number': len(mine) + 1,
                         'held_on': date.fromisoformat(data['held_on']),
                         'sites_json': json.dumps(data.get('sites', [])), 'event_seq': seq})
    surveillance = sa.table('surveillance', sa.column('certificate_number', sa.String),
                            sa.column('number', sa.Integer), sa.column('held_on', sa.Date),
                            sa.column('sites_json', sa.String),
                            sa.column('event_seq', sa.Integer))
    if rows := [row for mine in held.values() for row in mine]:
        conn.execute(surveillance.insert(), rows)
    cert = sa.table('certificate', sa.column('id', sa.Integer),
                    sa.column('superseded_by', sa.String),
                    sa.column('next_surveillance_due', sa.Date))
    mains = conn.execute(sa.text(
        "SELECT id, number, profile, decision_date, issue_date FROM certificate "
        "WHERE main_number IS NULL")).all()
    for id_, number, profile, decision, issued in mains:
        dates = [r['held_on'] for r in held.get(number, [])]
        due = _next_due(profile, _day(decision), _day(issued), dates)
        conn.execute(cert.update().where(cert.c.id == id_).values(next_surveillance_due=due))
    for number, by in successor.items():
        conn.execute(sa.text("UPDATE certificate SET superseded_by = :by WHERE number = :n"),
                     {"by": by, "n": number})


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _next_due(profile: str, decision: date, issued: date, held: list[date]) -> date | None:
    rules = installed_profiles(get_settings()).get(profile).rules.dates  # the install's
    anchor = decision if rules.surveillance.anchor == 'decision' else issued
    plan = surveillance_plan(rules, anchor, first_held=held[0] if held else None)
    return plan[len(held)].due_by if len(held) < len(plan) else None


def downgrade() -> None:
    op.drop_index('ix_surveillance_event_seq', table_name='surveillance')
    op.drop_table('surveillance')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('next_surveillance_due')
        batch_op.drop_column('superseded_by')
        batch_op.drop_constraint('ck_certificate_status', type_='check')
        batch_op.alter_column('status', existing_type=sa.String(length=16),
                              type_=sa.String(), existing_nullable=False)
