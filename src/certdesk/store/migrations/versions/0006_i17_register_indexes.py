"""Indexes for the certificate register: (sort column, id) for keyset pages by issue date,
expiry date and holder's name; (status, dates) and (profile, grade, issue date) for its
filters (issue 17).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 06:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (("ix_certificate_issue_date_id", ["issue_date", "id"]),
           ("ix_certificate_expiry_date_id", ["expiry_date", "id"]),
           ("ix_certificate_holder_name_id", ["holder_name", "id"]),
           ("ix_certificate_status_dates", ["status", "expiry_date", "issue_date"]),
           ("ix_certificate_profile_grade", ["profile", "grade", "issue_date"]))


def upgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        for name, columns in INDEXES:
            batch_op.create_index(name, columns)


def downgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        for name, _ in INDEXES:
            batch_op.drop_index(name)
