"""One account never sees or touches another's data, through any endpoint of /api/v1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.helpers import assert_problem, stored_count
from tests.conftest import Server

LATER = (datetime.now(UTC) + timedelta(hours=2)).isoformat()


async def test_a_second_account_cannot_touch_the_first(server: Server) -> None:
    _, other_key = await server.account("intruder@example.com")
    async with server.client() as owner, server.client(other_key) as intruder:
        phone = (await owner.post("/api/v1/devices", json={"name": "owner's phone"})).json()
        sent = (
            await owner.post(
                "/api/v1/messages", json={"to": "+79201234567", "text": "mine", "send_at": LATER}
            )
        ).json()
        message_id = sent["messages"][0]["id"]
        async with server.client(phone["token"]) as device:
            inbound = (
                await device.post(
                    "/device/v1/inbound",
                    json={"messages": [{"sender": "+79201234567", "text": "hi"}]},
                )
            ).json()
        inbound_id = inbound["ids"][0]
        own_key_id = (await owner.get("/api/v1/keys")).json()[0]["id"]
        before = await stored_count(server.app)

        # messages: get, list (every filter), cancel, delete
        assert_problem(await intruder.get(f"/api/v1/messages/{message_id}"), 404, "not found")
        assert (await intruder.get("/api/v1/messages")).json()["messages"] == []
        for query in (
            f"min_id={message_id}",
            f"device={phone['id']}",
            "phone=%2B79201234567",
            "status=scheduled",
        ):
            assert (await intruder.get(f"/api/v1/messages?{query}")).json()["messages"] == [], query
        assert_problem(await intruder.post(f"/api/v1/messages/{message_id}/cancel"), 404)
        assert_problem(await intruder.delete(f"/api/v1/messages/{message_id}"), 404)
        assert (await owner.get(f"/api/v1/messages/{message_id}")).json()["status"] == "scheduled"

        # inbox
        assert (await intruder.get("/api/v1/inbox")).json()["messages"] == []
        assert_problem(await intruder.delete(f"/api/v1/inbox/{inbound_id}"), 404)
        assert [m["id"] for m in (await owner.get("/api/v1/inbox")).json()["messages"]] == [
            inbound_id
        ]

        # devices: list, show, change, archive, send through them
        assert (await intruder.get("/api/v1/devices")).json() == []
        assert (await intruder.get("/api/v1/devices?archived=true")).json() == []
        assert_problem(await intruder.get(f"/api/v1/devices/{phone['id']}"), 404)
        assert_problem(
            await intruder.patch(f"/api/v1/devices/{phone['id']}", json={"name": "mine now"}), 404
        )
        assert_problem(await intruder.delete(f"/api/v1/devices/{phone['id']}"), 404)
        for device_id in (phone["id"], server.welcome.device_id):
            answer = await intruder.post(
                "/api/v1/messages", json={"to": "+79201234567", "text": "x", "devices": [device_id]}
            )
            assert_problem(answer, 422, f"device {device_id}")
            batch = {"messages": [{"to": "+79201234567", "text": "x", "devices": [device_id]}]}
            assert_problem(await intruder.post("/api/v1/messages/batch", json=batch), 422)
        shown = (await owner.get(f"/api/v1/devices/{phone['id']}")).json()
        assert (shown["name"], shown["archived"]) == ("owner's phone", False)

        # keys
        assert own_key_id not in {k["id"] for k in (await intruder.get("/api/v1/keys")).json()}
        assert_problem(await intruder.delete(f"/api/v1/keys/{own_key_id}"), 404)
        assert (await owner.get("/api/v1/keys")).status_code == 200

        # the device protocol: the intruder's phone cannot report the owner's message
        mine = (await intruder.post("/api/v1/devices", json={"name": "intruder's phone"})).json()
        async with server.client(mine["token"]) as device:
            answer = await device.post(
                "/device/v1/reports", json={"reports": [{"id": message_id, "status": "delivered"}]}
            )
            assert answer.json()["results"][0]["applied"] is False
            assert (await device.get("/device/v1/messages")).json()["messages"] == []
        assert await stored_count(server.app) == before
        assert (await owner.get(f"/api/v1/messages/{message_id}")).json()["status"] == "scheduled"
