"""programme: talks and their materials; meetings gain a kind (special events), a title, a
place, the published programme, and the recording and summary added after the meeting

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="monthly")
        )
        batch_op.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("place", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("programme", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("recording_link", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("summary_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "talks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("speaker_name", sa.String(length=128), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("abstract", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        # One talk per slot of a programme.
        sa.UniqueConstraint("meeting_id", "position"),
    )
    with op.batch_alter_table("talks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_talks_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_talks_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_talks_status"), ["status"], unique=False)

    op.create_table(
        "talk_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("talk_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("telegram_file_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["talk_id"], ["talks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("talk_materials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_talk_materials_talk_id"), ["talk_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_talk_materials_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("talk_materials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_talk_materials_sha256"))
        batch_op.drop_index(batch_op.f("ix_talk_materials_talk_id"))
    op.drop_table("talk_materials")
    with op.batch_alter_table("talks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_talks_status"))
        batch_op.drop_index(batch_op.f("ix_talks_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_talks_member_id"))
    op.drop_table("talks")
    with op.batch_alter_table("meetings") as batch_op:
        for column in ("summary_at", "summary", "recording_link", "programme", "place", "title"):
            batch_op.drop_column(column)
        batch_op.drop_column("kind")
