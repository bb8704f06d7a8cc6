"""A newcomer's walk: send through the native API, watch it reach delivered, find the reply."""

from __future__ import annotations

import asyncio

from tests.conftest import Server


async def wait_for_status(client, message_id: int, status: str, timeout: float = 10.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        answer = (await client.get(f"/api/v1/messages/{message_id}")).json()
        if answer["status"] == status or asyncio.get_running_loop().time() > deadline:
            return answer
        await asyncio.sleep(0.05)


async def test_message_reaches_delivered_and_reply_lands_in_inbox(server: Server) -> None:
    async with server.client() as client:
        answer = await client.post("/api/v1/messages", json={"to": "+79201234567", "text": "Hello"})
        assert answer.status_code == 201
        message = answer.json()["messages"][0]
        assert message["status"] == "queued"
        done = await wait_for_status(client, message["id"], "delivered")
        assert done["status"] == "delivered"
        assert done["device_id"] == server.welcome.device_id
        assert done["taken_at"] <= done["sent_at"] <= done["delivered_at"]
        for _ in range(100):
            inbox = (await client.get("/api/v1/inbox")).json()["messages"]
            if inbox:
                break
            await asyncio.sleep(0.05)
        assert inbox[0]["sender"] == "+79201234567"
        assert inbox[0]["text"] == "Re: Hello"
