"""Engines, transactions and migrations for SQLite and PostgreSQL.

SQLite has one writer at a time: writes go through one connection behind an asyncio lock and
start with BEGIN IMMEDIATE (so another process, the CLI say, waits on busy_timeout instead of
failing); reads use their own pool and run beside the writer thanks to WAL. PostgreSQL uses one
pool for both.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from smsgate.core import errors
from smsgate.storage import health
from smsgate.storage.outbox import Outbox


def async_url(url: str) -> str:
    parsed = make_url(url)
    driver = {
        "sqlite": "sqlite+aiosqlite",
        "postgresql": "postgresql+asyncpg",
        "postgres": "postgresql+asyncpg",
    }
    name = driver.get(parsed.drivername, parsed.drivername)
    return parsed.set(drivername=name).render_as_string(hide_password=False)


@dataclass(frozen=True, slots=True)
class Options:
    synchronous: str = (
        "FULL"  # SQLite: FULL survives power loss too; NORMAL survives a crashed process
    )
    search_path: str | None = None  # PostgreSQL schema (tests isolate themselves this way)
    pool_size: int = 10


class Database:
    def __init__(self, url: str, options: Options = Options()) -> None:
        self.url = async_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        self._lock = asyncio.Lock()
        self.health = health.Health()  # the last write failure, for /healthz
        self.outbox = Outbox(is_sqlite=self.is_sqlite)  # events written with their change
        if self.is_sqlite:
            self._ensure_directory()
            self.writer = self._sqlite_engine(options, writer=True)
            self.reader = self._sqlite_engine(options, writer=False)
        else:
            connect_args: dict[str, Any] = {}
            if options.search_path:
                connect_args["server_settings"] = {"search_path": options.search_path}
            self.writer = create_async_engine(
                self.url, pool_size=options.pool_size, max_overflow=10, connect_args=connect_args
            )
            self.reader = self.writer

    def _ensure_directory(self) -> None:
        database = make_url(self.url).database
        if database and database != ":memory:":
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)

    def _sqlite_engine(self, options: Options, *, writer: bool) -> AsyncEngine:
        engine = create_async_engine(
            self.url,
            connect_args={"isolation_level": None, "check_same_thread": False},
            **(
                {"pool_size": 1, "max_overflow": 0}
                if writer
                else {"pool_size": 4, "max_overflow": 4}
            ),
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={options.synchronous}")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

        return engine

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One transaction; committed when the block ends without an exception. A store that
        cannot write now (disk full, read-only, locked, server away) raises errors.Unavailable."""
        try:
            if self.is_sqlite:
                async with self._lock, self.writer.begin() as connection:
                    yield connection
            else:
                async with self.writer.begin() as connection:
                    yield connection
        except Exception as exc:
            unavailable = self._unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc
        self.health.succeeded()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.reader.connect() as connection:
                yield connection
        except Exception as exc:
            unavailable = self._unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc

    def _unavailable(self, exc: Exception) -> errors.Unavailable | None:
        """errors.Unavailable for a store that cannot do it now (None: another error)."""
        cause = health.unwritable_cause(exc)
        if cause is None or isinstance(exc, errors.GatewayError):
            return None
        self.health.failed(cause)
        return errors.Unavailable(f"the gateway cannot store this right now: {cause}; try again")

    async def close(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def null_pool_engine(url: str) -> AsyncEngine:
    return create_async_engine(async_url(url), poolclass=NullPool)
