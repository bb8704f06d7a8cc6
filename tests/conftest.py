"""Shared fixtures: a gateway on a real SQLite file or a real PostgreSQL schema, and a real server.

Every store-touching test runs on both databases: `backend` is parametrised. PostgreSQL tests
skip when the server is unreachable, unless SMSGATE_REQUIRE_PG=1 (CI sets it): then they fail.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from smsgate import app as application
from smsgate.channels.simulator import SimulatorSettings
from smsgate.config import Settings
from smsgate.core.accounts import Account


class TestClock:
    """The clock every test app is built with (app.build(settings, clock=...)): real time until a
    test sets it to an instant or shifts it; `release()` goes back to real time."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return self._fixed if self._fixed is not None else datetime.now(UTC) + self._offset

    def set(self, at: datetime) -> None:
        self._fixed = at

    def shift(self, delta: timedelta) -> None:
        if self._fixed is not None:
            self._fixed += delta
        else:
            self._offset += delta

    def release(self) -> None:
        self._fixed, self._offset = None, timedelta(0)


PG_URL = os.environ.get("SMSGATE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _pg_or_skip() -> None:
    if not pg_reachable():
        if os.environ.get("SMSGATE_REQUIRE_PG") == "1":
            pytest.fail(
                "PostgreSQL is required here (SMSGATE_REQUIRE_PG=1) but 127.0.0.1:5432 is unreachable"
            )
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")


async def _pg_admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_URL.replace("postgresql://", "postgres://"))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        _pg_or_skip()
    return str(request.param)


@pytest.fixture
async def settings_for(backend: str, tmp_path: Path) -> AsyncIterator[Callable[..., Settings]]:
    """Settings on a fresh database of the chosen backend (a new PostgreSQL schema per test)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    if backend == "postgres":
        await _pg_admin(f'CREATE SCHEMA "{schema}"')
    quiet = SimulatorSettings(
        sent_after=0.05, delivered_after=0.05, reply_after=0.05, rescan=0.2, seed=7
    )

    def make(**changes: Any) -> Settings:
        base = Settings(
            data_dir=tmp_path,
            database_url=PG_URL if backend == "postgres" else "",
            database_schema=schema if backend == "postgres" else "",
            sqlite_synchronous="NORMAL",
            simulator=quiet,
            sweep_interval=0.05,
        )
        return replace(base, **changes)

    yield make
    if backend == "postgres":
        await _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
async def gateway_app(settings_for: Callable[..., Settings]) -> AsyncIterator[application.App]:
    """The gateway without HTTP and without background tasks: tests drive sweeps themselves."""
    app = application.build(settings_for(), clock=TestClock())
    await app.start(background=False)
    try:
        yield app
    finally:
        await app.stop()


class Server:
    """A real smsgate on loopback: uvicorn serving the full ASGI app in this event loop."""

    def __init__(self, app: application.App, url: str, welcome: application.Welcome) -> None:
        self.app = app
        self.url = url
        self.welcome = welcome

    @property
    def key(self) -> str:
        return self.welcome.key

    def client(self, key: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key or self.key}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30, **kwargs)

    async def account(self, email: str = "second@example.com") -> tuple[Account, str]:
        """Another account with its own key."""
        account = await self.app.gateway.accounts.create(email, "password123")
        _, key = await self.app.gateway.accounts.create_key(account)
        return account, key


async def start_server(
    settings: Settings, *, background: bool = True, **uvicorn_options: Any
) -> tuple[uvicorn.Server, asyncio.Task[None], Server]:
    app = application.build(settings, clock=TestClock())
    welcomes: list[application.Welcome] = []
    api = application.asgi(app, on_welcome=welcomes.append, background=background)
    config = uvicorn.Config(
        api,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        access_log=False,
        **uvicorn_options,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, task, Server(app, f"http://127.0.0.1:{port}", welcomes[0])


@pytest.fixture
async def server(settings_for: Callable[..., Settings]) -> AsyncIterator[Server]:
    """A real server with dispatch and the simulated phone running."""
    uv, task, handle = await start_server(settings_for())
    try:
        yield handle
    finally:
        uv.should_exit = True
        await task
