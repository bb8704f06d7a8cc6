"""The migrations create exactly the tables and indexes of storage/sql.py, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from smsgate import app as application
from smsgate.storage import migrate
from smsgate.storage.sql import metadata


async def test_migrated_database_matches_the_tables_in_code(gateway_app: application.App) -> None:
    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [
            d
            for d in compare_metadata(context, metadata)
            if not _alembic_table(d) and not _expression_index(d)
        ]

    async with gateway_app.db.read() as connection:
        found = await connection.run_sync(differences)
        if gateway_app.db.is_sqlite:  # what alembic cannot compare there, compare as SQL
            sql = (
                await connection.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = 'ix_messages_queue'"
                )
            ).scalar()
            assert "priority DESC" in sql and "WHERE state = 'queued'" in sql
        else:
            sql = (
                await connection.exec_driver_sql(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_messages_queue'"
                )
            ).scalar()
            assert "priority DESC" in sql and "'queued'" in sql
    assert found == []


async def test_upgrade_is_repeatable_and_at_head(gateway_app: application.App) -> None:
    await migrate.upgrade(gateway_app.db)
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(migrate.config()).get_heads())
    assert {await migrate.current(gateway_app.db)} <= heads


def _alembic_table(diff: Any) -> bool:
    return (
        isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"
    )


def _expression_index(diff: Any) -> bool:
    """Alembic reflects no expression (here: `priority DESC`) in an index: it reports it as changed."""
    index = (
        diff[1] if isinstance(diff, tuple) and diff[0] in ("add_index", "remove_index") else None
    )
    return index is not None and index.name == "ix_messages_queue"
