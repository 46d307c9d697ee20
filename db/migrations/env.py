"""Alembic environment: runs on a connection handed in by db.migrate."""

from __future__ import annotations

from alembic import context

from db.models import Base, include_name

target_metadata = Base.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `python -m db.migrate`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,  # the search index is not a model (db/models.py)
        # SQLite cannot ALTER most things in place; batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
