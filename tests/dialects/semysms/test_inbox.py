"""inbox_sms.php and del_inbox_sms.php."""

from __future__ import annotations

import pytest

from tests.dialects.semysms.conftest import (
    DATE,
    INBOX_KEYS,
    Tenant,
    quiet_phone,
    semy,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


# --- inbox, deletes ---------------------------------------------------------------------------


async def test_inbox_shape(server: Tenant) -> None:
    phone = await quiet_phone(server)
    [stored] = await server.app.gateway.inbound.receive(
        phone, [("+79201234567", "Test", None, None)]
    )
    async with semy(server) as client:
        body = (
            await client.get(
                f"/api/3/inbox_sms.php?token={server.key}&device={phone.id}&start_id=1&end_id={stored.id}"
            )
        ).json()
    assert list(body) == ["code", "count", "data"] and body["code"] == "0" and body["count"] == 1
    item = body["data"][0]
    assert list(item) == INBOX_KEYS
    assert item["id"] == stored.id and item["phone"] == "+79201234567" and item["msg"] == "Test"
    assert item["id_device"] == phone.id and DATE.fullmatch(item["date"])


async def test_delete_inbox_then_list(server: Tenant) -> None:
    phone = await quiet_phone(server)
    first, second = await server.app.gateway.inbound.receive(
        phone, [("+79201234567", "one", None, None), ("+79207654321", "two", None, None)]
    )
    async with semy(server) as client:
        deleted = (
            await client.post(
                "/api/3/del_inbox_sms.php", data={"token": server.key, "phone": "+79201234567"}
            )
        ).json()
        assert deleted["code"] == "0" and deleted["count"] == 1
        assert list(deleted["data"][0]) == INBOX_KEYS and deleted["data"][0]["id"] == first.id
        listed = (await client.get("/api/3/inbox_sms.php", params={"token": server.key})).json()
    assert [m["id"] for m in listed["data"]] == [second.id]
