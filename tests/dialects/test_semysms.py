"""The SemySMS dialect through real HTTP on loopback, with the requests its clients really send.

One real server per backend for the whole module (its start is most of a test's cost); each test
is its own tenant: a fresh account, key and simulated phone, so tests see nothing of each other,
which is also what SemySMS clients of different accounts must see. Messages that must stay queued
go to a "quiet" phone: a registered Android device nobody runs.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from smsgate.channels.simulator import SimulatorSettings
from smsgate.config import Settings
from smsgate.core.accounts import Account
from smsgate.core.devices import Device, DeviceChanges, Heartbeat, Kind, Limits
from smsgate.core.messages import Reason, Report, State
from tests.conftest import PG_URL, Server, _pg_admin, _pg_or_skip, start_server

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)],
)
async def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    postgres = request.param == "postgres"
    schema = f"t_{uuid.uuid4().hex[:12]}"
    if postgres:
        _pg_or_skip()
        await _pg_admin(f'CREATE SCHEMA "{schema}"')
    quiet = SimulatorSettings(
        sent_after=0.05, delivered_after=0.05, reply_after=0.05, rescan=0.1, seed=7
    )
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("semysms")),
        database_url=PG_URL if postgres else "",
        database_schema=schema if postgres else "",
        sqlite_synchronous="NORMAL",
        simulator=quiet,
        sweep_interval=0.05,
    )
    uv, task, handle = await start_server(settings)
    try:
        yield handle
    finally:
        uv.should_exit = True
        await task
        if postgres:
            await _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


@dataclass
class Tenant:
    """What a test sees of the shared server: its own account, key and simulated phone."""

    shared: Server
    account_: Account
    key: str
    welcome: Any

    @property
    def app(self) -> Any:
        return self.shared.app

    @property
    def url(self) -> str:
        return self.shared.url

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        return self.shared.client(key or self.key)

    async def account(self) -> tuple[Account, str]:
        return await new_account(self.shared)


async def new_account(shared: Server) -> tuple[Account, str]:
    """An account and its key, without the password hashing a person's sign-up pays for."""
    gateway = shared.app.gateway
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    account = await shared.app.directory.add_account(
        email=email, password_hash="!", is_admin=False, now=gateway.now()
    )
    _, key = await gateway.accounts.create_key(account)
    return account, key


@pytest_asyncio.fixture(loop_scope="module")
async def server(shared: Server) -> Tenant:
    account, key = await new_account(shared)
    simulated, _ = await shared.app.gateway.devices.register(
        "Simulated phone", account=account, kind=Kind.SIMULATOR
    )
    welcome = replace(shared.welcome, key=key, device_id=simulated.id)
    return Tenant(shared, account, key, welcome)


OUTBOX_KEYS = [
    "id",
    "phone",
    "date",
    "msg",
    "id_device",
    "send_to_phone",
    "is_send_to_phone",
    "is_send",
    "send",
    "is_delivered",
    "delivered",
    "is_error",
    "is_error_send",
    "error_date",
    "is_cancel",
]
INBOX_KEYS = ["id", "phone", "date", "msg", "id_device"]
DEVICE_KEYS = [
    "id",
    "is_arhive",
    "is_deliv",
    "is_work",
    "power",
    "device_name",
    "dop_name",
    "speed_sms",
    "date_last_active",
    "version",
    "limit_phone",
    "limit_use",
    "limit_date",
    "limit_period",
    "manufacturer",
    "android_version",
    "bat",
]
DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?")
FAR_PAST = "2015-08-9 10:30"


# --- helpers ----------------------------------------------------------------------------------


def semy(server: Tenant) -> httpx.AsyncClient:
    """A client as SemySMS code has one: no auth header, the token is a parameter."""
    return httpx.AsyncClient(base_url=server.url, timeout=30)


async def admin(server: Tenant) -> Account:
    return server.account_


async def quiet_phone(
    server: Tenant, account: Account | None = None, name: str = "Quiet phone"
) -> Device:
    device, _ = await server.app.gateway.devices.register(
        name, account=account or await admin(server)
    )
    return device


async def sms(
    client: httpx.AsyncClient,
    token: str,
    device: int | str,
    phone: str = "+79201234567",
    msg: str = "Message",
) -> int:
    answer = await client.get(
        "/api/3/sms.php", params={"token": token, "device": str(device), "phone": phone, "msg": msg}
    )
    body = answer.json()
    assert body["code"] == "0", body
    return int(body["id"])


async def outbox(client: httpx.AsyncClient, token: str, **filters: Any) -> dict[str, Any]:
    answer = await client.get("/api/3/outbox_sms.php", params={"token": token, **filters})
    assert answer.status_code == 200
    return dict(answer.json())


async def eventually(
    fetch: Callable[[], Awaitable[Any]], done: Callable[[Any], bool], timeout: float = 10.0
) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await fetch()
        if done(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


def assert_error(answer: httpx.Response, code: str | int, *words: str) -> dict[str, Any]:
    assert answer.status_code == 200
    body = dict(answer.json())
    assert body["code"] == code and type(body["code"]) is type(code), body
    assert isinstance(body["error"], str) and body["error"], body
    assert "Traceback" not in answer.text
    for word in words:
        assert word in body["error"], body
    return body


def ids_of(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["data"]]


# --- sms.php ----------------------------------------------------------------------------------


async def test_sms_php_get_exactly_as_the_doc(server: Tenant) -> None:
    async with semy(server) as client:
        url = f"/api/3/sms.php?token={server.key}&device={server.welcome.device_id}&phone=89201234567&msg=Message"
        answer = await client.get(url)
    assert answer.status_code == 200
    body = answer.json()
    assert list(body) == ["code", "id"]
    assert body["code"] == "0" and isinstance(body["code"], str)
    assert type(body["id"]) is int


async def test_sms_php_post_form_and_multipart_as_the_php_example(server: Tenant) -> None:
    phone = await quiet_phone(server)
    fields = {
        "phone": "+79201234567",
        "msg": "Message",
        "device": str(phone.id),
        "token": server.key,
    }
    async with semy(server) as client:
        urlencoded = await client.post("/api/3/sms.php", data=fields)
        multipart = await client.post(
            "/api/3/sms.php", files={k: (None, v) for k, v in fields.items()}
        )
        assert multipart.request.headers["content-type"].startswith("multipart/form-data")
        ids = [urlencoded.json()["id"], multipart.json()["id"]]
        assert [urlencoded.json()["code"], multipart.json()["code"]] == ["0", "0"]
        listed = await outbox(client, server.key, list_id=",".join(map(str, ids)))
    assert [(m["id"], m["phone"], m["msg"], m["id_device"]) for m in listed["data"]] == [
        (ids[0], "+79201234567", "Message", phone.id),
        (ids[1], "+79201234567", "Message", phone.id),
    ]


async def test_sms_php_unencoded_plus_and_add_plus(server: Tenant) -> None:
    phone = await quiet_phone(server)
    async with semy(server) as client:
        raw = await client.get(
            f"/api/3/sms.php?token={server.key}&device={phone.id}&phone=+79201234567&msg=Hi"
        )
        plus = await client.post(
            "/api/3/sms.php",
            data={
                "token": server.key,
                "device": str(phone.id),
                "phone": "79207654321",
                "msg": "Hi",
                "add_plus": "1",
            },
        )
    async with server.client() as native:
        first = (await native.get(f"/api/v1/messages/{raw.json()['id']}")).json()
        second = (await native.get(f"/api/v1/messages/{plus.json()['id']}")).json()
    assert first["to"] == "+79201234567"
    assert second["to"] == "+79207654321"


async def test_sms_php_spreads_over_a_device_list(server: Tenant) -> None:
    phones = [await quiet_phone(server, name=f"Phone {n}") for n in range(3)]
    codes = ",".join(str(p.id) for p in phones)
    async with semy(server) as client:
        sent = [await sms(client, server.key, codes) for _ in range(6)]
        for p in phones:  # each listing with device= shows what waits for that device
            assert ids_of(await outbox(client, server.key, device=p.id)) == sent
        for p in phones:
            assert len(await server.app.gateway.dispatch.pull(p, limit=2)) == 2
        listed = await outbox(client, server.key, list_id=",".join(map(str, sent)))
    assert sorted(m["id_device"] for m in listed["data"]) == sorted(
        p.id for p in phones for _ in range(2)
    )


async def test_sms_php_device_active_means_every_enabled_device(server: Tenant) -> None:
    account = await admin(server)
    gateway = server.app.gateway
    await gateway.devices.change(
        server.welcome.device_id, DeviceChanges(enabled=False), account=account
    )
    on, off = await quiet_phone(server, name="On"), await quiet_phone(server, name="Off")
    await gateway.devices.change(off.id, DeviceChanges(enabled=False), account=account)
    async with semy(server) as client:
        sent = [await sms(client, server.key, "active") for _ in range(3)]
        listed = await outbox(client, server.key, list_id=",".join(map(str, sent)))
        assert {m["id_device"] for m in listed["data"]} == {on.id}
        await gateway.devices.change(on.id, DeviceChanges(enabled=False), account=account)
        none_left = await client.get(
            "/api/3/sms.php",
            params={"token": server.key, "device": "active", "phone": "+79201234567", "msg": "x"},
        )
    assert_error(none_left, "3", "no active device")


async def test_sms_php_errors(server: Tenant) -> None:
    other, other_key = await server.account()
    theirs = await quiet_phone(server, other, "Theirs")
    ok = {
        "token": server.key,
        "device": str(server.welcome.device_id),
        "phone": "+79201234567",
        "msg": "Message",
    }
    cases: list[tuple[dict[str, str], str, str]] = [
        ({**ok, "token": ""}, "1", "token"),
        ({k: v for k, v in ok.items() if k != "token"}, "1", "token"),
        ({**ok, "token": "2d9d148edeb50768c22dc6d96f85d60b"}, "1", "token"),
        ({**ok, "device": "987654"}, "3", "987654"),
        ({**ok, "device": str(theirs.id)}, "3", str(theirs.id)),
        ({**ok, "device": "one"}, "8", "device"),
        ({k: v for k, v in ok.items() if k != "phone"}, "4", "recipient"),
        ({**ok, "phone": "12345"}, "4", "12345"),
        ({k: v for k, v in ok.items() if k != "msg"}, "5", "empty"),
        ({**ok, "msg": "   "}, "5", "empty"),
        ({**ok, "msg": "x" * 100_000}, "6", "parts"),
        ({**ok, "phone": "*100#", "msg": "[ussd]"}, "11", "USSD"),
        ({**ok, "priority": "2000000"}, "8", "priority"),
    ]
    async with semy(server) as client:
        for params, code, word in cases:
            body = assert_error(await client.post("/api/3/sms.php", data=params), code, word)
            assert set(body) == {"code", "error"}
        assert (await outbox(client, server.key))["count"] == 0
        assert (await outbox(client, other_key))["count"] == 0


# --- sms_more.php -----------------------------------------------------------------------------


def php_json(value: Any) -> bytes:
    """Like PHP's json_encode: \\u escapes for non-ASCII, escaped slashes."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


async def test_sms_more_php_with_and_without_content_type(server: Tenant) -> None:
    phone = await quiet_phone(server)
    my_id = "будет значение если задан в запросе / 1"
    data = [
        {"my_id": my_id, "device": str(phone.id), "phone": "+79201234567", "msg": "Первое"},
        {"my_id": 42, "device": str(phone.id), "phone": "89207654321", "msg": "Second"},
        {"device": str(phone.id), "phone": "+79201112233", "msg": "Third"},
    ]
    body = php_json({"token": server.key, "data": data})
    async with semy(server) as client:
        typed = await client.post(
            "/api/3/sms_more.php", content=body, headers={"Content-Type": "application/json"}
        )
        bare = await client.post("/api/3/sms_more.php", content=body)
        assert "content-type" not in bare.request.headers
        for answer in (typed, bare):
            assert answer.status_code == 200
            got = answer.json()
            assert list(got) == ["code", "data"] and got["code"] == "0"
            assert [list(item) for item in got["data"]] == [["my_id", "id"]] * 3
            assert [item["my_id"] for item in got["data"]] == [my_id, 42, None]
            assert all(type(item["id"]) is int for item in got["data"])
        ids = [item["id"] for item in typed.json()["data"]]
        listed = await outbox(client, server.key, list_id=",".join(map(str, ids)))
    assert [(m["phone"], m["msg"]) for m in listed["data"]] == [
        ("+79201234567", "Первое"),
        ("89207654321", "Second"),
        ("+79201112233", "Third"),
    ]
    async with server.client() as native:
        assert (await native.get(f"/api/v1/messages/{ids[0]}")).json()["reference"] == my_id


async def test_sms_more_php_one_bad_entry_writes_nothing(server: Tenant) -> None:
    phone = await quiet_phone(server)
    other, _ = await server.account()
    theirs = await quiet_phone(server, other, "Theirs")

    def batch(bad: dict[str, Any]) -> bytes:
        good = {"device": str(phone.id), "phone": "+79201234567", "msg": "ok"}
        return php_json(
            {
                "token": server.key,
                "data": [
                    {"my_id": "A", **good},
                    {"my_id": "B", **good, **bad},
                    {"my_id": "C", **good},
                ],
            }
        )

    async with semy(server) as client:
        for bad, code, word in [
            ({"phone": "12"}, "4", "12"),
            ({"msg": ""}, "5", "empty"),
            ({"device": str(theirs.id)}, "3", str(theirs.id)),
            ({"device": "x"}, "8", "device"),
            ({"msg": "[ussd]"}, "11", "USSD"),
        ]:
            body = assert_error(
                await client.post("/api/3/sms_more.php", content=batch(bad)),
                code,
                "data[1]",
                "my_id B",
                word,
            )
            assert body["index"] == 1 and body["my_id"] == "B"
        assert (await outbox(client, server.key, date_start=FAR_PAST))["count"] == 0


async def test_sms_more_php_malformed_bodies(server: Tenant) -> None:
    async with semy(server) as client:
        for content in [
            b"",
            b"token=abc&data=1",
            b"[1,2]",
            b'{"token": "x",',
            php_json({"token": server.key}),
            php_json({"token": server.key, "data": []}),
            php_json({"token": server.key, "data": "x"}),
            php_json({"token": server.key, "data": [1]}),
        ]:
            assert_error(await client.post("/api/3/sms_more.php", content=content), "7")
        assert_error(
            await client.post(
                "/api/3/sms_more.php",
                content=php_json({"data": [{"phone": "+79201234567", "msg": "x"}]}),
            ),
            "1",
            "token",
        )


# --- outbox_sms.php: shape and flags ----------------------------------------------------------


async def test_outbox_shape_follows_a_message_to_delivered(server: Tenant) -> None:
    async with semy(server) as client:
        sent = await sms(
            client, server.key, server.welcome.device_id, phone="8920123" + "4567", msg="test"
        )
        body = await eventually(
            lambda: outbox(client, server.key, device=server.welcome.device_id),
            lambda b: b["data"] and b["data"][0]["is_delivered"] == 1,
        )
    assert list(body) == ["code", "count", "data"]
    assert body["code"] == "0" and body["count"] == 1
    item = body["data"][0]
    assert list(item) == OUTBOX_KEYS
    assert item["id"] == sent and item["phone"] == "89201234567" and item["msg"] == "test"
    assert item["id_device"] == server.welcome.device_id
    for name in ("date", "send_to_phone", "send", "delivered"):
        assert isinstance(item[name], str) and DATE.fullmatch(item[name]), (name, item[name])
    flags = {
        k: item[k]
        for k in (
            "is_send_to_phone",
            "is_send",
            "is_delivered",
            "is_error",
            "is_error_send",
            "is_cancel",
        )
    }
    assert flags == {
        "is_send_to_phone": 1,
        "is_send": 1,
        "is_delivered": 1,
        "is_error": 0,
        "is_error_send": 0,
        "is_cancel": 0,
    }
    assert all(type(v) is int for v in flags.values())
    assert item["error_date"] is None
    assert item["date"] <= item["send_to_phone"] <= item["send"] <= item["delivered"]


async def test_outbox_flags_of_failures_and_cancels(server: Tenant) -> None:
    gateway = server.app.gateway
    phone = await quiet_phone(server)
    async with semy(server) as client:
        queued, failed, undelivered, cancelled = [
            await sms(client, server.key, phone.id) for _ in range(4)
        ]
        await gateway.dispatch.pull(phone, limit=3)  # the three oldest reach the phone
        await gateway.dispatch.report(
            phone,
            [
                Report(
                    message_id=failed, state=State.FAILED, reason=Reason.INVALID_NUMBER
                ),  # final, not retried
                Report(message_id=undelivered, state=State.SENT),
            ],
        )
        await gateway.dispatch.report(
            phone, [Report(message_id=undelivered, state=State.UNDELIVERED)]
        )
        assert (
            await client.get(
                "/api/3/cancel_sms.php", params={"token": server.key, "id_sms": cancelled}
            )
        ).json()["code"] == "0"
        by_id = {m["id"]: m for m in (await outbox(client, server.key))["data"]}
    names = (
        "is_send_to_phone",
        "is_send",
        "is_delivered",
        "is_error",
        "is_error_send",
        "is_cancel",
    )
    assert [by_id[queued][n] for n in names] == [1, 0, 0, 0, 0, 0]  # leased: on the phone
    assert [by_id[failed][n] for n in names] == [1, 0, 0, 1, 1, 0]
    assert [by_id[undelivered][n] for n in names] == [1, 1, 0, 1, 0, 0]
    assert [by_id[cancelled][n] for n in names] == [0, 0, 0, 0, 0, 1]
    assert by_id[failed]["error_date"] and by_id[undelivered]["error_date"]
    assert by_id[cancelled]["send_to_phone"] is None and by_id[cancelled]["error_date"] is None


# --- filters ----------------------------------------------------------------------------------


async def test_today_only_unless_an_id_or_date_filter_is_given(server: Tenant) -> None:
    gateway = server.app.gateway
    phone = await quiet_phone(server)
    clock = server.app.clock
    clock.shift(-timedelta(days=2))
    try:
        async with semy(server) as client:
            old = await sms(client, server.key, phone.id, msg="two days ago")
    finally:
        clock.release()
    await gateway.inbound.receive(
        phone, [("+79201234567", "old reply", datetime.now(UTC) - timedelta(days=2), None)]
    )
    await gateway.inbound.receive(phone, [("+79201234567", "new reply", None, None)])
    async with semy(server) as client:
        new = await sms(client, server.key, phone.id, msg="today")
        assert ids_of(await outbox(client, server.key)) == [new]
        assert ids_of(await outbox(client, server.key, end_id=new)) == [
            new
        ]  # end_id alone keeps today only
        for lifted in (
            {"start_id": old},
            {"list_id": f"{old},{new}"},
            {"date_start": FAR_PAST},
            {"date_end": (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")},
        ):
            assert ids_of(await outbox(client, server.key, **lifted)) == [old, new], lifted
        inbox = (await client.get("/api/3/inbox_sms.php", params={"token": server.key})).json()
        assert [m["msg"] for m in inbox["data"]] == ["new reply"]
        inbox = (
            await client.get(
                "/api/3/inbox_sms.php", params={"token": server.key, "date_start": FAR_PAST}
            )
        ).json()
        assert [m["msg"] for m in inbox["data"]] == ["old reply", "new reply"]
        deleted = (
            await client.get(
                "/api/3/del_outbox_sms.php", params={"token": server.key, "device": phone.id}
            )
        ).json()
        assert ids_of(deleted) == [new]
        deleted = (
            await client.get(
                "/api/3/del_inbox_sms.php", params={"token": server.key, "device": phone.id}
            )
        ).json()
        assert [m["msg"] for m in deleted["data"]] == ["new reply"]
        assert ids_of(await outbox(client, server.key, start_id=1)) == [old]


async def test_id_range_and_list_id(server: Tenant) -> None:
    phone = await quiet_phone(server)
    async with semy(server) as client:
        sent = [await sms(client, server.key, phone.id) for _ in range(5)]
        assert (
            ids_of(await outbox(client, server.key, start_id=sent[1], end_id=sent[3])) == sent[1:4]
        )
        assert ids_of(await outbox(client, server.key, start_id=sent[3])) == sent[3:]
        assert ids_of(await outbox(client, server.key, list_id=f"{sent[4]}, {sent[0]}")) == [
            sent[0],
            sent[4],
        ]
        assert ids_of(await outbox(client, server.key, list_id=f"{sent[2]},")) == [sent[2]]
        doc = await client.get(
            f"/api/3/outbox_sms.php?token={server.key}&device={phone.id}&start_id=1&end_id={sent[2]}"
            f"&date_start=2015-08-9 10:30&date_end=2099-08-9 22:30&phone=+79201234567"
        )
        assert ids_of(doc.json()) == sent[:3]


async def test_date_range(server: Tenant) -> None:
    phone = await quiet_phone(server)
    async with semy(server) as client:
        before = datetime.now(UTC) - timedelta(minutes=1)
        sent = [await sms(client, server.key, phone.id) for _ in range(2)]
        unpadded = f"{before:%Y-%m}-{before.day} {before:%H:%M}"
        assert ids_of(await outbox(client, server.key, date_start=unpadded)) == sent
        assert ids_of(await outbox(client, server.key, date_end=unpadded)) == []
        assert (
            ids_of(
                await outbox(client, server.key, date_start=FAR_PAST, date_end=f"{before:%Y-%m-%d}")
            )
            == sent
        )
        later = datetime.now(UTC) + timedelta(minutes=2)
        assert (
            ids_of(await outbox(client, server.key, date_start=f"{later:%Y-%m-%d %H:%M:%S}")) == []
        )
        assert_error(
            await client.get(
                "/api/3/outbox_sms.php", params={"token": server.key, "date_start": "yesterday"}
            ),
            "8",
            "date_start",
        )
        assert_error(
            await client.get(
                "/api/3/outbox_sms.php", params={"token": server.key, "date_end": "2015-02-30"}
            ),
            "8",
            "date_end",
        )
        assert_error(
            await client.get(
                "/api/3/outbox_sms.php", params={"token": server.key, "start_id": "abc"}
            ),
            "8",
            "start_id",
        )


async def test_phone_filter_normalises_and_matches_raw_digits(server: Tenant) -> None:
    phone = await quiet_phone(server)
    async with semy(server) as client:
        first = await sms(client, server.key, phone.id, phone="89201234567")
        second = await sms(client, server.key, phone.id, phone="+79207654321")
        for spelling in ("+79201234567", "89201234567", "79201234567"):
            assert ids_of(await outbox(client, server.key, phone=spelling)) == [first], spelling
        raw = await client.get(f"/api/3/outbox_sms.php?token={server.key}&phone=+79207654321")
        assert ids_of(raw.json()) == [second]
        await server.app.gateway.inbound.receive(
            phone, [("+79201234567", "a", None, None), ("900", "balance", None, None)]
        )
        inbox = (
            await client.get("/api/3/inbox_sms.php", params={"token": server.key, "phone": "900"})
        ).json()
        assert [m["msg"] for m in inbox["data"]] == ["balance"]
        inbox = (
            await client.get(
                "/api/3/inbox_sms.php", params={"token": server.key, "phone": "89201234567"}
            )
        ).json()
        assert [(m["phone"], m["msg"]) for m in inbox["data"]] == [("+79201234567", "a")]


# --- inbox, deletes ---------------------------------------------------------------------------


async def test_inbox_shape(server: Tenant) -> None:
    phone = await quiet_phone(server)
    [stored] = await server.app.gateway.inbound.receive(
        phone, [("+79201234567", "Test", None, None)]
    )
    async with semy(server) as client:
        body = (
            await client.get(
                f"/api/3/inbox_sms.php?token={server.key}&device={phone.id}&start_id=1&end_id={stored.id}"
            )
        ).json()
    assert list(body) == ["code", "count", "data"] and body["code"] == "0" and body["count"] == 1
    item = body["data"][0]
    assert list(item) == INBOX_KEYS
    assert item["id"] == stored.id and item["phone"] == "+79201234567" and item["msg"] == "Test"
    assert item["id_device"] == phone.id and DATE.fullmatch(item["date"])


async def test_delete_outbox_then_list(server: Tenant) -> None:
    gateway = server.app.gateway
    phone = await quiet_phone(server)
    async with semy(server) as client:
        keep, gone, held = [await sms(client, server.key, phone.id) for _ in range(3)]
        await gateway.devices.change(
            phone.id, DeviceChanges(limits=Limits()), account=await admin(server)
        )
        cancel = await client.get(
            "/api/3/cancel_sms.php", params={"token": server.key, "id_sms": keep}
        )
        assert cancel.json()["code"] == "0"
        leased = await gateway.dispatch.pull(phone, limit=10)
        assert [m.id for m in leased] == [gone, held]
        await gateway.dispatch.report(phone, [Report(message_id=gone, state=State.SENT)])
        deleted = (
            await client.get(
                "/api/3/del_outbox_sms.php",
                params={"token": server.key, "list_id": f"{gone},{held}"},
            )
        ).json()
        assert (
            deleted["code"] == "0" and deleted["count"] == 1
        )  # the held one is on the phone right now
        assert list(deleted["data"][0]) == OUTBOX_KEYS and deleted["data"][0]["id"] == gone
        assert ids_of(await outbox(client, server.key)) == [keep, held]
    async with server.client() as native:
        assert (await native.get(f"/api/v1/messages/{gone}")).status_code == 404


async def test_delete_inbox_then_list(server: Tenant) -> None:
    phone = await quiet_phone(server)
    first, second = await server.app.gateway.inbound.receive(
        phone, [("+79201234567", "one", None, None), ("+79207654321", "two", None, None)]
    )
    async with semy(server) as client:
        deleted = (
            await client.post(
                "/api/3/del_inbox_sms.php", data={"token": server.key, "phone": "+79201234567"}
            )
        ).json()
        assert deleted["code"] == "0" and deleted["count"] == 1
        assert list(deleted["data"][0]) == INBOX_KEYS and deleted["data"][0]["id"] == first.id
        listed = (await client.get("/api/3/inbox_sms.php", params={"token": server.key})).json()
    assert [m["id"] for m in listed["data"]] == [second.id]


# --- devices.php ------------------------------------------------------------------------------


async def test_devices_php_fields_from_the_real_device(server: Tenant) -> None:
    gateway = server.app.gateway
    account = await admin(server)
    phone = await quiet_phone(server, name="Office")
    await gateway.devices.heartbeat(
        phone,
        Heartbeat(
            battery=58,
            charging=True,
            app_version="40",
            manufacturer="HUAWEI",
            model="U8186",
            os_version="2.3.6",
        ),
    )
    await gateway.devices.change(
        phone.id,
        DeviceChanges(limits=Limits(pace=timedelta(seconds=1), quota=500)),
        account=account,
    )
    old = await quiet_phone(server, name="Old")
    await gateway.devices.archive(old.id, account=account)
    async with semy(server) as client:
        every = (await client.get("/api/3/devices.php", params={"token": server.key})).json()
        doc = (
            await client.get(
                f"/api/3/devices.php?token={server.key}&is_arhive=0&list_id={phone.id},{old.id}"
            )
        ).json()
        archived = (
            await client.post("/api/3/devices.php", data={"token": server.key, "is_arhive": "1"})
        ).json()
        spaced = (
            await client.get(
                "/api/3/devices.php",
                params={"token": server.key, "list_id": f"{old.id}, {phone.id}"},
            )
        ).json()
        bad = await client.get("/api/3/devices.php", params={"token": server.key, "is_arhive": "5"})
        no_token = await client.get("/api/3/devices.php")
    assert every["code"] == 0 and type(every["code"]) is int
    assert [d["id"] for d in every["data"]] == [
        server.welcome.device_id,
        phone.id,
        old.id,
    ] and every["count"] == 3
    assert [d["id"] for d in doc["data"]] == [phone.id] and doc["count"] == 1
    assert [d["id"] for d in archived["data"]] == [old.id] and archived["data"][0]["is_arhive"] == 1
    assert [d["id"] for d in spaced["data"]] == [phone.id, old.id]
    item = doc["data"][0]
    assert list(item) == DEVICE_KEYS
    assert {k: v for k, v in item.items() if k not in ("date_last_active", "limit_date")} == {
        "id": phone.id,
        "is_arhive": 0,
        "is_deliv": 1,
        "is_work": 1,
        "power": 1,
        "device_name": "U8186",
        "dop_name": "Office",
        "speed_sms": 1,
        "version": "40",
        "limit_phone": 500,
        "limit_use": 0,  # a quota is set and nothing went out yet
        "limit_period": "d",
        "manufacturer": "HUAWEI",
        "android_version": "2.3.6",
        "bat": "58",
    }
    assert DATE.fullmatch(item["date_last_active"]) and DATE.fullmatch(item["limit_date"])
    simulated = every["data"][0]
    assert (
        simulated["date_last_active"] is None
        and simulated["bat"] is None
        and simulated["limit_period"] == " "
    )
    assert_error(bad, 8, "is_arhive")
    assert_error(no_token, 1, "token")


# --- cancel_sms.php ---------------------------------------------------------------------------


async def test_cancel_by_id_and_by_device(server: Tenant) -> None:
    phone = await quiet_phone(server)
    other = await quiet_phone(server, name="Other")
    async with semy(server) as client:
        a, b, c = [await sms(client, server.key, phone.id) for _ in range(3)]
        elsewhere = await sms(client, server.key, other.id)
        one = (await client.get(f"/api/3/cancel_sms.php?token={server.key}&id_sms={a}")).json()
        assert one == {"code": "0", "count": 1, "data": [{"id": a}]}
        # laravel-semysms cancels a device's queue with device and id_sms=1
        device = (
            await client.post(
                "/api/3/cancel_sms.php",
                data={"token": server.key, "device": str(phone.id), "id_sms": "1"},
            )
        ).json()
        assert device["code"] == "0" and sorted(m["id"] for m in device["data"]) == [b, c]
        assert_error(
            await client.get("/api/3/cancel_sms.php", params={"token": server.key, "id_sms": a}),
            "10",
            "cancelled",
        )
        assert_error(
            await client.get(
                "/api/3/cancel_sms.php", params={"token": server.key, "id_sms": 999999}
            ),
            "9",
            "999999",
        )
        assert_error(
            await client.get("/api/3/cancel_sms.php", params={"token": server.key}),
            "8",
            "device or id_sms",
        )
        assert_error(
            await client.get(
                "/api/3/cancel_sms.php", params={"token": server.key, "device": "424242"}
            ),
            "3",
            "424242",
        )
        by_id = {m["id"]: m for m in (await outbox(client, server.key))["data"]}
    assert [by_id[i]["is_cancel"] for i in (a, b, c, elsewhere)] == [1, 1, 1, 0]


async def test_cancel_refuses_what_a_device_already_has(server: Tenant) -> None:
    async with semy(server) as client:
        sent = await sms(client, server.key, server.welcome.device_id)
        await eventually(
            lambda: outbox(client, server.key, list_id=sent),
            lambda b: b["data"][0]["is_send_to_phone"] == 1,
        )
        assert_error(
            await client.get("/api/3/cancel_sms.php", params={"token": server.key, "id_sms": sent}),
            "10",
        )
        by_device = (
            await client.get(
                "/api/3/cancel_sms.php",
                params={"token": server.key, "device": server.welcome.device_id},
            )
        ).json()
    assert by_device == {"code": "0", "count": 0, "data": []}


# --- accounts ---------------------------------------------------------------------------------


async def test_another_account_sees_and_touches_nothing(server: Tenant) -> None:
    other, other_key = await server.account()
    theirs = await quiet_phone(server, other, "Theirs")
    mine = await quiet_phone(server)
    async with semy(server) as client:
        sent = await sms(client, server.key, mine.id)
        await server.app.gateway.inbound.receive(mine, [("+79201234567", "for admin", None, None)])
        everything = {"token": other_key, "date_start": FAR_PAST}
        assert (await outbox(client, other_key, date_start=FAR_PAST))["count"] == 0
        assert (await outbox(client, other_key, list_id=sent))["count"] == 0
        assert (await client.get("/api/3/inbox_sms.php", params=everything)).json()["count"] == 0
        assert [
            d["id"]
            for d in (await client.get("/api/3/devices.php", params={"token": other_key})).json()[
                "data"
            ]
        ] == [theirs.id]
        assert (
            await client.get("/api/3/devices.php", params={"token": other_key, "list_id": mine.id})
        ).json()["count"] == 0
        assert_error(
            await client.get("/api/3/outbox_sms.php", params={**everything, "device": mine.id}),
            "3",
            str(mine.id),
        )
        assert_error(
            await client.get(
                "/api/3/sms.php",
                params={"token": other_key, "device": mine.id, "phone": "+79201234567", "msg": "x"},
            ),
            "3",
        )
        assert_error(
            await client.get("/api/3/cancel_sms.php", params={"token": other_key, "id_sms": sent}),
            "9",
        )
        assert_error(
            await client.get(
                "/api/3/cancel_sms.php", params={"token": other_key, "device": mine.id}
            ),
            "3",
        )
        assert (await client.get("/api/3/del_outbox_sms.php", params=everything)).json()[
            "count"
        ] == 0
        assert (await client.get("/api/3/del_inbox_sms.php", params=everything)).json()[
            "count"
        ] == 0
        assert ids_of(await outbox(client, server.key)) == [sent]
        assert (await client.get("/api/3/inbox_sms.php", params={"token": server.key})).json()[
            "count"
        ] == 1


# --- the native API and the dialect agree ----------------------------------------------------


async def test_sms_php_and_native_api_show_the_same_message(server: Tenant) -> None:
    async with semy(server) as client, server.client() as native:
        semy_id = await sms(client, server.key, server.welcome.device_id)
        native_id = (
            await native.post("/api/v1/messages", json={"to": "+79207654321", "text": "Hello"})
        ).json()["messages"][0]["id"]
        for message_id in (semy_id, native_id):
            status = await eventually(
                lambda i=message_id: native.get(f"/api/v1/messages/{i}"),  # type: ignore[misc]
                lambda r: r.json()["status"] == "delivered",
            )
            assert status.json()["status"] == "delivered"
            listed = await outbox(client, server.key, list_id=message_id)
            item = listed["data"][0]
            assert item["id"] == message_id and item["is_delivered"] == 1
            assert item["id_device"] == status.json()["device_id"]
            assert item["phone"] == status.json()["to_original"]


# --- the error door ---------------------------------------------------------------------------


async def test_every_failure_answers_in_semysms_format(
    server: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with semy(server) as client:
        unknown = await client.get("/api/3/nothing.php")
        assert unknown.status_code == 404 and unknown.json() == {
            "code": "12",
            "error": "no such method",
        }
        wrong_verb = await client.put("/api/3/sms.php")
        assert wrong_verb.status_code == 405 and wrong_verb.json()["code"] == "12"
        broken_form = await client.post(
            f"/api/3/sms.php?token={server.key}",
            content=b"--x\r\nbroken",
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        assert broken_form.status_code == 200 and broken_form.json()["code"] in ("4", "8")

        async def broken(*_: Any, **__: Any) -> Any:
            raise RuntimeError("the disk is on fire")

        monkeypatch.setattr(server.app.gateway.messages, "list", broken)
        answer = await client.get("/api/3/outbox_sms.php", params={"token": server.key})
    assert_error(answer, "99")
    assert "fire" not in answer.text


async def test_user_php(server: Tenant) -> None:
    async with semy(server) as client:
        body = (await client.get(f"/api/3/user.php?token={server.key}")).json()
    assert body["code"] == 0 and type(body["code"]) is int
    assert list(body) == [
        "code",
        "id_user",
        "is_pay",
        "type_premium",
        "date_end_premium",
        "messages_premium",
    ]
