"""Prices, balances and number intelligence over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from smsgate import app as application
from smsgate.config import Settings
from smsgate.core import billing
from smsgate.core.requests import SendRequest
from tests import conftest
from tests.api.helpers import assert_problem, stored_count
from tests.conftest import Server

CSV = "country,prefix,operator,price\nRU,,,2.00\nRU,,MegaFon,1.75\nRU,7903,,1.10\n"
CYRILLIC_2_PARTS = "Здравствуйте! Ваш заказ №1234 собран и ждёт вас в пункте выдачи до пятницы."


async def load(server: Server, text: str = CSV) -> None:
    async with server.client() as c:
        answer = await c.put(
            "/api/v1/prices", content=text.encode(), headers={"content-type": "text/csv"}
        )
    assert answer.status_code == 200, answer.text


async def test_a_csv_price_list_prices_a_two_part_cyrillic_message_by_operator(
    server: Server,
) -> None:
    await load(server)
    async with server.client() as c:
        listed = (await c.get("/api/v1/prices")).json()
        assert listed["currency"] == "RUB" and len(listed["prices"]) == 3
        sent = await c.post(
            "/api/v1/messages", json={"to": "+79261234567", "text": CYRILLIC_2_PARTS}
        )
        assert sent.status_code == 201, sent.text
        message = sent.json()["messages"][0]
        assert message["segments"] == 2 and message["cost"] == "3.50"
        assert (
            message["country"],
            message["operator"],
            message["number_type"],
            message["mccmnc"],
        ) == (
            "RU",
            "MegaFon",
            "mobile",
            "25002",
        )
        again = (await c.get(f"/api/v1/messages/{message['id']}")).json()
        assert again["cost"] == "3.50" and again["operator"] == "MegaFon"
        quoted = await c.get(
            "/api/v1/prices/quote", params={"to": ["+79031234567", "+79261234567"], "text": "hi"}
        )
        assert quoted.json()["total"] == "2.85", quoted.text


async def test_only_an_admin_loads_prices_or_sets_balances(server: Server) -> None:
    other, key = await server.account()
    async with server.client(key) as c:
        assert_problem(await c.put("/api/v1/prices", content=CSV.encode()), 403)
        assert_problem(
            await c.put(f"/api/v1/accounts/{other.id}/balance", json={"balance": "5"}), 403
        )
        assert (await c.get("/api/v1/balance")).json()["unlimited"] is True
    async with server.client() as c:
        bad = await c.put("/api/v1/prices", content=b"country,price\nRU,abc\n")
        assert_problem(bad, 422, "line 2")


async def test_a_balance_that_cannot_pay_refuses_and_writes_nothing(server: Server) -> None:
    await load(server)
    other, key = await server.account()
    async with server.client() as admin:
        set_to = await admin.put(f"/api/v1/accounts/{other.id}/balance", json={"balance": "3.00"})
        assert set_to.json() == {
            "unlimited": False,
            "balance": "3.00",
            "credit": "0.00",
            "currency": "RUB",
        }
    before = await stored_count(server.app)
    async with server.client(key) as c:
        refused = await c.post(
            "/api/v1/messages", json={"to": "+79261234567", "text": CYRILLIC_2_PARTS}
        )
        assert_problem(refused, 402, "cannot pay")
        assert await stored_count(server.app) == before
        assert (await c.get("/api/v1/balance")).json()["balance"] == "3.00"
        ok = await c.post("/api/v1/messages", json={"to": "+79261234567", "text": "one part"})
        assert ok.status_code == 201 and ok.json()["messages"][0]["cost"] == "1.75"
        assert (await c.get("/api/v1/balance")).json()["balance"] == "1.25"
    async with server.client() as admin:
        topped = await admin.post(
            f"/api/v1/accounts/{other.id}/balance/top-up", json={"amount": "10"}
        )
        assert topped.json()["balance"] == "11.25"


async def test_two_concurrent_sends_that_together_exceed_the_balance_cannot_both_pass(
    server: Server,
) -> None:
    await load(server)
    other, key = await server.account()
    await server.app.gateway.billing.set_balance(
        other.id, billing.Balance(amount=billing.amount("3.00")), by=None
    )
    async with server.client(key) as c:
        answers = await asyncio.gather(
            *(
                c.post("/api/v1/messages", json={"to": "+79261234567", "text": "x"})
                for _ in range(2)
            )
        )
        assert sorted(a.status_code for a in answers) == [201, 402]
        assert (await c.get("/api/v1/balance")).json()["balance"] == "1.25"


async def test_two_nodes_on_one_database_cannot_overspend(
    settings_for: Callable[..., Settings],
) -> None:
    """Two gateways (nodes) on the same database, ten sends each at once, a balance for five."""
    nodes = [application.build(settings_for(), clock=conftest.TestClock()) for _ in range(2)]
    await nodes[0].start(background=False)
    await nodes[1].start(background=False, welcome=False)
    try:
        gw = nodes[0].gateway
        await gw.billing.load_prices(CSV, by=None)
        account = await gw.accounts.create("payer@example.com", "password123")
        await gw.billing.set_balance(
            account.id, billing.Balance(amount=billing.amount("8.75")), by=None
        )
        request = SendRequest(to=("+79261234567",), text="x")

        async def send(node: application.App) -> bool:
            try:
                await node.gateway.messages.send(request, account=account)
            except Exception as exc:
                assert type(exc).__name__ == "NotEnoughMoney", exc
                return False
            return True

        results = await asyncio.gather(*(send(nodes[i % 2]) for i in range(20)))
        assert sum(results) == 5
        assert await gw.billing.balance(account) == billing.Balance(amount=0)
        assert sum((await nodes[0].store.count(account.id)).values()) == 5
    finally:
        await nodes[1].stop()
        await nodes[0].stop()


async def test_a_cancelled_message_gets_its_cost_back(server: Server) -> None:
    await load(server)
    other, key = await server.account()
    await server.app.gateway.billing.set_balance(
        other.id, billing.Balance(amount=billing.amount("5.00")), by=None
    )
    async with server.client(key) as c:
        later = (server.app.gateway.now() + timedelta(days=1)).isoformat()
        sent = await c.post(
            "/api/v1/messages", json={"to": "+79261234567", "text": "x", "send_at": later}
        )
        assert sent.status_code == 201, sent.text
        assert (await c.get("/api/v1/balance")).json()["balance"] == "3.25"
        cancelled = await c.post(f"/api/v1/messages/{sent.json()['messages'][0]['id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert (await c.get("/api/v1/balance")).json()["balance"] == "5.00"
        await server.app.gateway.dispatch.sweep()  # refunded once, never twice
        assert (await c.get("/api/v1/balance")).json()["balance"] == "5.00"
