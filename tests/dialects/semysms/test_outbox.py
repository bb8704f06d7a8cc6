"""outbox_sms.php: each message's shape and flags, and every filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smsgate.core.messages import Reason, Report, State
from tests.dialects.semysms.conftest import (
    DATE,
    FAR_PAST,
    OUTBOX_KEYS,
    Tenant,
    assert_error,
    eventually,
    ids_of,
    outbox,
    quiet_phone,
    semy,
    sms,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


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
