"""Main certificates list the products and services of their scope, so the due list can
check that the cycle's surveillances cover them all [CACQ 7.5.5, DNI 5.6.1, ZPIC 5.4].
Certificates issued before list none (nothing to track).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('products_json', sa.String(), nullable=False,
                                      server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('products_json')
