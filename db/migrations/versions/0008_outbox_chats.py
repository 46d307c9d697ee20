"""outbox rows addressed to a chat (organisers who are not members), broadcast progress

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: SQLite rebuilds the table to relax NOT NULL; PostgreSQL alters in place.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
        batch.alter_column("member_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("broadcast_reports") as batch:
        batch.add_column(sa.Column("progress_message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("progress_shown", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("progress_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcast_reports") as batch:
        batch.drop_column("progress_at")
        batch.drop_column("progress_shown")
        batch.drop_column("progress_message_id")
    op.execute("DELETE FROM outbox WHERE member_id IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("member_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("chat_id")
