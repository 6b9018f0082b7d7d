"""A report may name a baseline: the earlier report it is compared with (issue 12).

Set by ``POST /api/v1/reports`` with ``baseline=<id>`` and by "Run again"; the report's
page and API document then carry the comparison. Only an addition (a nullable column), so
reports stored before the upgrade are kept as they were, without a baseline.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("baseline_token", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("baseline_token")
