"""Fixtures for the SMSGate app door: an account without the simulated phone, and phones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import Server
from tests.dialects.smsgate_app.emulator import Phone


@dataclass
class Tenant:
    email: str
    password: str
    key: str
    api: httpx.AsyncClient  # the native API with this account's key


@pytest.fixture
async def tenant(server: Server) -> AsyncIterator[Tenant]:
    """An account of its own: no simulated phone competes with the emulated ones for its work."""
    email, password = "phones@example.com", "password123-long"
    account = await server.app.gateway.accounts.create(email, password)
    _, key = await server.app.gateway.accounts.create_key(account, "phones")
    async with server.client(key) as api:
        yield Tenant(email, password, key, api)


@pytest.fixture
async def phones(server: Server) -> AsyncIterator[Callable[..., Phone]]:
    made: list[Phone] = []

    def make(**kwargs: object) -> Phone:
        phone = Phone(server.url, **kwargs)  # type: ignore[arg-type]
        made.append(phone)
        return phone

    yield make
    for phone in made:  # open streams would hold the server's shutdown
        await phone.close()


@pytest.fixture
async def phones_at() -> AsyncIterator[Callable[[str], Phone]]:
    """Phones for a server a test starts itself."""
    made: list[Phone] = []

    def make(url: str) -> Phone:
        made.append(Phone(url))
        return made[-1]

    yield make
    for phone in made:
        await phone.close()
