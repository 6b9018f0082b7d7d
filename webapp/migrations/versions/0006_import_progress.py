"""Imports run in the worker: the uploaded file's size, and how much of it has been read.

Two nullable columns: scripts and reports stored before the upgrade have none.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("upload_bytes", sa.BigInteger(), nullable=True))
    op.add_column("reports", sa.Column("progress_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("progress_bytes")
        batch.drop_column("upload_bytes")
