"""Webhooks over real HTTP: every event of a message's journey and its reply, signed; a receiver
that fails four times then recovers gets the event exactly once more; replays; two-way numbers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from smsgate.config import Settings
from smsgate.core.events import RetryPlan
from smsgate.service import DeliveryPolicy
from smsgate.webhooks import sign
from tests.api.helpers import eventually
from tests.conftest import Server, start_server
from tests.webhooks.receiver import Receiver

QUICK = DeliveryPolicy(
    timeout=timedelta(seconds=2),
    retry=RetryPlan(first=timedelta(seconds=0.05), longest=timedelta(seconds=0.2)),
    poll=0.05,
)
TWO_WAY = "+12025550143"
PEER = "+79201234567"


@pytest.fixture
async def hooked(settings_for: Callable[..., Settings]) -> AsyncIterator[Server]:
    uv, task, handle = await start_server(settings_for(delivery=QUICK))
    try:
        yield handle
    finally:
        uv.should_exit = True
        await task


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    try:
        yield found
    finally:
        await found.stop()


def assert_signed(got: object, secret: str) -> None:
    headers, body = got.headers, got.body  # type: ignore[attr-defined]
    assert headers["x-smsgate-signature"] == sign.signature(
        secret, int(headers["x-smsgate-timestamp"]), body
    )
    assert sign.verify(
        secret,
        headers["x-smsgate-timestamp"],
        body,
        headers["x-smsgate-signature"],
        now=time.time(),
    )


async def test_every_event_of_a_journey_arrives_signed(hooked: Server, receiver: Receiver) -> None:
    async with hooked.client() as client:
        made = await client.post("/api/v1/webhooks", json={"url": receiver.url, "events": "*"})
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        assert secret.startswith("whsec_")
        sent = await client.post("/api/v1/messages", json={"to": PEER, "text": "hello hooks"})
        message_id = sent.json()["messages"][0]["id"]
        wanted = {"message.queued", "message.sent", "message.delivered", "inbound.received"}
        await receiver.wait_for(lambda: wanted <= {g.json["event"] for g in receiver.got})
        for got in receiver.got:
            assert_signed(got, secret)
        delivered = receiver.of("message.delivered")[0].json
        assert delivered["message"]["id"] == message_id
        assert delivered["message"]["status"] == "delivered"
        reply = receiver.of("inbound.received")[0].json["inbound"]
        assert reply["from"] == PEER and reply["text"].startswith("Re: hello hooks")

        async def log() -> list[dict[str, object]]:
            found: list[dict[str, object]] = (
                await client.get("/api/v1/webhooks/deliveries")
            ).json()["deliveries"]
            return found

        found = await eventually(log, lambda f: all(d["state"] == "delivered" for d in f))
        assert {d["event"] for d in found} >= wanted
        assert all(d["state"] == "delivered" and d["attempts"] == 1 for d in found)


async def test_a_receiver_failing_four_times_gets_the_event_exactly_once_more(
    hooked: Server, receiver: Receiver
) -> None:
    receiver.fail_first = 4
    async with hooked.client() as client:
        made = await client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["message.queued"]}
        )
        hook_id = made.json()["id"]
        await client.post("/api/v1/messages", json={"to": PEER, "text": "retry me"})
        await receiver.wait_for(lambda: any(g.status == 200 for g in receiver.got))
        log = (await client.get("/api/v1/webhooks/deliveries")).json()
        [delivery] = log["deliveries"]
        assert delivery["webhook_id"] == hook_id

        async def shown_now() -> dict[str, object]:
            url = f"/api/v1/webhooks/deliveries/{delivery['id']}"
            found: dict[str, object] = (await client.get(url)).json()
            return found

        shown: dict[str, Any] = await eventually(shown_now, lambda s: s["state"] == "delivered")
        assert [a["status"] for a in shown["attempts_log"]] == [500, 500, 500, 500, 200]
        assert shown["state"] == "delivered" and shown["attempts"] == 5
        assert all(a["error"] == "HTTP 500" for a in shown["attempts_log"][:4])
        # the same event each time, and nothing after the success
        assert len({g.headers["x-smsgate-event-id"] for g in receiver.got}) == 1
        assert [g.status for g in receiver.got] == [500, 500, 500, 500, 200]

        replayed = await client.post(f"/api/v1/webhooks/deliveries/{delivery['id']}/replay")
        assert replayed.json() == {"replayed": [delivery["id"]]}
        await receiver.wait_for(lambda: len(receiver.got) == 6)
        assert receiver.got[5].body == receiver.got[4].body  # the same body, signed anew
    time_left = 0.3  # nothing else comes
    before = len(receiver.got)
    await receiver.wait_for(lambda: True, timeout=time_left)
    assert len(receiver.got) == before == 6


async def test_a_reply_to_a_two_way_number_reaches_its_callback(
    hooked: Server, receiver: Receiver
) -> None:
    account_wide = Receiver()
    await account_wide.start()
    try:
        async with hooked.client() as client:
            device = hooked.welcome.device_id
            changed = await client.patch(
                f"/api/v1/devices/{device}", json={"sim_numbers": {"1": TWO_WAY}}
            )
            assert changed.status_code == 200, changed.text
            made = await client.post(
                "/api/v1/webhooks",
                json={"url": receiver.url, "events": "inbound.received", "number": TWO_WAY},
            )
            assert made.status_code == 201, made.text
            secret = made.json()["secret"]
            other = await client.post(
                "/api/v1/webhooks", json={"url": account_wide.url, "events": "message.delivered"}
            )
            assert other.status_code == 201
            sent = await client.post(
                "/api/v1/messages", json={"to": PEER, "text": "two-way", "from": TWO_WAY}
            )
            assert sent.status_code == 201, sent.text
            message = sent.json()["messages"][0]
            assert message["from"] == TWO_WAY and message["sim"] == 1
            await account_wide.wait_for(lambda: len(account_wide.got) == 1)
            delivered_at = max(g.at for g in account_wide.got)
            await receiver.wait_for(lambda: len(receiver.got) >= 1)
            got = receiver.got[0]
            assert_signed(got, secret)
            reply = got.json["inbound"]
            assert reply["to"] == TWO_WAY and reply["from"] == PEER
            assert reply["in_reply_to"]["id"] == message["id"]
            # the simulated phone answers reply_after (0.05 s) after delivery: the rest is smsgate's
            print(
                f"reply reached its callback {got.at - delivered_at:.3f} s after the delivery report"
            )
            assert got.at - delivered_at < 5.0  # a generous bound: it arrived, pushed, not polled
            # the number's callback asked for replies only; the account-wide one for deliveries
            await receiver.wait_for(lambda: True, timeout=0.3)
            assert len(receiver.got) == 1 and len(account_wide.got) == 1

            bad = await client.post(
                "/api/v1/messages", json={"to": PEER, "text": "x", "from": "+12025550199"}
            )
            assert bad.status_code == 422 and "not a number of this account" in bad.text
            not_ours = await client.post(
                "/api/v1/webhooks", json={"url": receiver.url, "number": "+12025550199"}
            )
            assert not_ours.status_code == 422
    finally:
        await account_wide.stop()


async def test_bad_webhooks_are_refused(hooked: Server) -> None:
    async with hooked.client() as client:
        for body in (
            {"url": "ftp://example.com/x"},
            {"url": "not a url"},
            {"url": "http://127.0.0.1/x", "events": "message.exploded"},
            {"url": "http://127.0.0.1/x", "events": ""},
            {"url": "http://127.0.0.1/x", "colour": "red"},
        ):
            answer = await client.post("/api/v1/webhooks", json=body)
            assert answer.status_code == 422, (body, answer.text)
        assert (await client.get("/api/v1/webhooks")).json() == []
        assert (await client.post("/api/v1/webhooks/deliveries/99/replay")).status_code == 404
        assert (await client.get("/api/v1/webhooks/7")).status_code == 404
