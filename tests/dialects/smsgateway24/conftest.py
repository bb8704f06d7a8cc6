"""The SmsGateway24 dialect through real HTTP on loopback, as its clients send it.

One real server per backend for the package; each test is its own tenant (a fresh account, key,
simulated phone). Telegram is a local stand-in of the Bot API on loopback that records what it got.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from smsgate.channels.simulator import SimulatorSettings
from smsgate.config import Settings
from smsgate.core.accounts import Account
from smsgate.core.devices import Device, Kind
from smsgate.service import Policy
from tests.conftest import PG_URL, Server, _pg_admin, _pg_or_skip, start_server

BOT_TOKEN = "123456:TEST-bot-token"


@dataclass
class TelegramStandIn:
    url: str = ""
    got: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


async def _telegram() -> tuple[uvicorn.Server, asyncio.Task[None], TelegramStandIn]:
    seen = TelegramStandIn()

    async def send_message(request: Request) -> JSONResponse:
        body = await request.json()
        seen.got.append((request.path_params["token"], body))
        if body.get("chat_id") == "404404":
            return JSONResponse(
                {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
                status_code=400,
            )
        return JSONResponse({"ok": True, "result": {"message_id": len(seen.got)}})

    api = Starlette(routes=[Route("/bot{token}/sendMessage", send_message, methods=["POST"])])
    config = uvicorn.Config(api, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    seen.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    return server, task, seen


@dataclass
class Shared:
    server: Server
    telegram: TelegramStandIn


@pytest_asyncio.fixture(
    scope="package",
    loop_scope="package",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)],
)
async def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Shared]:
    postgres = request.param == "postgres"
    schema = f"t_{uuid.uuid4().hex[:12]}"
    if postgres:
        _pg_or_skip()
        await _pg_admin(f'CREATE SCHEMA "{schema}"')
    tg_server, tg_task, telegram = await _telegram()
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("sg24")),
        database_url=PG_URL if postgres else "",
        database_schema=schema if postgres else "",
        sqlite_synchronous="NORMAL",
        simulator=SimulatorSettings(
            sent_after=0.05, delivered_after=0.05, reply_after=0.05, rescan=0.1, seed=7
        ),
        sweep_interval=0.05,
        # a failure report is final (status mapping); national numbers read as German ones, as the
        # documents' examples are (015752982212)
        policy=replace(Policy(), max_attempts=1, default_region="DE"),
        telegram_bot_token=BOT_TOKEN,
        telegram_api=telegram.url,
    )
    uv, task, handle = await start_server(settings)
    try:
        yield Shared(handle, telegram)
    finally:
        uv.should_exit = True
        tg_server.should_exit = True
        await task
        await tg_task
        if postgres:
            await _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


@dataclass
class Tenant:
    shared: Server
    telegram: TelegramStandIn
    account: Account
    key: str
    email: str
    password: str
    simulated: Device

    @property
    def app(self) -> Any:
        return self.shared.app

    @property
    def gateway(self) -> Any:
        return self.shared.app.gateway

    def http(self) -> httpx.AsyncClient:
        """As SmsGateway24 code has one: no auth header, the token is a parameter."""
        return httpx.AsyncClient(base_url=self.shared.url, timeout=30)

    async def phone(self, name: str = "Quiet phone") -> Device:
        """An Android phone nobody runs: what is sent to it stays where the test puts it."""
        device, _ = await self.gateway.devices.register(
            name, account=self.account, kind=Kind.ANDROID
        )
        return device


PASSWORD = "correct horse battery"


@pytest_asyncio.fixture(loop_scope="package")
async def tenant(shared: Shared) -> Tenant:
    gateway = shared.server.app.gateway
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    account = await gateway.accounts.create(email, PASSWORD)
    _, key = await gateway.accounts.create_key(account)
    simulated, _ = await gateway.devices.register(
        "Simulated phone", account=account, kind=Kind.SIMULATOR
    )
    return Tenant(shared.server, shared.telegram, account, key, email, PASSWORD, simulated)


async def stored(tenant: Tenant) -> int:
    return sum((await tenant.app.store.count(tenant.account.id)).values())


def ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["error"] == 0, body
    return body


def refused(answer: httpx.Response, *says: str, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["error"] == 1 and body["message"], body
    for text in says:
        assert text.lower() in body["message"].lower(), body
    return body
