"""burials: burial records, their search keys, gravestone photos, links between relatives

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "burial_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("surname", sa.String(length=200), nullable=False),
        sa.Column("given_names", sa.String(length=200), nullable=False),
        sa.Column("patronymic", sa.String(length=200), nullable=False),
        sa.Column("born", sa.String(length=10), nullable=True),
        sa.Column("born_old_style", sa.Boolean(), nullable=False),
        sa.Column("died", sa.String(length=10), nullable=True),
        sa.Column("died_old_style", sa.Boolean(), nullable=False),
        sa.Column("cemetery", sa.String(length=300), nullable=True),
        sa.Column("section", sa.String(length=200), nullable=True),
        sa.Column("inscription", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by"], ["members.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id"),
    )
    with op.batch_alter_table("burial_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_burial_records_added_by"), ["added_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_burial_records_status"), ["status"], unique=False)

    op.create_table(
        "burial_name_keys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["burial_records.id"], ondelete="CASCADE"),
        # Key first: the search looks keys up; the primary key's index covers it.
        sa.PrimaryKeyConstraint("key", "kind", "record_id"),
    )
    with op.batch_alter_table("burial_name_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_burial_name_keys_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "burial_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("telegram_file_id", sa.String(length=255), nullable=True),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by"], ["members.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["record_id"], ["burial_records.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("burial_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_burial_photos_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_burial_photos_sha256"), ["sha256"], unique=False)

    op.create_table(
        "burial_relations",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("relative_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by"], ["members.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["record_id"], ["burial_records.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["relative_id"], ["burial_records.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id", "relative_id"),
    )
    with op.batch_alter_table("burial_relations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_burial_relations_relative_id"), ["relative_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("burial_relations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_burial_relations_relative_id"))
    op.drop_table("burial_relations")
    with op.batch_alter_table("burial_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_burial_photos_sha256"))
        batch_op.drop_index(batch_op.f("ix_burial_photos_record_id"))
    op.drop_table("burial_photos")
    with op.batch_alter_table("burial_name_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_burial_name_keys_record_id"))
    op.drop_table("burial_name_keys")
    with op.batch_alter_table("burial_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_burial_records_status"))
        batch_op.drop_index(batch_op.f("ix_burial_records_added_by"))
    op.drop_table("burial_records")
