"""getalldevices, getdevicestatus, telegrammessage (a local stand-in of the Bot API)."""

from __future__ import annotations

import pytest

from smsgate.core.devices import Heartbeat, Sim
from tests.dialects.smsgateway24.conftest import BOT_TOKEN, Tenant, ok, refused

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_devices_keyed_by_id_in_the_documented_shape(tenant: Tenant) -> None:
    phone = await tenant.phone("Office phone")
    await tenant.gateway.devices.heartbeat(
        phone,
        Heartbeat(
            app_version="12.1.21", sims=(Sim(slot=1, number="+4915752982212", carrier="o2"),)
        ),
    )
    async with tenant.http() as http:
        body = ok(await http.get("/getdata/getalldevices", params={"token": tenant.key}))
        assert body["count"] == 2 and set(body["device"]) == {
            str(phone.id),
            str(tenant.simulated.id),
        }
        shown = body["device"][str(phone.id)]
        for key in [
            "id",
            "title",
            "number",
            "imei",
            "created",
            "createdhumanformat",
            "lastseen",
            "lastseenhumanformat",
            "serialnumber",
            "siminfo",
            "appversion",
            "isappversionactual",
            "delaybetweeneachsms",
            "delaybetweenrequest",
            "subscription",
        ]:
            assert key in shown, key
        assert (shown["title"], shown["number"], shown["appversion"]) == (
            "Office phone",
            "+4915752982212",
            "12.1.21",
        )
        assert shown["siminfo"][0]["Slot"] == "0" and shown["siminfo"][0]["CarrierName"] == "o2"
        assert set(shown["lastseen"]) == {"date", "timezone_type", "timezone"}
        status = ok(
            await http.post(
                "/getdata/getdevicestatus", data={"token": tenant.key, "device_id": phone.id}
            )
        )
        assert (status["device_id"], status["title"]) == (phone.id, "Office phone")
        assert set(status["lastseen"]) == {
            "date",
            "timezone_type",
            "timezone",
        }  # the PHP SDK reads these
        refused(
            await http.get(
                "/getdata/getdevicestatus", params={"token": tenant.key, "device_id": 999999}
            ),
            "device",
        )
        refused(
            await http.get("/getdata/getdevicestatus", params={"token": tenant.key}), "device_id"
        )
        refused(
            await http.get("/getdata/getalldevices", params={"token": "wrong-token-wrong"}), "token"
        )
        refused(
            await http.get("/getdata/nosuchmethod", params={"token": tenant.key}),
            "no such method",
            status=404,
        )


async def test_telegrammessage_goes_through_the_configured_bot(tenant: Tenant) -> None:
    async with tenant.http() as http:
        ok(
            await http.post(
                "/getdata/telegrammessage",
                data={"token": tenant.key, "telegramid": "5550001", "body": "Order 7 paid"},
            )
        )
        assert tenant.telegram.got[-1] == (
            BOT_TOKEN,
            {"chat_id": "5550001", "text": "Order 7 paid"},
        )
        refused(
            await http.post(
                "/getdata/telegrammessage",
                data={"token": tenant.key, "telegramid": "404404", "body": "x"},
            ),
            "chat not found",
        )
        refused(
            await http.post("/getdata/telegrammessage", data={"token": tenant.key, "body": "x"}),
            "telegramid",
        )
        refused(
            await http.post(
                "/getdata/telegrammessage", data={"token": tenant.key, "telegramid": "5550001"}
            ),
            "body",
        )
        refused(
            await http.post(
                "/getdata/telegrammessage", data={"telegramid": "5550001", "body": "x"}
            ),
            "token",
        )
