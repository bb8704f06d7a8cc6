"""Alembic environment: runs on the connection smsgate hands it (see storage/migrate.py)."""

from __future__ import annotations

from alembic import context

from smsgate.storage.sql import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `smsgate db upgrade`, which knows the database")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
