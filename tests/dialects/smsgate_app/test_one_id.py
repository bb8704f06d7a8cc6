"""One client message, one id, from the client API to the phone and back (issue #9).

A message of the app's client API with several `phoneNumbers` is ONE message on the phone, under
the id the client was given; every pull, state PATCH, event, webhook and client answer speaks that
id. Over real HTTP, with the phone emulator on the mobile API and httpx on the client API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.dialects.smsgate_app.conftest import Tenant
from tests.dialects.smsgate_app.emulator import Phone

A, B = "+79201234567", "+79201234568"
CLIENT = "/api/3rdparty/v1"


def client_api(server: Server, tenant: Tenant) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{server.url}{CLIENT}", auth=(tenant.email, tenant.password), timeout=30
    )


async def state_of(sms: httpx.AsyncClient, key: str) -> dict[str, Any]:
    answer = await sms.get(f"/messages/{key}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    assert found["id"] == key
    return found


def stamp(at: datetime) -> str:
    """The app's time shape, to the millisecond."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def recipients(found: dict[str, Any]) -> dict[str, str]:
    return {r["phoneNumber"]: r["state"] for r in found["recipients"]}


async def send(sms: httpx.AsyncClient, key: str | None, **fields: Any) -> str:
    body = {"textMessage": {"text": "Your code is 4711"}, "phoneNumbers": [A, B], **fields}
    if key is not None:
        body["id"] = key
    answer = await sms.post("/messages", json=body)
    assert answer.status_code == 202, answer.text
    given: str = answer.json()["id"]
    assert given == key if key is not None else given
    assert answer.headers["location"] == f"{CLIENT}/messages/{given}"
    assert recipients(answer.json()) == {n: "Pending" for n in body["phoneNumbers"]}
    return given


@pytest.mark.parametrize("client_id", ["order-77-otp", None])
async def test_one_message_from_the_client_to_the_phone_and_back(
    server: Server, tenant: Tenant, phones: Callable[..., Phone], client_id: str | None
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    await phone.open_stream()
    async with client_api(server, tenant) as sms:
        schedule = datetime.now(UTC) + timedelta(seconds=1)
        valid = schedule + timedelta(hours=2)
        server.app.clock.shift(-timedelta(hours=1))  # however slow the send: a future schedule
        key = await send(
            sms,
            client_id,
            simNumber=2,
            priority=100,
            scheduleAt=schedule.isoformat(),
            validUntil=valid.isoformat(),
        )
        server.app.clock.release()  # the phone's clock and the server's agree again
        pulled_now: list[dict[str, Any]] = []
        while not pulled_now:  # a wake-up may come before the schedule falls due: pull again
            await phone.next_event("MessageEnqueued")
            pulled_now = await phone.pull()
        [pulled] = pulled_now  # one message, the client's id, both numbers
        assert pulled["id"] == key
        assert pulled["phoneNumbers"] == [A, B]
        assert pulled["textMessage"] == {"text": "Your code is 4711"}
        assert pulled["message"] == "Your code is 4711"
        assert pulled["simNumber"] == 2 and pulled["priority"] == 100
        assert pulled["state"] == "Pending"
        assert pulled["scheduleAt"] == stamp(schedule)
        assert pulled["validUntil"] == stamp(valid)
        local = phone.local[key]

        assert (await phone.set_state(local, "Processed")).status_code == 204
        found = await state_of(sms, key)
        assert found["state"] == "Processed" and recipients(found) == {
            A: "Processed",
            B: "Processed",
        }
        assert found["deviceId"] == phone.id

        assert (await phone.set_state(local, "Sent", only=A)).status_code == 204
        failed = await phone.set_state(
            local, "Failed", only=B, error="Can't send message: SIM 2 not found"
        )
        assert failed.status_code == 204
        assert (await phone.set_state(local, "Delivered", only=A)).status_code == 204
        found = await state_of(sms, key)
        assert recipients(found) == {A: "Delivered", B: "Failed"}
        assert found["state"] == "Sent"  # the app's rule: neither all delivered nor all failed
        assert {"Pending", "Processed", "Sent", "Delivered", "Failed"} <= set(found["states"])
        assert [r.get("error") for r in found["recipients"]] == [None, "failed: not_allowed"]

        listed = (await sms.get("/messages", params={"deviceId": phone.id})).json()
        assert [m["id"] for m in listed] == [key]
        assert recipients(listed[0]) == {A: "Delivered", B: "Failed"}
        assert await phone.pull() == []  # reported: never handed again

    # the core keeps one message per recipient, in one group under the client's id
    native = (await tenant.api.get("/api/v1/messages", params={"limit": 10})).json()["messages"]
    assert sorted((m["to"], m["status"]) for m in native) == [(A, "delivered"), (B, "failed")]
    assert {m["reference"] for m in native} == {key}


async def test_a_cancel_reaches_a_streaming_phone_and_a_pulling_one(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    streaming = phones()
    await streaming.register(private_token=tenant.key)
    await streaming.open_stream()
    async with client_api(server, tenant) as sms:
        key = await send(sms, "cancel-me", deviceId=streaming.id)
        [pulled] = await streaming.pull()
        assert pulled["id"] == key and pulled["phoneNumbers"] == [A, B]
        answer = await sms.delete(f"/messages/{key}")
        assert answer.status_code == 200 and answer.json()["state"] == "Cancelling"
        assert recipients(answer.json()) == {A: "Cancelling", B: "Cancelling"}
        event = await streaming.next_event("MessageCancelled")
        assert event.data == {"messageId": key}  # once, with the client's id
        assert (await sms.delete(f"/messages/{key}")).status_code == 200  # asked again: no news
        again = (await streaming.http.get("/message", headers=streaming.auth)).json()
        assert [(m["id"], m["state"], m["phoneNumbers"]) for m in again] == [
            (key, "Cancelling", [A, B])
        ]
        assert (await state_of(sms, key))["state"] == "Cancelling"  # until the phone confirms
        done = await streaming.set_state(streaming.local[key], "Cancelled")
        assert done.status_code == 204
        found = await state_of(sms, key)
        assert found["state"] == "Cancelled" and recipients(found) == {
            A: "Cancelled",
            B: "Cancelled",
        }
        assert streaming.events.empty() or all(
            e.kind != "MessageCancelled" for e in list(streaming.events._queue)
        )

        pulling = phones(name="Xiaomi/redmi")
        await pulling.register(private_token=tenant.key)
        key = await send(sms, None, deviceId=pulling.id)
        [pulled] = await pulling.pull()
        assert pulled["id"] == key and pulled["phoneNumbers"] == [A, B]
        await pulling.send_state(pulling.local[key])  # the app confirms Pending on a later pull
        assert await pulling.pull() == []
        assert (await sms.delete(f"/messages/{key}")).json()["state"] == "Cancelling"
        listed = (await pulling.http.get("/message", headers=pulling.auth)).json()
        assert [(m["id"], m["state"]) for m in listed] == [(key, "Cancelling")]
        assert await pulling.pull() == []  # the emulator drops it and says Cancelled
        assert pulling.local[key].state == "Cancelled"
        assert (await state_of(sms, key))["state"] == "Cancelled"


async def test_the_phones_webhooks_speak_the_clients_id(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    async with client_api(server, tenant) as sms:
        hook = {"id": "to-client", "url": "https://client.example/sent", "event": "sms:sent"}
        assert (await sms.post("/webhooks", json=hook)).status_code == 201
        await phone.sync_webhooks()
        await phone.sync_settings()
        assert any(h["url"] == hook["url"] for h in phone.hooks)  # the client's, to call directly
        key = await send(sms, "order-78")
        [pulled] = await phone.pull()
        assert pulled["id"] == key
        payload = {"messageId": key, "phoneNumber": A, "partsCount": 1}
        sent = await phone.post_hook("sms:sent", {**payload, "sentAt": "2026-01-01T00:00:00.000Z"})
        assert sent.status_code == 200 and sent.json() == {"applied": True, "state": "sent"}
        found = await state_of(sms, key)
        assert recipients(found) == {A: "Sent", B: "Pending"}
        delivered = await phone.post_hook(
            "sms:delivered",
            {"messageId": key, "phoneNumber": A, "deliveredAt": "2026-01-01T00:00:05.000Z"},
        )
        assert delivered.json() == {"applied": True, "state": "delivered"}
        failed = await phone.post_hook(
            "sms:failed",
            {
                "messageId": key,
                "phoneNumber": B,
                "failedAt": "2026-01-01T00:00:06.000Z",
                "reason": "Can't send message: SIM 2 not found",
            },
        )
        assert failed.json() == {"applied": True, "state": "failed"}
        assert recipients(await state_of(sms, key)) == {A: "Delivered", B: "Failed"}
        unknown = await phone.post_hook(
            "sms:sent", {"messageId": "order-79", "sentAt": "2026-01-01T00:00:00.000Z"}
        )
        assert unknown.status_code == 404 and "order-79" in unknown.json()["message"]


async def test_other_doors_messages_keep_their_own_ids_on_an_app_phone(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    native = (
        await tenant.api.post(
            "/api/v1/messages", json={"to": [A, B], "text": "hi", "devices": [int(phone.id)]}
        )
    ).json()["messages"]
    semysms = (
        await tenant.api.get(
            "/api/3/sms.php",
            params={"token": tenant.key, "device": phone.id, "phone": "+79201234569", "msg": "yo"},
        )
    ).json()
    assert semysms["code"] == "0"
    ids = {str(m["id"]): m["to"] for m in native} | {str(semysms["id"]): "+79201234569"}
    pulled = await phone.pull(order="fifo")
    assert {p["id"]: p["phoneNumbers"] for p in pulled} == {i: [to] for i, to in ids.items()}
    for message_id in ids:
        await phone.send_through(message_id, "Delivered")
    for message_id, to in ids.items():
        found = (await tenant.api.get(f"/api/v1/messages/{message_id}")).json()
        assert (found["to"], found["status"]) == (to, "delivered")
    async with client_api(server, tenant) as sms:  # the client API finds them by those ids
        for message_id, to in ids.items():
            found = await state_of(sms, message_id)
            assert recipients(found) == {to: "Delivered"}


async def test_twenty_sends_spread_over_two_phones_and_none_reaches_both(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    a, b = phones(), phones(name="Xiaomi/redmi")
    await a.register(private_token=tenant.key)
    await b.register(private_token=tenant.key)
    got: dict[str, dict[str, list[str]]] = {a.id: {}, b.id: {}}  # type: ignore[dict-item]
    done = asyncio.Event()

    async def poll(phone: Phone) -> None:
        while not done.is_set():
            for message in await phone.pull(order="fifo"):
                got[phone.id][message["id"]] = message["phoneNumbers"]  # type: ignore[index]
                await phone.send_through(message["id"], "Delivered")
            await asyncio.sleep(0.01)

    pollers = [asyncio.create_task(poll(a)), asyncio.create_task(poll(b))]
    keys = []
    async with client_api(server, tenant) as sms:
        for n in range(20):
            numbers = [f"+7920123{n:02d}01", f"+7920123{n:02d}02"]
            key = await send(sms, f"spread-{n}" if n % 2 else None, phoneNumbers=numbers)
            keys.append((key, numbers))
            await asyncio.sleep(0.01)
        deadline = time.monotonic() + 30
        while len(got[a.id]) + len(got[b.id]) < 20 and time.monotonic() < deadline:  # type: ignore[index]
            await asyncio.sleep(0.02)
        done.set()
        await asyncio.gather(*pollers)
        on_a, on_b = got[a.id], got[b.id]  # type: ignore[index]
        assert not set(on_a) & set(on_b)  # no message reached both phones
        assert on_a and on_b  # spread over both
        assert {**on_a, **on_b} == dict(keys)  # each whole, both numbers, on one phone
        for key, _ in keys:
            found = await state_of(sms, key)
            assert found["state"] == "Delivered"
            assert found["deviceId"] == (a.id if key in on_a else b.id)
    print(f"\ntwenty app messages: {len(on_a)} and {len(on_b)} on the two phones")


async def test_a_client_id_is_taken_once_and_freed_when_the_send_fails(
    server: Server, tenant: Tenant
) -> None:
    async with client_api(server, tenant) as sms:
        bad = {"id": "k1", "textMessage": {"text": "x"}, "phoneNumbers": ["not a number"]}
        assert (await sms.post("/messages", json=bad)).status_code == 400
        assert (await sms.get("/messages/k1")).status_code == 404
        assert await send(sms, "k1") == "k1"  # the failed send left the id free
        twice = await sms.post(
            "/messages", json={"id": "k1", "textMessage": {"text": "x"}, "phoneNumbers": [A]}
        )
        assert twice.status_code == 409
