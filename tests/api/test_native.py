"""The native API's happy paths over real HTTP: send, batch, list, cancel, delete, devices, keys, operations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.helpers import assert_problem, stored_count
from tests.conftest import Server

LATER = (datetime.now(UTC) + timedelta(hours=2)).isoformat()


async def test_send_to_many_recipients_one_message_each(server: Server) -> None:
    async with server.client() as client:
        answer = await client.post(
            "/api/v1/messages",
            json={
                "to": ["+79201234567", "8 920 123-45-68", "+79201234567"],
                "text": "Привет {}",
                "reference": "order-7",
            },
        )
        assert answer.status_code == 201
        sent = answer.json()["messages"]
        assert [m["to"] for m in sent] == [
            "+79201234567",
            "+79201234568",
        ]  # a repeated recipient is sent once
        assert [m["to_original"] for m in sent] == ["+79201234567", "8 920 123-45-68"]
        assert {(m["encoding"], m["segments"], m["reference"], m["country"]) for m in sent} == {
            ("ucs2", 1, "order-7", "RU")
        }
        shown = (await client.get(f"/api/v1/messages/{sent[0]['id']}")).json()
        assert shown["id"] == sent[0]["id"] and shown["text"] == "Привет {}"


async def test_batch_gives_back_each_reference_with_its_id(server: Server) -> None:
    entries = [
        {"to": f"+7920123456{i}", "text": f"code {i}", "reference": f"ref-{i}"} for i in range(10)
    ]
    entries[4]["priority"] = "urgent"
    async with server.client() as client:
        answer = await client.post("/api/v1/messages/batch", json={"messages": entries})
        assert answer.status_code == 201
        sent = answer.json()["messages"]
        assert [(m["reference"], m["text"]) for m in sent] == [
            (f"ref-{i}", f"code {i}") for i in range(10)
        ]
        assert len({m["id"] for m in sent}) == 10
        assert sent[4]["priority"] == "urgent" and sent[3]["priority"] == "normal"
        for m in sent:
            assert (await client.get(f"/api/v1/messages/{m['id']}")).json()["reference"] == m[
                "reference"
            ]


async def test_cursor_pagination_walks_every_message(server: Server) -> None:
    async with server.client() as client:
        entries = [{"to": "+79201234567", "text": str(i), "send_at": LATER} for i in range(25)]
        sent = {
            m["id"]
            for m in (
                await client.post("/api/v1/messages/batch", json={"messages": entries})
            ).json()["messages"]
        }
        seen: list[int] = []
        url = "/api/v1/messages?limit=7&status=scheduled"
        while True:
            page = (await client.get(url)).json()
            seen.extend(m["id"] for m in page["messages"])
            if page["next_cursor"] is None:
                break
            url = f"/api/v1/messages?limit=7&status=scheduled&cursor={page['next_cursor']}"
        assert seen == sorted(sent, reverse=True)


async def test_listing_filters(server: Server) -> None:
    async with server.client() as client:
        phone = (await client.post("/api/v1/devices", json={"name": "phone"})).json()
        a = (
            await client.post(
                "/api/v1/messages", json={"to": "+79201234567", "text": "a", "send_at": LATER}
            )
        ).json()["messages"][0]
        b = (
            await client.post(
                "/api/v1/messages",
                json={
                    "to": "+79201234568",
                    "text": "b",
                    "send_at": LATER,
                    "devices": [phone["id"]],
                },
            )
        ).json()["messages"][0]

        async def ids(query: str) -> list[int]:
            answer = await client.get(f"/api/v1/messages?{query}")
            assert answer.status_code == 200, answer.text
            return [m["id"] for m in answer.json()["messages"]]

        assert await ids("phone=89201234568") == [
            b["id"]
        ]  # the filter takes the national spelling too
        assert await ids("phone=%2B79201234567") == [a["id"]]
        assert await ids(f"min_id={b['id']}") == [b["id"]]
        assert await ids(f"max_id={a['id']}") == [a["id"]]
        assert await ids("status=scheduled,queued") == [b["id"], a["id"]]
        assert await ids("status=delivered") == []
        since = a["created_at"].replace("+00:00", "Z")
        assert set(await ids(f"since={since}")) >= {a["id"], b["id"]}
        assert await ids("until=2000-01-01T00:00:00Z") == []


async def test_cancel_and_delete(server: Server) -> None:
    async with server.client() as client:
        message = (
            await client.post(
                "/api/v1/messages", json={"to": "+79201234567", "text": "x", "send_at": LATER}
            )
        ).json()["messages"][0]
        cancelled = (await client.post(f"/api/v1/messages/{message['id']}/cancel")).json()
        assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"]
        assert_problem(
            await client.post(f"/api/v1/messages/{message['id']}/cancel"), 409, "cancelled"
        )
        before = await stored_count(server.app)
        assert (await client.delete(f"/api/v1/messages/{message['id']}")).status_code == 204
        assert await stored_count(server.app) == before - 1
        assert_problem(await client.get(f"/api/v1/messages/{message['id']}"), 404)
        assert_problem(await client.delete(f"/api/v1/messages/{message['id']}"), 404)


async def test_devices_register_list_change_archive(server: Server) -> None:
    async with server.client() as client:
        answer = await client.post(
            "/api/v1/devices", json={"name": "Office phone", "limits": {"quota": 100}}
        )
        assert answer.status_code == 201
        phone = answer.json()
        assert phone["token"] and phone["kind"] == "android" and phone["limits"]["quota"] == 100
        listed = (await client.get("/api/v1/devices")).json()
        assert {d["id"] for d in listed} == {server.welcome.device_id, phone["id"]}
        assert all(d["token"] is None for d in listed)  # shown once only
        changed = (
            await client.patch(
                f"/api/v1/devices/{phone['id']}", json={"name": "  Front desk ", "enabled": False}
            )
        ).json()
        assert (changed["name"], changed["enabled"]) == ("Front desk", False)
        assert_problem(
            await client.post(
                "/api/v1/messages",
                json={"to": "+79201234567", "text": "x", "devices": [phone["id"]]},
            ),
            422,
            "disabled",
        )
        archived = (await client.delete(f"/api/v1/devices/{phone['id']}")).json()
        assert archived["archived"] is True
        assert {d["id"] for d in (await client.get("/api/v1/devices")).json()} == {
            server.welcome.device_id
        }
        assert [d["id"] for d in (await client.get("/api/v1/devices?archived=true")).json()] == [
            phone["id"]
        ]
        assert_problem(
            await client.post(
                "/api/v1/messages",
                json={"to": "+79201234567", "text": "x", "devices": [phone["id"]]},
            ),
            422,
            "archived",
        )


async def test_keys_create_list_revoke(server: Server) -> None:
    async with server.client() as client:
        created = (await client.post("/api/v1/keys", json={"name": "ci"})).json()
        assert created["key"].startswith(created["prefix"])
        listed = (await client.get("/api/v1/keys")).json()
        assert [k["name"] for k in listed] == ["first key", "ci"] and all(
            k["key"] is None for k in listed
        )
        assert (await client.delete(f"/api/v1/keys/{created['id']}")).json()["revoked_at"]
        assert_problem(await client.delete("/api/v1/keys/999999"), 404)


async def test_operations_endpoints_answer(server: Server) -> None:
    async with server.client() as client:
        await client.post("/api/v1/messages", json={"to": "+79201234567", "text": "count me"})
        health = await client.get("/healthz", headers={"Authorization": ""})
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        metrics = await client.get("/metrics", headers={"Authorization": ""})
        assert metrics.status_code == 200 and "smsgate_messages_accepted_total 1.0" in metrics.text
        spec = (await client.get("/openapi.json")).json()
        assert {
            "/api/v1/messages",
            "/api/v1/messages/batch",
            "/api/v1/devices",
            "/device/v1/messages",
        } <= set(spec["paths"])
        docs = await client.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
