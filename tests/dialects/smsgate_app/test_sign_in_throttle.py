"""Password sign-ins are throttled per account (and per client address) on every door that takes
them: the client API's Basic auth, the app's registration by login, and `/user/code`."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.conftest import Server
from tests.dialects.smsgate_app.conftest import Tenant

WRONG = ("phones@example.com", "not-the-password")


async def _fail_until_throttled(
    client: httpx.AsyncClient, path: str, auth: tuple[str, str]
) -> list[int]:
    return [(await client.get(path, auth=auth)).status_code for _ in range(12)]


async def test_wrong_passwords_on_the_client_api_end_in_429_even_for_the_right_one(
    server: Server, tenant: Tenant
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        statuses = await _fail_until_throttled(client, "/api/3rdparty/v1/devices", WRONG)
        assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
        right = await client.get("/api/3rdparty/v1/devices", auth=(tenant.email, tenant.password))
        assert right.status_code == 429  # the account is held for the rest of the minute
        assert right.json()["code"] == 429 and "wait" in right.json()["message"]
        server.app.clock.shift(timedelta(seconds=61))
        again = await client.get("/api/3rdparty/v1/devices", auth=(tenant.email, tenant.password))
        assert again.status_code == 200


async def test_registration_and_user_code_share_the_accounts_limit(
    server: Server, tenant: Tenant
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        for _ in range(5):
            answer = await client.post("/api/mobile/v1/device", json={"name": "x"}, auth=WRONG)
            assert answer.status_code == 401
        for _ in range(5):
            assert (await client.get("/api/mobile/v1/user/code", auth=WRONG)).status_code == 401
        held = await client.get("/api/mobile/v1/user/code", auth=(tenant.email, tenant.password))
        assert held.status_code == 429


async def test_an_unknown_email_is_throttled_like_a_known_one(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        nobody = ("nobody@example.com", "whatever1")
        statuses = await _fail_until_throttled(client, "/api/3rdparty/v1/devices", nobody)
        assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
