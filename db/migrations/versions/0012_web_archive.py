"""web archive: the author's consent to the public website, and the memoir search index

Revision ID: 0012
Revises: 0011

- `memoirs.web_consent`: "members" (only club members see it, the default), "named" (the
  public website, with the author's name) or "anonymous" (the public website, without a
  name). Existing memoirs become "members": their authors agreed to the club's archive,
  not to a public website; the memoir dialogue asks every new author.
- `memoirs.search_version`: the format `search_text` was written in. The archive domain
  rewrites rows behind its current format at start-up (archive/search.py): the format now
  spaces Chinese characters apart and drops punctuation, which this migration cannot
  compute (the database layer does not know the archive's rules).
- The index over `search_text`: on SQLite an FTS5 table whose content is the memoirs
  table, kept in step by triggers (so every write path, bulk ones included, updates it);
  on PostgreSQL a GIN index over a stored generated column
  `search_vector = to_tsvector('simple', search_text)`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SQLITE_INDEX = (
    # unicode61 without its own diacritics folding: the archive normalises the text
    # itself, the same way for both databases. Prefix indexes serve "word*" queries.
    "CREATE VIRTUAL TABLE memoir_search USING fts5(search_text, content='memoirs', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0', prefix='2 3')",
    "CREATE TRIGGER memoir_search_insert AFTER INSERT ON memoirs BEGIN "
    "INSERT INTO memoir_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER memoir_search_delete AFTER DELETE ON memoirs BEGIN "
    "INSERT INTO memoir_search(memoir_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER memoir_search_update AFTER UPDATE OF search_text ON memoirs BEGIN "
    "INSERT INTO memoir_search(memoir_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO memoir_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO memoir_search(memoir_search) VALUES ('rebuild')",
)
POSTGRES_INDEX = (
    # Stored, so a match the index must recheck (a word prefix is one) reads the vector
    # instead of parsing the memoir's text again: 1 s → 20 ms for a word in most memoirs.
    "ALTER TABLE memoirs ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, search_text)) STORED",
    "CREATE INDEX ix_memoirs_search ON memoirs USING gin (search_vector)",
)


def upgrade() -> None:
    with op.batch_alter_table("memoirs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("web_consent", sa.String(length=16), nullable=False, server_default="members")
        )
        batch_op.add_column(
            sa.Column("search_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index("ix_memoirs_published", ["status", "web_consent", "id"])
        # Browsing the collection by decade, place or theme, and counting each for the
        # facets, reads only these indexes (bench/web.py: 10,000 memoirs).
        for facet in ("decade", "place", "theme"):
            batch_op.create_index(f"ix_memoirs_published_{facet}", ["status", "web_consent", facet])
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_INDEX:
            op.execute(statement)
    else:
        for statement in POSTGRES_INDEX:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS memoir_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS memoir_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_memoirs_search")
        op.execute("ALTER TABLE memoirs DROP COLUMN IF EXISTS search_vector")
    with op.batch_alter_table("memoirs", schema=None) as batch_op:
        for facet in ("decade", "place", "theme"):
            batch_op.drop_index(f"ix_memoirs_published_{facet}")
        batch_op.drop_index("ix_memoirs_published")
        batch_op.drop_column("search_version")
        batch_op.drop_column("web_consent")
