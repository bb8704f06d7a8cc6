"""Test mode (issue #11): the simulated phone takes only test traffic, and no real device ever does.

A send is in test mode when it asks (`"test": true`), names the simulated phone, or names no device
while the account has no real device yet (a fresh install). Over real HTTP with the simulated phone
running on its channel runner, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import httpx

from smsgate.core.messages import State
from tests.api.helpers import assert_problem, eventually
from tests.conftest import Server


async def send(server: Server, **fields: Any) -> dict[str, Any]:
    async with server.client() as client:
        answer = await client.post(
            "/api/v1/messages", json={"to": "+79201234567", "text": "hello", **fields}
        )
    assert answer.status_code == 201, answer.text
    [message] = answer.json()["messages"]
    return dict(message)


async def shown(server: Server, message_id: int) -> dict[str, Any]:
    async with server.client() as client:
        return dict((await client.get(f"/api/v1/messages/{message_id}")).json())


async def phone(server: Server) -> tuple[int, httpx.AsyncClient]:
    async with server.client() as client:
        answer = await client.post("/api/v1/devices", json={"name": "Office phone"})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], server.client(answer.json()["token"])


async def simulator_pull(server: Server) -> list[int]:
    """What the simulated phone would be handed right now (its runner pulls the same way)."""
    gateway = server.app.gateway
    [device] = await gateway.devices.list(
        account=await gateway.accounts.get(1), ids=[server.welcome.device_id]
    )
    return [m.id for m in await gateway.dispatch.pull(device, limit=100, wait=0)]


async def test_a_fresh_install_sends_in_test_mode_and_reaches_delivered(server: Server) -> None:
    message = await send(server)
    assert message["test"] is True and message["status"] == "queued"
    done = await eventually(
        lambda: shown(server, message["id"]), lambda m: m["status"] == "delivered"
    )
    assert (done["status"], done["test"], done["device_id"]) == (
        "delivered",
        True,
        server.welcome.device_id,
    )
    async with server.client() as client:
        inbox = await eventually(
            lambda: client.get("/api/v1/inbox"), lambda a: len(a.json()["messages"]) == 1
        )
    assert inbox.json()["messages"][0]["text"] == "Re: hello"


async def test_with_a_real_phone_a_send_without_device_goes_to_it_never_to_the_simulator(
    server: Server,
) -> None:
    phone_id, device = await phone(server)
    async with device:
        sent = [await send(server) for _ in range(20)]
        assert [m["test"] for m in sent] == [False] * 20
        assert await simulator_pull(server) == []  # the simulated phone is handed none of them
        work = (await device.get("/device/v1/messages", params={"limit": 100})).json()["messages"]
    assert sorted(m["id"] for m in work) == [m["id"] for m in sent]
    message = await shown(server, sent[0]["id"])
    assert (message["status"], message["device_id"], message["test"]) == ("leased", phone_id, False)


async def test_with_a_real_phone_off_a_send_waits_for_it(server: Server) -> None:
    phone_id, device = await phone(server)  # registered, never pulls
    await device.aclose()
    message = await send(server)
    assert await simulator_pull(server) == []
    assert (await shown(server, message["id"]))["status"] == "queued"
    async with server.client() as client:
        why = (await client.get(f"/api/v1/messages/{message['id']}/waiting")).json()
    assert f"device {phone_id}" in why["detail"], why  # it waits for the phone, not the simulator
    assert f"device {server.welcome.device_id}:" not in why["detail"], why


async def test_test_messages_go_to_the_simulated_phone_only(server: Server) -> None:
    _, device = await phone(server)
    async with device:
        message = await send(server, test=True)
        assert message["test"] is True
        work = (await device.get("/device/v1/messages")).json()["messages"]
        assert work == []  # a real device never takes test traffic
    done = await eventually(
        lambda: shown(server, message["id"]), lambda m: m["status"] == "delivered"
    )
    assert (done["device_id"], done["test"]) == (server.welcome.device_id, True)


async def test_naming_the_simulated_phone_is_test_mode(server: Server) -> None:
    phone_id, device = await phone(server)
    await device.aclose()
    named = await send(server, devices=[server.welcome.device_id])
    assert named["test"] is True
    async with server.client() as client:
        both = await client.post(
            "/api/v1/messages",
            json={
                "to": "+79201234567",
                "text": "x",
                "devices": [server.welcome.device_id, phone_id],
            },
        )
        assert_problem(both, 422, "simulated phone")
        real = await client.post(
            "/api/v1/messages",
            json={"to": "+79201234567", "text": "x", "devices": [phone_id], "test": True},
        )
        assert_problem(real, 422, "real device")
    done = await eventually(
        lambda: shown(server, named["id"]), lambda m: m["status"] == "delivered"
    )
    assert done["status"] == State.DELIVERED


async def test_archiving_the_last_real_phone_brings_test_mode_back(server: Server) -> None:
    phone_id, device = await phone(server)
    await device.aclose()
    assert (await send(server))["test"] is False
    async with server.client() as client:
        assert (await client.delete(f"/api/v1/devices/{phone_id}")).status_code == 200
    assert (await send(server))["test"] is True
