"""cancel_sms.php."""

from __future__ import annotations

import pytest

from tests.dialects.semysms.conftest import (
    Tenant,
    assert_error,
    eventually,
    outbox,
    quiet_phone,
    semy,
    sms,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


# --- cancel_sms.php ---------------------------------------------------------------------------


async def test_cancel_by_id_and_by_device(server: Tenant) -> None:
    phone = await quiet_phone(server)
    other = await quiet_phone(server, name="Other")
    async with semy(server) as client:
        a, b, c = [await sms(client, server.key, phone.id) for _ in range(3)]
        elsewhere = await sms(client, server.key, other.id)
        one = (await client.get(f"/api/3/cancel_sms.php?token={server.key}&id_sms={a}")).json()
        assert one == {"code": "0", "count": 1, "data": [{"id": a}]}
        # laravel-semysms cancels a device's queue with device and id_sms=1
        device = (
            await client.post(
                "/api/3/cancel_sms.php",
                data={"token": server.key, "device": str(phone.id), "id_sms": "1"},
            )
        ).json()
        assert device["code"] == "0" and sorted(m["id"] for m in device["data"]) == [b, c]
        assert_error(
            await client.get("/api/3/cancel_sms.php", params={"token": server.key, "id_sms": a}),
            "10",
            "cancelled",
        )
        assert_error(
            await client.get(
                "/api/3/cancel_sms.php", params={"token": server.key, "id_sms": 999999}
            ),
            "9",
            "999999",
        )
        assert_error(
            await client.get("/api/3/cancel_sms.php", params={"token": server.key}),
            "8",
            "device or id_sms",
        )
        assert_error(
            await client.get(
                "/api/3/cancel_sms.php", params={"token": server.key, "device": "424242"}
            ),
            "3",
            "424242",
        )
        by_id = {m["id"]: m for m in (await outbox(client, server.key))["data"]}
    assert [by_id[i]["is_cancel"] for i in (a, b, c, elsewhere)] == [1, 1, 1, 0]


async def test_cancel_refuses_what_a_device_already_has(server: Tenant) -> None:
    async with semy(server) as client:
        sent = await sms(client, server.key, server.welcome.device_id)
        await eventually(
            lambda: outbox(client, server.key, list_id=sent),
            lambda b: b["data"][0]["is_send_to_phone"] == 1,
        )
        assert_error(
            await client.get("/api/3/cancel_sms.php", params={"token": server.key, "id_sms": sent}),
            "10",
        )
        by_device = (
            await client.get(
                "/api/3/cancel_sms.php",
                params={"token": server.key, "device": server.welcome.device_id},
            )
        ).json()
    assert by_device == {"code": "0", "count": 0, "data": []}
