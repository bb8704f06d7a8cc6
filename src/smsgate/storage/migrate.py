"""Alembic, driven from Python: `smsgate db upgrade`, and every start of the gateway."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from smsgate.storage.database import Database

HERE = Path(__file__).parent


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "heads") -> None:
    def run(connection: Connection) -> None:
        if (
            connection.dialect.name == "postgresql"
        ):  # nodes starting together migrate one after another
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(72627001)")
        command.upgrade(config(connection), revision)

    async with db.write() as connection:
        await connection.run_sync(run)


async def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.read() as connection:
        return await connection.run_sync(read)
