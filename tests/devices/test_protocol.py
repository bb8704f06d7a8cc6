"""The device protocol /device/v1 over real HTTP: a phone pulls work, reports, pushes inbound, beats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from smsgate.config import Settings
from smsgate.service import Policy
from tests.api.helpers import assert_problem, eventually
from tests.conftest import Server, start_server


async def phone(server: Server, name: str = "phone") -> tuple[int, httpx.AsyncClient]:
    """A phone registered through the native API, and a client holding its token."""
    async with server.client() as client:
        answer = await client.post("/api/v1/devices", json={"name": name})
    assert answer.status_code == 201
    return answer.json()["id"], server.client(answer.json()["token"])


async def without_simulator(server: Server) -> None:
    async with server.client() as client:
        assert (
            await client.delete(f"/api/v1/devices/{server.welcome.device_id}")
        ).status_code == 200


async def send(server: Server, **fields: Any) -> int:
    async with server.client() as client:
        answer = await client.post(
            "/api/v1/messages", json={"to": "+79201234567", "text": "hello", **fields}
        )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["messages"][0]["id"])


async def test_a_waiting_phone_is_woken_by_a_send(server: Server) -> None:
    await without_simulator(server)
    hub = server.app.hub
    device_id, device = await phone(server)
    async with device:
        poll = asyncio.create_task(device.get("/device/v1/messages", params={"wait": 10}))
        await eventually(
            lambda: asyncio.sleep(0, hub.is_waiting(device_id)), lambda waiting: waiting
        )
        assert not poll.done()
        message_id = await send(server)
        answer = await poll
        assert answer.status_code == 200
        [work] = answer.json()["messages"]
        assert (work["id"], work["to"], work["text"]) == (message_id, "+79201234567", "hello")
        assert work["lease_until"] and work["priority"] == "normal"  # as the native API says it
        urgent = await send(server, priority="urgent")
        [work] = (await device.get("/device/v1/messages")).json()["messages"]
        assert (work["id"], work["priority"]) == (urgent, "urgent")


async def test_reports_show_in_the_native_api(server: Server) -> None:
    await without_simulator(server)
    phone_id, device = await phone(server)
    message_id = await send(server)
    async with device, server.client() as client:
        [work] = (await device.get("/device/v1/messages")).json()["messages"]
        assert work["id"] == message_id
        leased = (await client.get(f"/api/v1/messages/{message_id}")).json()
        assert (leased["status"], leased["device_id"]) == ("leased", phone_id)
        for status in ("taken", "sent", "delivered"):
            answer = await device.post(
                "/device/v1/reports", json={"reports": [{"id": message_id, "status": status}]}
            )
            assert answer.json()["results"] == [
                {"id": message_id, "applied": True, "status": status, "detail": ""}
            ]
            shown = (await client.get(f"/api/v1/messages/{message_id}")).json()
            assert shown["status"] == status and shown[f"{status}_at"]
        again = await device.post(
            "/device/v1/reports", json={"reports": [{"id": message_id, "status": "sent"}]}
        )
        assert again.json()["results"][0]["applied"] is False
        done = (await client.get(f"/api/v1/messages?device={phone_id}&status=delivered")).json()[
            "messages"
        ]
        assert [m["id"] for m in done] == [message_id]
        assert done[0]["taken_at"] <= done[0]["sent_at"] <= done[0]["delivered_at"]


async def test_a_failure_report_carries_its_reason(server: Server) -> None:
    await without_simulator(server)
    _, device = await phone(server)
    message_id = await send(server)
    async with device, server.client() as client:
        await device.get("/device/v1/messages")
        report = {"id": message_id, "status": "failed", "reason": "not_allowed"}
        assert (await device.post("/device/v1/reports", json={"reports": [report]})).json()[
            "results"
        ][0]["applied"]
        shown = (await client.get(f"/api/v1/messages/{message_id}")).json()
        assert (shown["status"], shown["reason"]) == ("failed", "not_allowed")


async def test_inbound_lands_in_the_inbox(server: Server) -> None:
    phone_id, device = await phone(server)
    async with device, server.client() as client:
        answer = await device.post(
            "/device/v1/inbound",
            json={
                "messages": [
                    {
                        "sender": "+79201234567",
                        "text": "STOP",
                        "sim": 2,
                        "received_at": "2026-03-01T10:00:00+03:00",
                    },
                    {"sender": "900", "text": "Balance: 10"},
                ]
            },
        )
        assert answer.status_code == 201
        ids = answer.json()["ids"]
        inbox = (await client.get(f"/api/v1/inbox?device={phone_id}")).json()["messages"]
        assert [(m["id"], m["sender"], m["text"]) for m in inbox] == [
            (ids[1], "900", "Balance: 10"),
            (ids[0], "+79201234567", "STOP"),
        ]
        assert inbox[1]["sim"] == 2 and inbox[1]["received_at"].startswith("2026-03-01T07:00:00")
        assert [
            m["id"]
            for m in (await client.get("/api/v1/inbox?phone=%2B79201234567")).json()["messages"]
        ] == [ids[0]]
        assert (await client.delete(f"/api/v1/inbox/{ids[0]}")).status_code == 204
        assert [
            m["id"]
            for m in (await client.get(f"/api/v1/inbox?device={phone_id}")).json()["messages"]
        ] == [ids[1]]


async def test_heartbeat_shows_in_the_device_list(server: Server) -> None:
    phone_id, device = await phone(server)
    beat = {
        "battery": 57,
        "charging": True,
        "app_version": "1.4.2",
        "manufacturer": "Google",
        "model": "Pixel 7",
        "os_version": "14",
        "sims": [{"slot": 1, "number": "+79201234567", "carrier": "MTS"}, {"slot": 2}],
    }
    async with device, server.client() as client:
        fresh = (await client.get(f"/api/v1/devices/{phone_id}")).json()
        assert (fresh["online"], fresh["last_seen_at"]) == (False, None)
        assert (await device.post("/device/v1/heartbeat", json=beat)).status_code == 204
        [shown] = [d for d in (await client.get("/api/v1/devices")).json() if d["id"] == phone_id]
        assert {k: shown[k] for k in beat if k != "sims"} == {
            k: v for k, v in beat.items() if k != "sims"
        }
        assert shown["sims"] == [
            {"slot": 1, "number": "+79201234567", "carrier": "MTS"},
            {"slot": 2, "number": None, "carrier": None},
        ]
        assert shown["online"] is True and shown["last_seen_at"]
        assert (await device.post("/device/v1/heartbeat", json={"battery": 56})).status_code == 204
        again = (await client.get(f"/api/v1/devices/{phone_id}")).json()
        assert (again["battery"], again["model"]) == (56, "Pixel 7")  # what is not said stays
        assert_problem(
            await device.post("/device/v1/heartbeat", json={"battery": 140}), 422, "battery"
        )


async def test_wrong_missing_or_archived_tokens_are_refused(server: Server) -> None:
    phone_id, device = await phone(server)
    async with device, httpx.AsyncClient(base_url=server.url) as bare:
        assert (await device.get("/device/v1/messages")).status_code == 200
        async with server.client() as client:
            assert (await client.delete(f"/api/v1/devices/{phone_id}")).status_code == 200
        for path, body in (
            ("/device/v1/messages", None),
            ("/device/v1/heartbeat", {}),
            ("/device/v1/reports", {"reports": [{"id": 1, "status": "sent"}]}),
            ("/device/v1/inbound", {"messages": [{"sender": "1", "text": "x"}]}),
        ):
            method = "GET" if body is None else "POST"
            # the archived phone's own token, none, a wrong one, an API key (not a device token)
            for who, headers in (
                (device, {}),
                (bare, {}),
                (bare, {"Authorization": "Bearer sgd_wrong"}),
                (bare, {"Authorization": f"Bearer {server.key}"}),
            ):
                answer = await who.request(method, path, json=body, headers=headers)
                assert_problem(answer, 401, "token")
    async with server.client() as client:
        assert (await client.get("/api/v1/inbox")).json()["messages"] == []


async def test_bad_device_input_is_422(server: Server) -> None:
    _, device = await phone(server)
    async with device:
        assert_problem(await device.get("/device/v1/messages", params={"wait": 100}), 422, "wait")
        assert_problem(await device.get("/device/v1/messages", params={"limit": 0}), 422, "limit")
        assert_problem(
            await device.post(
                "/device/v1/reports", json={"reports": [{"id": 1, "status": "exploded"}]}
            ),
            422,
            "status",
        )
        assert_problem(
            await device.post("/device/v1/reports", json={"reports": []}), 422, "reports"
        )
        assert_problem(
            await device.post(
                "/device/v1/inbound", json={"messages": [{"sender": "", "text": "x"}]}
            ),
            422,
            "sender",
        )
        answer = await device.post(
            "/device/v1/reports", json={"reports": [{"id": 10**20, "status": "sent"}]}
        )
        assert answer.status_code in (200, 422) and (
            answer.status_code == 422 or not answer.json()["results"][0]["applied"]
        )


@pytest.fixture
async def quick_leases(settings_for: Callable[..., Settings]) -> AsyncIterator[Server]:
    uv, task, handle = await start_server(
        settings_for(policy=Policy(lease_time=timedelta(seconds=0.3)))
    )
    try:
        yield handle
    finally:
        uv.should_exit = True
        await task


async def test_an_unconfirmed_lease_goes_to_another_phone_exactly_once(
    quick_leases: Server,
) -> None:
    server = quick_leases
    await without_simulator(server)
    (first_id, first), (second_id, second) = (
        await phone(server, "first"),
        await phone(server, "second"),
    )
    message_id = await send(server)
    async with first, second, server.client() as client:
        [work] = (await first.get("/device/v1/messages")).json()["messages"]
        assert work["id"] == message_id
        # the first phone says nothing; the second is waiting and gets it when the lease runs out
        answer = await second.get("/device/v1/messages", params={"wait": 10})
        assert [m["id"] for m in answer.json()["messages"]] == [message_id]
        taken = await second.post(
            "/device/v1/reports", json={"reports": [{"id": message_id, "status": "taken"}]}
        )
        assert taken.json()["results"][0]["applied"]
        late = await first.post(
            "/device/v1/reports", json={"reports": [{"id": message_id, "status": "sent"}]}
        )
        assert late.json()["results"][0]["applied"] is False
        shown = (await client.get(f"/api/v1/messages/{message_id}")).json()
        assert (shown["status"], shown["device_id"], shown["attempts"]) == ("taken", second_id, 2)
        # taken is confirmed: it does not come back, to either phone, however long they wait
        for device in (first, second):
            assert (await device.get("/device/v1/messages", params={"wait": 0.5})).json()[
                "messages"
            ] == []
        assert (await client.get(f"/api/v1/messages/{message_id}")).json()["device_id"] == second_id
        assert first_id != second_id
