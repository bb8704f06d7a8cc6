"""The SMSC dialect through real HTTP on loopback, with the requests its clients really send.

One real server per backend for the package (its start is most of a test's cost); each test is its
own tenant: a fresh account (with a real password, for login + psw), a key and a simulated phone.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from smsgate.channels.simulator import SimulatorSettings
from smsgate.config import Settings
from smsgate.core.accounts import Account
from smsgate.core.devices import Kind
from tests.conftest import PG_URL, Server, _pg_admin, _pg_or_skip, start_server

PASSWORD = "correct horse 42"
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()


@pytest_asyncio.fixture(
    scope="package",
    loop_scope="package",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)],
)
async def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    postgres = request.param == "postgres"
    schema = f"t_{uuid.uuid4().hex[:12]}"
    if postgres:
        _pg_or_skip()
        await _pg_admin(f'CREATE SCHEMA "{schema}"')
    quick = SimulatorSettings(
        sent_after=0.05, delivered_after=0.05, reply_after=0.05, rescan=0.1, seed=7
    )
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("smsc")),
        database_url=PG_URL if postgres else "",
        database_schema=schema if postgres else "",
        sqlite_synchronous="NORMAL",
        simulator=quick,
        sweep_interval=0.05,
    )
    uv, task, handle = await start_server(settings)
    try:
        yield handle
    finally:
        uv.should_exit = True
        await task
        if postgres:
            await _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


@dataclass
class Tenant:
    shared: Server
    account: Account
    key: str
    email: str

    @property
    def app(self) -> Any:
        return self.shared.app

    def client(self) -> httpx.AsyncClient:
        """A client as SMSC code has one: no auth header, credentials are parameters."""
        return httpx.AsyncClient(base_url=self.shared.url, timeout=30)

    @property
    def auth(self) -> dict[str, str]:
        return {"apikey": self.key}

    @property
    def utf8(self) -> dict[str, str]:
        """Credentials and answers in UTF-8 (httpx reads JSON bytes as UTF-8)."""
        return {"apikey": self.key, "charset": "utf-8"}


@pytest_asyncio.fixture(loop_scope="package")
async def smsc(shared: Server) -> Tenant:
    gateway = shared.app.gateway
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    account = await gateway.accounts.create(email, PASSWORD)
    _, key = await gateway.accounts.create_key(account)
    await gateway.devices.register("Simulated phone", account=account, kind=Kind.SIMULATOR)
    return Tenant(shared, account, key, email)


async def count(tenant: Tenant) -> int:
    """Every message of the tenant's account (what a refused request must not change)."""
    return sum((await tenant.app.store.count(tenant.account.id)).values())
