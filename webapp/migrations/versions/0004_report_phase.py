"""What a running job does before its script starts ("installing numpy 2.3 …").

One nullable column: reports stored before the upgrade simply have none.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("phase", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("phase")
