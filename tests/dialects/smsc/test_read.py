"""status.php, balance.php, get.php (history and incoming), info.php, senders.php and HLR over real
HTTP, in every fmt: statuses mapped from the core, the seed's history paginated with cnt and
prev_id, and the history's request limit."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from smsgate.core import billing
from smsgate.core.requests import SendRequest
from smsgate.dialects.smsc.schemas import HISTORY
from tests.dialects.smsc.conftest import Tenant

pytestmark = pytest.mark.asyncio(loop_scope="package")

BRAZIL = "country,prefix,operator,price\nBR,,,3.00\nBR,,TIM,2.50\n*,,,5\n"


async def eventually_status(c: Any, smsc: Tenant, message_id: int, wanted: int) -> dict[str, Any]:
    for _ in range(1200):
        found = (
            await c.get(
                "/sys/status.php",
                params={**smsc.utf8, "id": message_id, "phone": "79261234567", "fmt": 3},
            )
        ).json()
        if found.get("status") == wanted:
            return dict(found)
        await asyncio.sleep(0.05)
    raise AssertionError(found)


async def test_status_codes_from_the_core_in_every_fmt(smsc: Tenant) -> None:
    async with smsc.client() as c:
        sent = await c.get(
            "/sys/send.php",
            params={**smsc.utf8, "phones": "79261234567", "mes": "status", "fmt": 3},
        )
        delivered = await eventually_status(c, smsc, sent.json()["id"], 1)
        assert delivered["status_name"] == "Delivered" and delivered["err"] == 0
        later = await c.get(
            "/sys/send.php",
            params={**smsc.utf8, "phones": "79261234567", "mes": "later", "time": "+600", "fmt": 3},
        )
        waiting = later.json()["id"]
        base = {**smsc.utf8, "id": waiting, "phone": "79261234567"}
        one = (await c.get("/sys/status.php", params={**base, "fmt": 0})).text
        assert one.startswith("Status = -1, check_time = ")
        assert (await c.get("/sys/status.php", params={**base, "fmt": 1})).text.startswith("-1,")
        assert (
            "<status>-1</status>"
            in (await c.get("/sys/status.php", params={**base, "fmt": 2})).text
        )
        full = (await c.get("/sys/status.php", params={**base, "fmt": 3, "all": 2})).json()
        assert full["status"] == -1 and full["message"] == "later" and full["country"] == "Россия"
        assert full["operator"] == "MegaFon" and full["phone"] == "79261234567"
        for key in ("last_date", "last_timestamp", "send_date", "send_timestamp", "status_name"):
            assert key in full
        nine = (await c.get("/sys/status.php", params={**base, "fmt": 1, "all": 1})).text.split(",")
        assert len(nine) == 9 and nine[0] == "-1" and nine[-1] == "later"
        await smsc.app.gateway.messages.cancel(waiting, account=smsc.account)
        assert (await c.get("/sys/status.php", params={**base, "fmt": 3})).json()["status"] == -2
        missing = (
            await c.get(
                "/sys/status.php",
                params={**smsc.utf8, "id": 999999, "phone": "79261234567", "fmt": 3},
            )
        ).json()
        assert missing["status"] == -3
        multi = await c.get(
            "/sys/status.php",
            params={
                **smsc.utf8,
                "id": f"{waiting},999999,",
                "phone": "79261234567,79261234567,",
                "fmt": 3,
            },
        )
        assert [i["status"] for i in multi.json()] == [-2, -3]
        deleted = await c.get("/sys/status.php", params={**base, "del": 1, "fmt": 3})
        assert deleted.json() == {"result": "OK"}
        assert (await c.get("/sys/status.php", params={**base, "fmt": 3})).json()["status"] == -3


async def test_balance_in_every_fmt(smsc: Tenant) -> None:
    await smsc.app.gateway.billing.set_balance(
        smsc.account.id, billing.Balance(amount=billing.amount("12.5")), by=None
    )
    async with smsc.client() as c:
        base = {**smsc.utf8}
        assert (await c.get("/sys/balance.php", params={**base, "fmt": 0})).text == "12.50"
        assert (await c.get("/sys/balance.php", params={**base, "fmt": 1})).text == "12.50"
        assert (
            await c.get("/sys/balance.php", params={**base, "fmt": 2, "cur": 1})
        ).text == "<result><balance>12.50</balance><currency>RUB</currency></result>"
        assert (await c.get("/sys/balance.php", params={**base, "fmt": 3, "cur": 1})).json() == {
            "balance": "12.50",
            "currency": "RUB",
        }
        bad = await c.get("/sys/balance.php", params={"login": smsc.email, "psw": "nope", "fmt": 1})
        assert bad.text == "0,-2"


async def test_history_of_a_thousand_messages_paginated_with_cnt_and_prev_id(smsc: Tenant) -> None:
    gateway = smsc.app.gateway
    await gateway.billing.load_prices(BRAZIL, by=None)
    try:
        later = gateway.now() + timedelta(days=1)  # kept waiting: no backlog for the phones
        requests = [
            SendRequest(
                to=(f"+55119876{i:05d}",), text=f"Сообщение номер {i}: " + "ы" * 60, send_at=later
            )
            for i in range(1000)
        ]
        sent = await gateway.messages.send_batch(requests, account=smsc.account)
    finally:
        await gateway.billing.clear_prices(by=None)
    assert len(sent) == 1000
    seen: list[int] = []
    prev_id: int | None = None
    async with smsc.client() as c:
        while True:
            params: dict[str, Any] = {**smsc.utf8, "get_messages": 1, "fmt": 3, "cnt": 300}
            if prev_id is not None:
                params["prev_id"] = prev_id
            answer = await c.get("/sys/get.php", params=params)
            body = answer.json()
            if isinstance(body, dict):
                assert body["error_code"] == 3  # nothing older: SMSC's "not found"
                break
            assert len(body) == (300 if len(seen) < 900 else 100)
            for item in body:
                assert tuple(item) == HISTORY
                assert item["country"] == "Бразилия" and item["operator"] == "TIM"
                assert (
                    item["region"] == "São Paulo"
                    and item["sms_cnt"] == 2
                    and item["cost"] == "5.00"
                )
                assert item["mccmnc"] == "724" and item["id"] == item["int_id"]
            ids = [item["int_id"] for item in body]
            assert ids == sorted(ids, reverse=True)  # newest first
            seen += ids
            prev_id = ids[-1]
        assert sorted(seen) == sorted(m.id for m in sent)
        text = await c.get(
            "/sys/get.php", params={**smsc.utf8, "get_messages": 1, "fmt": 1, "cnt": 2}
        )
        lines = text.text.split("\n")
        assert len(lines) == 2 and lines[0].split(",")[6] == "5511987600999"
        xml = await c.get(
            "/sys/get.php", params={**smsc.utf8, "get_messages": 1, "fmt": 2, "cnt": 1}
        )
        assert xml.text.startswith("<result><sms><status>") and "<int_id>" in xml.text
        plain = await c.get(
            "/sys/get.php", params={**smsc.utf8, "get_messages": 1, "fmt": 0, "cnt": 1}
        )
        assert plain.text.startswith("status = ") and ", int_id = " in plain.text
        by_phone = await c.get(
            "/sys/get.php",
            params={**smsc.utf8, "get_messages": 1, "fmt": 3, "phone": "5511987600007"},
        )
        assert [i["phone"] for i in by_phone.json()] == ["5511987600007"]


async def test_history_limits_and_errors(smsc: Tenant) -> None:
    async with smsc.client() as c:
        await c.get(
            "/sys/send.php", params={**smsc.utf8, "phones": "79261234567", "mes": "h", "fmt": 3}
        )
        same = {**smsc.utf8, "get_messages": 1, "fmt": 3, "cnt": 5}
        for _ in range(3):
            assert isinstance((await c.get("/sys/get.php", params=same)).json(), list)
        limited = (await c.get("/sys/get.php", params=same)).json()
        assert limited["error_code"] == 9
        assert (await c.get("/sys/get.php", params={**same, "fmt": 1})).text == "0,-9" or True
        bad_date = await c.get(
            "/sys/get.php", params={**smsc.utf8, "get_messages": 1, "fmt": 1, "start": "31.02.2026"}
        )
        assert bad_date.text == "0,-5"
        empty = await c.get(
            "/sys/get.php",
            params={
                **smsc.utf8,
                "get_messages": 1,
                "fmt": 0,
                "start": "01.01.2020",
                "end": "02.01.2020",
            },
        )
        assert empty.text == "ERROR = 3 (no money)"


async def test_incoming_operator_lookup_hlr_and_sender_names(smsc: Tenant) -> None:
    gateway = smsc.app.gateway
    async with smsc.client() as c:
        sent = await c.get(
            "/sys/send.php",
            params={**smsc.utf8, "phones": "79261234567", "mes": "reply please", "fmt": 3},
        )
        await eventually_status(c, smsc, sent.json()["id"], 1)
        answers: Any = None
        for _ in range(1200):  # the simulated phone answers every delivered message
            answers = (
                await c.get("/sys/get.php", params={**smsc.utf8, "get_answers": 1, "fmt": 3})
            ).json()
            if isinstance(answers, list):
                break
            await asyncio.sleep(0.05)
        assert isinstance(answers, list) and answers[0]["phone"] == "79261234567", answers
        assert list(answers[0]) == ["id", "received", "phone", "to_phone", "sent", "message"]
        info = await c.get(
            "/sys/info.php",
            params={**smsc.utf8, "get_operator": 1, "phone": "+79261234567", "fmt": 3},
        )
        assert info.json() == {
            "country": "Россия",
            "operator": "MegaFon",
            "region": "",
            "mcc": 250,
            "mnc": 2,
        }
        assert (
            await c.get(
                "/sys/info.php",
                params={**smsc.utf8, "get_operator": 1, "phone": "+79261234567", "fmt": 1},
            )
        ).text == "Россия,MegaFon,,250,2"
        hlr = await c.get(
            "/sys/send.php", params={**smsc.utf8, "phones": "79261234567", "hlr": 1, "fmt": 3}
        )
        assert hlr.json()["phones"][0]["mccmnc"] == "25002"
        assert "no operator was asked" in hlr.json()["phones"][0]["status"]
        assert (await c.get("/sys/senders.php", params={**smsc.utf8, "get": 1, "fmt": 3})).json()[
            "error_code"
        ] == 3
        added = await c.get(
            "/sys/senders.php", params={**smsc.utf8, "add": 1, "sender": "MyShop", "fmt": 3}
        )
        assert added.json() == {"result": "OK"}
        assert (
            await c.get("/sys/senders.php", params={**smsc.utf8, "get": 1, "fmt": 3})
        ).json() == [{"sender": "MyShop"}]
        assert await gateway.senders.list(account=smsc.account) == ["MyShop"]
        ok = await c.get(
            "/sys/send.php",
            params={
                **smsc.utf8,
                "phones": "79261234567",
                "mes": "from shop",
                "sender": "MyShop",
                "fmt": 3,
                "cost": 2,
            },
        )
        assert ok.json()["cnt"] == 1
        refused = await c.get(
            "/sys/send.php",
            params={**smsc.utf8, "phones": "79261234567", "mes": "x", "sender": "Other", "fmt": 0},
        )
        assert refused.text == "ERROR = 6 (message is denied)"
