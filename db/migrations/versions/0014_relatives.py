"""relatives: /addgrave drafts, families members look for, their matches, introductions

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "burial_drafts",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
    )

    op.create_table(
        "relative_wishes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("surname", sa.String(length=100), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=True),
        sa.Column("year_from", sa.Integer(), nullable=True),
        sa.Column("year_to", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("relative_wishes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_relative_wishes_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "relative_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("memoir_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["memoir_id"], ["memoirs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["record_id"], ["burial_records.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["wish_id"], ["relative_wishes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "memoir_id"),
        sa.UniqueConstraint("member_id", "record_id"),
    )
    with op.batch_alter_table("relative_matches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relative_matches_wish_id"), ["wish_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_relative_matches_record_id"), ["record_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_relative_matches_memoir_id"), ["memoir_id"], unique=False
        )

    op.create_table(
        "relative_introductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wish_a", sa.Integer(), nullable=False),
        sa.Column("wish_b", sa.Integer(), nullable=False),
        sa.Column("member_a", sa.Integer(), nullable=False),
        sa.Column("member_b", sa.Integer(), nullable=False),
        sa.Column("a_answer", sa.Boolean(), nullable=True),
        sa.Column("b_answer", sa.Boolean(), nullable=True),
        sa.Column("a_name", sa.String(length=64), nullable=True),
        sa.Column("b_name", sa.String(length=64), nullable=True),
        sa.Column("a_link", sa.String(length=64), nullable=True),
        sa.Column("b_link", sa.String(length=64), nullable=True),
        sa.Column("a_wrote", sa.Boolean(), nullable=False),
        sa.Column("b_wrote", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_a"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_b"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["wish_a"], ["relative_wishes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["wish_b"], ["relative_wishes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_a", "member_b"),
    )
    with op.batch_alter_table("relative_introductions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_relative_introductions_wish_a"), ["wish_a"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_relative_introductions_wish_b"), ["wish_b"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_relative_introductions_member_b"), ["member_b"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("relative_introductions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relative_introductions_member_b"))
        batch_op.drop_index(batch_op.f("ix_relative_introductions_wish_b"))
        batch_op.drop_index(batch_op.f("ix_relative_introductions_wish_a"))
    op.drop_table("relative_introductions")
    with op.batch_alter_table("relative_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relative_matches_memoir_id"))
        batch_op.drop_index(batch_op.f("ix_relative_matches_record_id"))
        batch_op.drop_index(batch_op.f("ix_relative_matches_wish_id"))
    op.drop_table("relative_matches")
    with op.batch_alter_table("relative_wishes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relative_wishes_member_id"))
    op.drop_table("relative_wishes")
    op.drop_table("burial_drafts")
