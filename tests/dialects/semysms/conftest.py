"""The SemySMS dialect through real HTTP on loopback, with the requests its clients really send.

One real server per backend for the whole package (tests/dialects/semysms) (its start is most of a test's cost); each test
is its own tenant: a fresh account, key and simulated phone, so tests see nothing of each other,
which is also what SemySMS clients of different accounts must see. Messages that must stay queued
go to a "quiet" phone: a registered Android device nobody runs.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from smsgate.channels.simulator import SimulatorSettings
from smsgate.config import Settings
from smsgate.core.accounts import Account
from smsgate.core.devices import Device, Kind
from tests.conftest import PG_URL, Server, _pg_admin, _pg_or_skip, start_server


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
    quiet = SimulatorSettings(
        sent_after=0.05, delivered_after=0.05, reply_after=0.05, rescan=0.1, seed=7
    )
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("semysms")),
        database_url=PG_URL if postgres else "",
        database_schema=schema if postgres else "",
        sqlite_synchronous="NORMAL",
        simulator=quiet,
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
    """What a test sees of the shared server: its own account, key and simulated phone."""

    shared: Server
    account_: Account
    key: str
    welcome: Any

    @property
    def app(self) -> Any:
        return self.shared.app

    @property
    def url(self) -> str:
        return self.shared.url

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        return self.shared.client(key or self.key)

    async def account(self) -> tuple[Account, str]:
        return await new_account(self.shared)


async def new_account(shared: Server) -> tuple[Account, str]:
    """An account and its key, without the password hashing a person's sign-up pays for."""
    gateway = shared.app.gateway
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    account = await shared.app.directory.add_account(
        email=email, password_hash="!", is_admin=False, now=gateway.now()
    )
    _, key = await gateway.accounts.create_key(account)
    return account, key


@pytest_asyncio.fixture(loop_scope="package")
async def server(shared: Server) -> Tenant:
    account, key = await new_account(shared)
    simulated, _ = await shared.app.gateway.devices.register(
        "Simulated phone", account=account, kind=Kind.SIMULATOR
    )
    welcome = replace(shared.welcome, key=key, device_id=simulated.id)
    return Tenant(shared, account, key, welcome)


OUTBOX_KEYS = [
    "id",
    "phone",
    "date",
    "msg",
    "id_device",
    "send_to_phone",
    "is_send_to_phone",
    "is_send",
    "send",
    "is_delivered",
    "delivered",
    "is_error",
    "is_error_send",
    "error_date",
    "is_cancel",
]
INBOX_KEYS = ["id", "phone", "date", "msg", "id_device"]
DEVICE_KEYS = [
    "id",
    "is_arhive",
    "is_deliv",
    "is_work",
    "power",
    "device_name",
    "dop_name",
    "speed_sms",
    "date_last_active",
    "version",
    "limit_phone",
    "limit_use",
    "limit_date",
    "limit_period",
    "manufacturer",
    "android_version",
    "bat",
]
DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?")
FAR_PAST = "2015-08-9 10:30"


# --- helpers ----------------------------------------------------------------------------------


def semy(server: Tenant) -> httpx.AsyncClient:
    """A client as SemySMS code has one: no auth header, the token is a parameter."""
    return httpx.AsyncClient(base_url=server.url, timeout=30)


async def admin(server: Tenant) -> Account:
    return server.account_


async def quiet_phone(
    server: Tenant, account: Account | None = None, name: str = "Quiet phone"
) -> Device:
    device, _ = await server.app.gateway.devices.register(
        name, account=account or await admin(server)
    )
    return device


async def sms(
    client: httpx.AsyncClient,
    token: str,
    device: int | str,
    phone: str = "+79201234567",
    msg: str = "Message",
) -> int:
    answer = await client.get(
        "/api/3/sms.php", params={"token": token, "device": str(device), "phone": phone, "msg": msg}
    )
    body = answer.json()
    assert body["code"] == "0", body
    return int(body["id"])


async def outbox(client: httpx.AsyncClient, token: str, **filters: Any) -> dict[str, Any]:
    answer = await client.get("/api/3/outbox_sms.php", params={"token": token, **filters})
    assert answer.status_code == 200
    return dict(answer.json())


async def eventually(
    fetch: Callable[[], Awaitable[Any]], done: Callable[[Any], bool], timeout: float = 10.0
) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await fetch()
        if done(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


def assert_error(answer: httpx.Response, code: str | int, *words: str) -> dict[str, Any]:
    assert answer.status_code == 200
    body = dict(answer.json())
    assert body["code"] == code and type(body["code"]) is type(code), body
    assert isinstance(body["error"], str) and body["error"], body
    assert "Traceback" not in answer.text
    for word in words:
        assert word in body["error"], body
    return body


def ids_of(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["data"]]
