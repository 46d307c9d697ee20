"""members.place_id: the geonames id of a member's city, named in each reader's language

Revision ID: 0011
Revises: 0010

`city` stays: the name for rows from before this column and for places geonames does not
know.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.add_column(sa.Column("place_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_column("place_id")
