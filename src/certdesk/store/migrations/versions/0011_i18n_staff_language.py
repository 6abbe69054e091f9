"""Each staff account may choose the desk's language (issue 17): ``staffuser.language``,
``zh`` or ``en``; empty means the browser's (``Accept-Language``). A desk whose staff
tables ``create_all`` made from the current models has it already: left as it is.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    columns = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('staffuser')}
    if 'language' in columns:
        return
    with op.batch_alter_table('staffuser', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staffuser', schema=None) as batch_op:
        batch_op.drop_column('language')
