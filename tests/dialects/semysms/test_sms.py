"""sms.php: one message, GET or POST, as the documentation and its clients send it."""

from __future__ import annotations

import pytest

from smsgate.core.devices import DeviceChanges
from tests.dialects.semysms.conftest import (
    Tenant,
    admin,
    assert_error,
    eventually,
    ids_of,
    outbox,
    quiet_phone,
    semy,
    sms,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


# --- sms.php ----------------------------------------------------------------------------------


async def test_sms_php_get_exactly_as_the_doc(server: Tenant) -> None:
    async with semy(server) as client:
        url = f"/api/3/sms.php?token={server.key}&device={server.welcome.device_id}&phone=89201234567&msg=Message"
        answer = await client.get(url)
    assert answer.status_code == 200
    body = answer.json()
    assert list(body) == ["code", "id"]
    assert body["code"] == "0" and isinstance(body["code"], str)
    assert type(body["id"]) is int


async def test_sms_php_post_form_and_multipart_as_the_php_example(server: Tenant) -> None:
    phone = await quiet_phone(server)
    fields = {
        "phone": "+79201234567",
        "msg": "Message",
        "device": str(phone.id),
        "token": server.key,
    }
    async with semy(server) as client:
        urlencoded = await client.post("/api/3/sms.php", data=fields)
        multipart = await client.post(
            "/api/3/sms.php", files={k: (None, v) for k, v in fields.items()}
        )
        assert multipart.request.headers["content-type"].startswith("multipart/form-data")
        ids = [urlencoded.json()["id"], multipart.json()["id"]]
        assert [urlencoded.json()["code"], multipart.json()["code"]] == ["0", "0"]
        listed = await outbox(client, server.key, list_id=",".join(map(str, ids)))
    assert [(m["id"], m["phone"], m["msg"], m["id_device"]) for m in listed["data"]] == [
        (ids[0], "+79201234567", "Message", phone.id),
        (ids[1], "+79201234567", "Message", phone.id),
    ]


async def test_sms_php_unencoded_plus_and_add_plus(server: Tenant) -> None:
    phone = await quiet_phone(server)
    async with semy(server) as client:
        raw = await client.get(
            f"/api/3/sms.php?token={server.key}&device={phone.id}&phone=+79201234567&msg=Hi"
        )
        plus = await client.post(
            "/api/3/sms.php",
            data={
                "token": server.key,
                "device": str(phone.id),
                "phone": "79207654321",
                "msg": "Hi",
                "add_plus": "1",
            },
        )
    async with server.client() as native:
        first = (await native.get(f"/api/v1/messages/{raw.json()['id']}")).json()
        second = (await native.get(f"/api/v1/messages/{plus.json()['id']}")).json()
    assert first["to"] == "+79201234567"
    assert second["to"] == "+79207654321"


async def test_sms_php_spreads_over_a_device_list(server: Tenant) -> None:
    phones = [await quiet_phone(server, name=f"Phone {n}") for n in range(3)]
    codes = ",".join(str(p.id) for p in phones)
    async with semy(server) as client:
        sent = [await sms(client, server.key, codes) for _ in range(6)]
        for p in phones:  # each listing with device= shows what waits for that device
            assert ids_of(await outbox(client, server.key, device=p.id)) == sent
        for p in phones:
            assert len(await server.app.gateway.dispatch.pull(p, limit=2)) == 2
        listed = await outbox(client, server.key, list_id=",".join(map(str, sent)))
    assert sorted(m["id_device"] for m in listed["data"]) == sorted(
        p.id for p in phones for _ in range(2)
    )


async def test_sms_php_device_active_means_every_enabled_device(server: Tenant) -> None:
    account = await admin(server)
    gateway = server.app.gateway
    await gateway.devices.change(
        server.welcome.device_id, DeviceChanges(enabled=False), account=account
    )
    on, off = await quiet_phone(server, name="On"), await quiet_phone(server, name="Off")
    await gateway.devices.change(off.id, DeviceChanges(enabled=False), account=account)
    async with semy(server) as client:
        sent = [await sms(client, server.key, "active") for _ in range(3)]
        listed = await outbox(client, server.key, list_id=",".join(map(str, sent)))
        assert {m["id_device"] for m in listed["data"]} == {on.id}
        await gateway.devices.change(on.id, DeviceChanges(enabled=False), account=account)
        none_left = await client.get(
            "/api/3/sms.php",
            params={"token": server.key, "device": "active", "phone": "+79201234567", "msg": "x"},
        )
    assert_error(none_left, "3", "no active device")


async def test_sms_php_errors(server: Tenant) -> None:
    other, other_key = await server.account()
    theirs = await quiet_phone(server, other, "Theirs")
    ok = {
        "token": server.key,
        "device": str(server.welcome.device_id),
        "phone": "+79201234567",
        "msg": "Message",
    }
    cases: list[tuple[dict[str, str], str, str]] = [
        ({**ok, "token": ""}, "1", "token"),
        ({k: v for k, v in ok.items() if k != "token"}, "1", "token"),
        ({**ok, "token": "2d9d148edeb50768c22dc6d96f85d60b"}, "1", "token"),
        ({**ok, "device": "987654"}, "3", "987654"),
        ({**ok, "device": str(theirs.id)}, "3", str(theirs.id)),
        ({**ok, "device": "one"}, "8", "device"),
        ({k: v for k, v in ok.items() if k != "phone"}, "4", "recipient"),
        ({**ok, "phone": "12345"}, "4", "12345"),
        ({k: v for k, v in ok.items() if k != "msg"}, "5", "empty"),
        ({**ok, "msg": "   "}, "5", "empty"),
        ({**ok, "msg": "x" * 100_000}, "6", "parts"),
        ({**ok, "phone": "*100#", "msg": "[ussd]"}, "11", "USSD"),
        ({**ok, "priority": "2000000"}, "8", "priority"),
    ]
    async with semy(server) as client:
        for params, code, word in cases:
            body = assert_error(await client.post("/api/3/sms.php", data=params), code, word)
            assert set(body) == {"code", "error"}
        assert (await outbox(client, server.key))["count"] == 0
        assert (await outbox(client, other_key))["count"] == 0


# --- the native API and the dialect agree ----------------------------------------------------


async def test_sms_php_and_native_api_show_the_same_message(server: Tenant) -> None:
    async with semy(server) as client, server.client() as native:
        semy_id = await sms(client, server.key, server.welcome.device_id)
        native_id = (
            await native.post("/api/v1/messages", json={"to": "+79207654321", "text": "Hello"})
        ).json()["messages"][0]["id"]
        for message_id in (semy_id, native_id):
            status = await eventually(
                lambda i=message_id: native.get(f"/api/v1/messages/{i}"),  # type: ignore[misc]
                lambda r: r.json()["status"] == "delivered",
            )
            assert status.json()["status"] == "delivered"
            listed = await outbox(client, server.key, list_id=message_id)
            item = listed["data"][0]
            assert item["id"] == message_id and item["is_delivered"] == 1
            assert item["id_device"] == status.json()["device_id"]
            assert item["phone"] == status.json()["to_original"]
