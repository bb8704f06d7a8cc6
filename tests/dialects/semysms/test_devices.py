"""devices.php: the account's devices as SemySMS shows them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smsgate.core.devices import DeviceChanges, Heartbeat, Limits
from tests.dialects.semysms.conftest import (
    DATE,
    DEVICE_KEYS,
    Tenant,
    admin,
    assert_error,
    quiet_phone,
    semy,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


# --- devices.php ------------------------------------------------------------------------------


async def test_devices_php_fields_from_the_real_device(server: Tenant) -> None:
    gateway = server.app.gateway
    account = await admin(server)
    phone = await quiet_phone(server, name="Office")
    await gateway.devices.heartbeat(
        phone,
        Heartbeat(
            battery=58,
            charging=True,
            app_version="40",
            manufacturer="HUAWEI",
            model="U8186",
            os_version="2.3.6",
        ),
    )
    await gateway.devices.change(
        phone.id,
        DeviceChanges(limits=Limits(pace=timedelta(seconds=1), quota=500)),
        account=account,
    )
    old = await quiet_phone(server, name="Old")
    await gateway.devices.archive(old.id, account=account)
    async with semy(server) as client:
        every = (await client.get("/api/3/devices.php", params={"token": server.key})).json()
        doc = (
            await client.get(
                f"/api/3/devices.php?token={server.key}&is_arhive=0&list_id={phone.id},{old.id}"
            )
        ).json()
        archived = (
            await client.post("/api/3/devices.php", data={"token": server.key, "is_arhive": "1"})
        ).json()
        spaced = (
            await client.get(
                "/api/3/devices.php",
                params={"token": server.key, "list_id": f"{old.id}, {phone.id}"},
            )
        ).json()
        bad = await client.get("/api/3/devices.php", params={"token": server.key, "is_arhive": "5"})
        no_token = await client.get("/api/3/devices.php")
    assert every["code"] == 0 and type(every["code"]) is int
    assert [d["id"] for d in every["data"]] == [
        server.welcome.device_id,
        phone.id,
        old.id,
    ] and every["count"] == 3
    assert [d["id"] for d in doc["data"]] == [phone.id] and doc["count"] == 1
    assert [d["id"] for d in archived["data"]] == [old.id] and archived["data"][0]["is_arhive"] == 1
    assert [d["id"] for d in spaced["data"]] == [phone.id, old.id]
    item = doc["data"][0]
    assert list(item) == DEVICE_KEYS
    assert {k: v for k, v in item.items() if k not in ("date_last_active", "limit_date")} == {
        "id": phone.id,
        "is_arhive": 0,
        "is_deliv": 1,
        "is_work": 1,
        "power": 1,
        "device_name": "U8186",
        "dop_name": "Office",
        "speed_sms": 1,
        "version": "40",
        "limit_phone": 500,
        "limit_use": 0,  # a quota is set and nothing went out yet
        "limit_period": "d",
        "manufacturer": "HUAWEI",
        "android_version": "2.3.6",
        "bat": "58",
    }
    assert DATE.fullmatch(item["date_last_active"]) and DATE.fullmatch(item["limit_date"])
    simulated = every["data"][0]
    assert (
        simulated["date_last_active"] is None
        and simulated["bat"] is None
        and simulated["limit_period"] == " "
    )
    assert_error(bad, 8, "is_arhive")
    assert_error(no_token, 1, "token")
