"""What a running job does before its script starts ("installing numpy 2.3 …").

One nullable column: reports stored before the upgrade simply have none.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("phase", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("phase")
