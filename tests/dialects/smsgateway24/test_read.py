"""getallsms, getsmsstatus: each status code's mapping, onlycount, timezone, date filters, incoming."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smsgate.core.messages import Reason, Report, State
from tests.dialects.smsgateway24.conftest import Tenant, ok, refused

pytestmark = pytest.mark.asyncio(loop_scope="package")

# (what the phone reports, the reason, the code getsmsstatus answers, its description)
MOVES = [
    (None, None, 1, "New"),
    ("lease", None, 3, "Queued for sending"),
    (State.TAKEN, None, 2, "Taken from Server"),
    (State.SENT, None, 6, "Sent by Phone"),
    (State.DELIVERED, None, 7, "Delivered"),
    (State.UNDELIVERED, None, 8, "Sms Not Delivered"),
    (State.FAILED, Reason.GENERIC, 9, "Not SENT - Generic failure"),
    (State.FAILED, Reason.NO_SERVICE, 10, "Not sent - No service"),
    (State.FAILED, Reason.NULL_PDU, 11, "Not Sent - Null PDU"),
    (State.FAILED, Reason.RADIO_OFF, 12, "Not Sent - Radio off"),
    (State.FAILED, Reason.NOT_ALLOWED, 100, "not sent - NOT ALLOWED"),
]


async def test_each_status_code_maps_from_the_core_and_filters_back(tenant: Tenant) -> None:
    phone = await tenant.phone()
    gateway = tenant.gateway
    ids = []
    async with tenant.http() as http:
        for index, _ in enumerate(MOVES):
            body = ok(
                await http.get(
                    "/getdata/addsms",
                    params={
                        "token": tenant.key,
                        "sendto": f"+4915752982{index:03d}",
                        "body": f"m{index}",
                        "device_id": phone.id,
                    },
                )
            )
            ids.append(body["sms_id"])
        now = gateway.now()
        leased = await tenant.app.store.lease(
            device_id=phone.id, limit=20, now=now, until=now + timedelta(minutes=5)
        )
        assert {m.id for m in leased} == set(ids)
        # message 0 goes back to the queue (new), 1 stays leased, the others move on
        reports = [Report(message_id=ids[0], state=State.QUEUED)]
        for message_id, (state, reason, _, _) in zip(ids[2:], MOVES[2:], strict=True):
            if state in (State.DELIVERED, State.UNDELIVERED):
                reports.append(Report(message_id=message_id, state=State.SENT))
            reports.append(Report(message_id=message_id, state=state, reason=reason))
        await gateway.dispatch.report(phone, reports)
        for message_id, (_, _, code, description) in zip(ids, MOVES, strict=True):
            body = ok(
                await http.get(
                    "/getdata/getsmsstatus", params={"token": tenant.key, "sms_id": message_id}
                )
            )
            assert (body["sms_id"], body["status"], body["status_description"]) == (
                message_id,
                code,
                description,
            )
            listed = ok(
                await http.post("/getdata/getallsms", data={"token": tenant.key, "status": code})
            )
            assert str(message_id) in listed["smss"], (code, listed)
            assert all(s["status"] == code for s in listed["smss"].values())
        # 101 filters as 100; cancelled and expired are 9 with their own title
        assert (
            ok(await http.get("/getdata/getallsms", params={"token": tenant.key, "status": 101}))[
                "count"
            ]
            == 1
        )
        refused(
            await http.get("/getdata/getallsms", params={"token": tenant.key, "status": 4}),
            "status",
        )
        refused(
            await http.get("/getdata/getsmsstatus", params={"token": tenant.key, "sms_id": 999999}),
            "not found",
        )
        refused(await http.get("/getdata/getsmsstatus", params={"token": tenant.key}), "sms_id")


async def test_getallsms_shape_onlycount_timezone_dates_and_incoming(tenant: Tenant) -> None:
    gateway = tenant.gateway
    phone = await tenant.phone()
    async with tenant.http() as http:
        first = ok(
            await http.get(
                "/getdata/addsms",
                params={
                    "token": tenant.key,
                    "sendto": "+4915752982212",
                    "body": "Hello! Thank you for Order! ",
                    "device_id": phone.id,
                    "customerid": 7,
                },
            )
        )
        ok(
            await http.get(
                "/getdata/addsms",
                params={
                    "token": tenant.key,
                    "sendto": "+4915752982299",
                    "body": "Second",
                    "device_id": phone.id,
                    "sim": 1,
                },
            )
        )
        await gateway.inbound.receive(phone, [("+4915752982212", "Thanks, got it", None, 1)])

        everything = ok(await http.get("/getdata/getallsms", params={"token": tenant.key}))
        assert everything["count"] == 3 and len(everything["smss"]) == 3
        one = everything["smss"][str(first["sms_id"])]
        assert list(one) == [
            "id",
            "sendto",
            "body",
            "customerid",
            "status",
            "statustitle",
            "deviceid",
            "sim",
            "urgent",
            "created",
            "senttime",
            "timetosend",
            "paketid",
            "pakettitle",
            "paketbody",
        ]
        assert (one["sendto"], one["customerid"], one["status"], one["statustitle"]) == (
            "+4915752982212",
            7,
            1,
            "new",
        )
        assert one["deviceid"] == phone.id and one["created"]["timezone"] == "UTC"
        assert one["created"]["timezone_type"] == 3 and one["paketid"] is None
        incoming = [s for s in everything["smss"].values() if s["status"] == 5]
        assert [(s["sendto"], s["body"], s["statustitle"]) for s in incoming] == [
            ("+4915752982212", "Thanks, got it", "income")
        ]
        assert list(everything["smss"]) == sorted(
            everything["smss"], key=lambda k: everything["smss"][k]["created"]["date"]
        )

        assert ok(
            await http.get("/getdata/getallsms", params={"token": tenant.key, "onlycount": 1})
        ) == {"error": 0, "message": "OK", "count": 3}
        assert (
            ok(
                await http.get(
                    "/getdata/getallsms", params={"token": tenant.key, "status": 5, "onlycount": 1}
                )
            )["count"]
            == 1
        )
        desc = ok(
            await http.get("/getdata/getallsms", params={"token": tenant.key, "orderbydesc": 1})
        )
        assert list(desc["smss"]) == list(reversed(list(everything["smss"])))
        assert (
            ok(await http.get("/getdata/getallsms", params={"token": tenant.key, "customerid": 7}))[
                "count"
            ]
            == 1
        )
        assert (
            ok(await http.get("/getdata/getallsms", params={"token": tenant.key, "sim": 1}))[
                "count"
            ]
            == 1
        )
        assert (
            ok(
                await http.get(
                    "/getdata/getallsms", params={"token": tenant.key, "phone": "+4915752982212"}
                )
            )["count"]
            == 2
        )
        assert (
            ok(
                await http.get(
                    "/getdata/getallsms", params={"token": tenant.key, "phone": "015752982212"}
                )
            )["count"]
            == 2
        )
        assert (
            ok(
                await http.get(
                    "/getdata/getallsms", params={"token": tenant.key, "device_id": phone.id}
                )
            )["count"]
            == 3
        )
        assert (
            ok(
                await http.get(
                    "/getdata/getallsms",
                    params={"token": tenant.key, "device_id": tenant.simulated.id},
                )
            )["count"]
            == 0
        )

        # the dates in a zone, and the date filters read in it
        sydney = ok(
            await http.get(
                "/getdata/getallsms", params={"token": tenant.key, "timezone": "Australia/Sydney"}
            )
        )
        shown = sydney["smss"][str(first["sms_id"])]["created"]
        message = await gateway.messages.get(first["sms_id"], account=tenant.account)
        from zoneinfo import ZoneInfo

        local = message.created_at.astimezone(ZoneInfo("Australia/Sydney"))
        assert shown == {
            "date": local.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "timezone_type": 3,
            "timezone": "Australia/Sydney",
        }
        today = local.strftime("%Y-%m-%d")
        tomorrow = (local + timedelta(days=1)).strftime("%Y-%m-%d")
        yesterday = (local - timedelta(days=1)).strftime("%Y-%m-%d")
        in_zone = {"token": tenant.key, "timezone": "Australia/Sydney"}
        assert (
            ok(
                await http.get(
                    "/getdata/getallsms", params={**in_zone, "begindate": today, "enddate": today}
                )
            )["count"]
            == 3
        )
        assert (
            ok(await http.get("/getdata/getallsms", params={**in_zone, "begindate": tomorrow}))[
                "count"
            ]
            == 0
        )
        assert (
            ok(await http.get("/getdata/getallsms", params={**in_zone, "enddate": yesterday}))[
                "count"
            ]
            == 0
        )
        begin = (local - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
        assert (
            ok(await http.get("/getdata/getallsms", params={**in_zone, "begindate": begin}))[
                "count"
            ]
            == 3
        )

        for bad, says in [
            ({"timezone": "Nowhere/City"}, "timezone"),
            ({"begindate": "01.13.2020"}, "begindate"),
            ({"enddate": "yesterday"}, "enddate"),
            ({"begindate": tomorrow, "enddate": yesterday}, "before"),
            ({"onlycount": "yes please"}, "onlycount"),
            ({"orderbydesc": "2"}, "orderbydesc"),
            ({"device_id": "x"}, "device_id"),
            ({"token": "sg_nope"}, "token"),
        ]:
            refused(await http.get("/getdata/getallsms", params={"token": tenant.key, **bad}), says)
