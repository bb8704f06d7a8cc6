"""send.php over real HTTP: every fmt, request style, credential form and charset; the send
parameters (id, phones, time + tz, valid, translit, list, cost); every error code, with nothing
written."""

from __future__ import annotations

import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from smsgate.core import billing
from smsgate.core.messages import MessageFilter
from tests.dialects.smsc.conftest import MD5, PASSWORD, Tenant, count

pytestmark = pytest.mark.asyncio(loop_scope="package")

SHAPES = {
    0: re.compile(r"OK - (\d+) SMS, ID - (\S+)"),
    1: re.compile(r"(\S+),(\d+)"),
    2: re.compile(r"<result><cnt>(\d+)</cnt><id>(\S+)</id></result>"),
}
PRICES = "country,prefix,operator,price\nRU,,,2.00\nRU,,MegaFon,1.75\nRU,7903,,1.10\n*,,,5\n"
CYRILLIC_2_PARTS = "Здравствуйте! Ваш заказ №1234 собран и ждёт вас в пункте выдачи до пятницы."


async def call(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], style: str = "get"
) -> httpx.Response:
    fields = {k: str(v) for k, v in params.items()}
    if style == "get":
        return await client.get(path, params=fields)
    if style == "form":
        return await client.post(path, data=fields)
    return await client.post(path, files={k: (None, v) for k, v in fields.items()})


def read(answer: httpx.Response, fmt: int) -> tuple[int, str]:
    """(cnt, id) of a send's answer in any fmt."""
    assert answer.status_code == 200
    assert "charset=windows-1251" in answer.headers["content-type"]
    if fmt == 3:
        body = answer.json()
        assert "error" not in body, body
        return body["cnt"], str(body["id"])
    found = SHAPES[fmt].fullmatch(answer.text)
    assert found, answer.text
    if fmt == 1:
        return int(found.group(2)), found.group(1)
    return int(found.group(1)), found.group(2)


async def test_every_fmt_style_and_credential_sends(smsc: Tenant) -> None:
    credentials = {
        "plain": {"login": smsc.email, "psw": PASSWORD},
        "md5": {"login": smsc.email, "psw": MD5},
        "apikey": {"apikey": smsc.key},
        "key as psw": {"login": "", "psw": smsc.key},
    }
    sent = 0
    async with smsc.client() as c:
        for fmt in range(4):
            for style in ("get", "form", "multipart"):
                for name, auth in credentials.items():
                    params = {
                        **auth,
                        "phones": "+79261234567",
                        "mes": f"{fmt} {style} {name}",
                        "fmt": fmt,
                    }
                    cnt, message_id = read(await call(c, "/sys/send.php", params, style), fmt)
                    assert cnt == 1
                    sent += 1
                    stored = await smsc.app.gateway.messages.get(
                        int(message_id), account=smsc.account
                    )
                    assert stored.text == f"{fmt} {style} {name}"
    assert await count(smsc) == sent


async def test_charsets_in_and_out(smsc: Tenant) -> None:
    text = "Привет, мир"
    async with smsc.client() as c:
        for charset, codec in (
            ("", "cp1251"),
            ("windows-1251", "cp1251"),
            ("koi8-r", "koi8_r"),
            ("utf-8", "utf-8"),
        ):
            query = f"apikey={smsc.key}&phones=79261234567&fmt=3&mes=" + urllib.parse.quote(
                f"{text} {charset}".encode(codec)
            )
            if charset:
                query += f"&charset={charset}"
            answer = await c.get(f"/sys/send.php?{query}")
            message_id = answer.json()["id"]
            stored = await smsc.app.gateway.messages.get(message_id, account=smsc.account)
            assert stored.text == f"{text} {charset}"
            form = await c.post(
                "/sys/send.php",
                content=query.replace("fmt=3", "fmt=3&id=" + str(message_id)).encode(),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert form.json()["id"] == message_id
            history = await c.get(
                "/sys/get.php",
                params={
                    "apikey": smsc.key,
                    "get_messages": 1,
                    "fmt": 3,
                    "cnt": 1,
                    **({"charset": charset} if charset else {}),
                },
            )
            name = charset or "windows-1251"
            assert f"charset={name}" in history.headers["content-type"]
            assert history.content.decode(codec).count(f"{text} {charset}") == 1
        # no charset, UTF-8 bytes (smsc-client): read as UTF-8
        answer = await c.post(
            "/sys/send.php",
            data={"login": smsc.email, "psw": PASSWORD, "phones": "79261234567", "mes": "Ёлка utf"},
        )
        assert SHAPES[0].fullmatch(answer.text), answer.text
        found = await smsc.app.gateway.messages.get(
            int(SHAPES[0].fullmatch(answer.text).group(2)), account=smsc.account
        )
        assert found.text == "Ёлка utf"


async def test_client_ids_are_echoed_and_zero_assigns_one(smsc: Tenant) -> None:
    async with smsc.client() as c:
        for fmt in range(4):
            for given in ("12345", "order-7.a_b"):
                answer = await call(
                    c,
                    "/sys/send.php",
                    {
                        **smsc.auth,
                        "phones": "79261234567",
                        "mes": f"id {given} {fmt}",
                        "fmt": fmt,
                        "id": given,
                    },
                )
                assert read(answer, fmt)[1] == given
        answer = await call(
            c,
            "/sys/send.php",
            {**smsc.auth, "phones": "79261234567", "mes": "zero", "fmt": 3, "id": 0},
        )
        message_id = answer.json()["id"]
        assert (
            await smsc.app.gateway.messages.get(message_id, account=smsc.account)
        ).text == "zero"
        status = await c.get(
            "/sys/status.php",
            params={**smsc.auth, "id": "order-7.a_b", "phone": "+79261234567", "fmt": 3},
        )
        assert status.json()["id"] == "order-7.a_b" and status.json()["status"] in (-1, 0, 1)
        for bad in ("2147483648", "x" * 41, "a b"):
            refused = await call(
                c,
                "/sys/send.php",
                {**smsc.auth, "phones": "79261234567", "mes": "bad id", "fmt": 3, "id": bad},
            )
            assert refused.json()["error_code"] == 1


async def test_phones_with_commas_semicolons_and_without_plus(smsc: Tenant) -> None:
    async with smsc.client() as c:
        answer = await c.get(
            "/sys/send.php",
            params={
                **smsc.auth,
                "phones": "79261234567;+79031234567, 89521234567",
                "mes": "three",
                "fmt": 3,
            },
        )
        assert answer.json()["cnt"] == 3
        first = answer.json()["id"]
        page = await smsc.app.gateway.messages.list(MessageFilter(), account=smsc.account)
        assert sorted(m.to for m in page.items) == ["+79031234567", "+79261234567", "+79521234567"]
        for phone in ("79031234567", "+79521234567"):  # one id answers for every number of the send
            status = await c.get(
                "/sys/status.php", params={**smsc.auth, "id": first, "phone": phone, "fmt": 3}
            )
            assert status.json()["phone"] == phone.lstrip("+"), status.text


async def test_time_in_all_its_forms_with_tz_and_valid(smsc: Tenant) -> None:
    clock = smsc.app.clock
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
    clock.set(now)
    try:
        cases = {
            "0206261430": datetime(2026, 6, 2, 11, 30, tzinfo=UTC),  # Moscow time
            "02.06.26 14:30": datetime(2026, 6, 2, 11, 30, tzinfo=UTC),
            "02.06.2026 14:30:15": datetime(2026, 6, 2, 11, 30, 15, tzinfo=UTC),
            "+90": now + timedelta(minutes=90),
            f"0{int((now + timedelta(hours=5)).timestamp())}": now + timedelta(hours=5),
            "15-18": datetime(2026, 6, 1, 12, 0, tzinfo=UTC),  # not before 15:00 Moscow
        }
        async with smsc.client() as c:
            for raw, expected in cases.items():
                answer = await c.get(
                    "/sys/send.php",
                    params={
                        **smsc.auth,
                        "phones": "79261234567",
                        "mes": f"t {raw}",
                        "time": raw,
                        "fmt": 3,
                    },
                )
                assert "id" in answer.json(), (raw, answer.text)
                stored = await smsc.app.gateway.messages.get(
                    answer.json()["id"], account=smsc.account
                )
                assert stored.send_at == expected, raw
            shifted = await c.get(
                "/sys/send.php",
                params={
                    **smsc.auth,
                    "phones": "79261234567",
                    "mes": "tz",
                    "time": "0206261430",
                    "tz": "2",
                    "fmt": 3,
                },
            )
            stored = await smsc.app.gateway.messages.get(shifted.json()["id"], account=smsc.account)
            assert stored.send_at == datetime(2026, 6, 2, 9, 30, tzinfo=UTC)  # Moscow+2 = UTC+5
            inside = await c.get(
                "/sys/send.php",
                params={
                    **smsc.auth,
                    "phones": "79261234567",
                    "mes": "now",
                    "time": "10-18",
                    "valid": "01:30",
                    "fmt": 3,
                },
            )
            stored = await smsc.app.gateway.messages.get(inside.json()["id"], account=smsc.account)
            assert stored.send_at is None and stored.valid_until == now + timedelta(minutes=90)
            hours = await c.get(
                "/sys/send.php",
                params={
                    **smsc.auth,
                    "phones": "79261234567",
                    "mes": "valid 2",
                    "valid": "2",
                    "fmt": 3,
                },
            )
            stored = await smsc.app.gateway.messages.get(hours.json()["id"], account=smsc.account)
            assert stored.valid_until == now + timedelta(hours=2)
    finally:
        clock.release()


async def test_translit_and_list(smsc: Tenant) -> None:
    async with smsc.client() as c:
        answer = await c.get(
            "/sys/send.php",
            params={
                **smsc.auth,
                "phones": "79261234567",
                "mes": "Привет, Женя",
                "translit": 1,
                "fmt": 3,
                "charset": "utf-8",
            },
        )
        stored = await smsc.app.gateway.messages.get(answer.json()["id"], account=smsc.account)
        assert stored.text == "Privet, Zhenya" and stored.encoding == "gsm7"
        listed = await c.post(
            "/sys/send.php",
            data={
                **smsc.auth,
                "list": "79261234567:first: one\n+79031234567:second\\nline",
                "fmt": 3,
            },
        )
        assert listed.json()["cnt"] == 2
        texts = {
            m.to: m.text
            for m in (
                await smsc.app.gateway.messages.list(MessageFilter(limit=2), account=smsc.account)
            ).items
        }
        assert texts == {"+79261234567": "first: one", "+79031234567": "second\nline"}


async def test_cost_without_sending_and_with_cost_and_balance(smsc: Tenant) -> None:
    await smsc.app.gateway.billing.load_prices(PRICES, by=None)
    await smsc.app.gateway.billing.set_balance(
        smsc.account.id, billing.Balance(amount=billing.amount("100")), by=None
    )
    async with smsc.client() as c:
        before = await count(smsc)
        only = {
            **smsc.auth,
            "phones": "79261234567",
            "mes": CYRILLIC_2_PARTS,
            "cost": 1,
            "charset": "utf-8",
        }
        assert (await c.get("/sys/send.php", params={**only, "fmt": 1})).text == "3.50,2"
        assert (await c.get("/sys/send.php", params={**only, "fmt": 3})).json() == {
            "cost": "3.50",
            "cnt": 2,
        }
        assert (
            await c.get("/sys/send.php", params={**only, "fmt": 0})
        ).text == "OK - 2 SMS, COST - 3.50"
        assert "<cost>3.50</cost>" in (await c.get("/sys/send.php", params={**only, "fmt": 2})).text
        assert await count(smsc) == before
        paid = await c.get("/sys/send.php", params={**only, "cost": 3, "fmt": 3})
        assert (
            paid.json()["cost"] == "3.50"
            and paid.json()["balance"] == "96.50"
            and paid.json()["cnt"] == 2
        )
        two = await c.get("/sys/send.php", params={**only, "cost": 2, "fmt": 1, "mes": "x"})
        assert two.text.endswith(",1,1.75")
        op = await c.get(
            "/sys/send.php", params={**only, "cost": 0, "op": 1, "fmt": 3, "mes": "op"}
        )
        assert op.json()["phones"] == [
            {"phone": "79261234567", "mccmnc": "25002", "cost": "1.75", "status": 0, "error": 0}
        ]
    await smsc.app.gateway.billing.clear_prices(by=None)


ERRORS = {
    0: "ERROR = {code} ({text})",
    1: "0,-{code}",
    2: "<result><error>{text}</error><error_code>{code}</error_code></result>",
}


def assert_error(answer: httpx.Response, fmt: int, code: int) -> None:
    assert answer.status_code == 200, answer.text
    from smsgate.dialects.smsc.errors import TEXTS

    if fmt == 3:
        body = answer.json()
        assert body["error_code"] == code and body["error"] == TEXTS[code], body
    else:
        assert answer.text == ERRORS[fmt].format(code=code, text=TEXTS[code]), answer.text


async def test_every_error_code_in_every_fmt_writes_nothing(smsc: Tenant) -> None:
    gateway = smsc.app.gateway
    base = {**smsc.auth, "phones": "79261234567", "mes": "hello"}
    cases: list[tuple[int, dict[str, Any]]] = [
        (2, {"apikey": "", "login": smsc.email, "psw": "wrong password"}),
        (2, {"apikey": "sg_wrong"}),
        (1, {"mes": ""}),
        (1, {"valid": "99"}),
        (1, {"cost": "7"}),
        (7, {"phones": "12"}),
        (7, {"phones": ""}),
        (7, {"phones": "G12"}),
        (5, {"time": "31.02.26 10:00"}),
        (5, {"time": "tomorrow"}),
    ]
    async with smsc.client() as c:
        before = await count(smsc)
        for fmt in range(4):
            for code, changes in cases:
                assert_error(
                    await c.get("/sys/send.php", params={**base, **changes, "fmt": fmt}), fmt, code
                )
                assert_error(
                    await c.post("/sys/send.php", data={**base, **changes, "fmt": fmt}), fmt, code
                )
        assert await count(smsc) == before
        # not enough money (3), a sender the account does not have (6), no price (8): id echoed
        await gateway.billing.load_prices("country,price\nRU,1.00\n", by=None)
        await gateway.billing.set_balance(
            smsc.account.id, billing.Balance(amount=billing.amount("0.50")), by=None
        )
        await gateway.senders.add("Shop", account=smsc.account)
        for fmt in range(4):
            for code, changes in (
                (3, {}),
                (6, {"sender": "Other"}),
                (8, {"phones": "+380501234567"}),
            ):
                answer = await c.get(
                    "/sys/send.php", params={**base, **changes, "fmt": fmt, "id": 42}
                )
                if fmt == 0:
                    assert answer.text.endswith(", ID - 42"), answer.text
                elif fmt == 1:
                    assert answer.text == f"42,-{code}"
                elif fmt == 3:
                    assert answer.json()["error_code"] == code and answer.json()["id"] == 42
                else:
                    assert f"<error_code>{code}</error_code><id>42</id>" in answer.text
        assert await count(smsc) == before
        await gateway.billing.set_balance(smsc.account.id, None, by=None)
        await gateway.billing.clear_prices(by=None)
        # the same send twice within a minute: the second is refused (9) and writes nothing
        same = {**base, "mes": "only once", "sender": "Shop"}
        assert read(await c.get("/sys/send.php", params={**same, "fmt": 1}), 1)[0] == 1
        assert_error(await c.get("/sys/send.php", params={**same, "fmt": 1}), 1, 9)
        assert await count(smsc) == before + 1
        # more than 5 identical cost requests a minute
        for _ in range(5):
            await c.get("/sys/send.php", params={**same, "cost": 1, "fmt": 3})
        assert_error(await c.get("/sys/send.php", params={**same, "cost": 1, "fmt": 3}), 3, 9)
        # an unknown method and an unreadable multipart body answer in the format too
        assert_error(await c.get("/sys/nope.php", params={"fmt": 3}), 3, 1)
        broken = await c.post(
            "/sys/send.php?fmt=3",
            content=b"--x\r\nbroken",
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        assert_error(broken, 3, 2)  # no readable field, so no credentials
