"""savetag, savecontact (tag_id and ctag_id), savepaket: a newsletter through the vendor's calls."""

from __future__ import annotations

import asyncio

import pytest

from smsgate.core.campaigns import CampaignState
from tests.dialects.smsgateway24.conftest import Tenant, ok, refused, stored

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_a_newsletter_to_two_tags_sharing_contacts(tenant: Tenant) -> None:
    gateway = tenant.gateway
    phone = await tenant.phone()
    key = tenant.key
    async with tenant.http() as http:
        staff = ok(await http.post("/getdata/savetag", data={"token": key, "title": "Employees"}))[
            "tag_id"
        ]
        vip = ok(await http.get("/getdata/savetag", params={"token": key, "title": "VIP"}))[
            "tag_id"
        ]
        assert (
            ok(await http.get("/getdata/savetag", params={"token": key, "title": "VIP"}))["tag_id"]
            == vip
        )
        anna = ok(
            await http.post(
                "/getdata/savecontact",
                data={"token": key, "phone": "+4915752982201", "fullname": "Anna", "tag_id": staff},
            )
        )
        ok(
            await http.post(
                "/getdata/savecontact",
                data={
                    "token": key,
                    "phone": "+4915752982202",
                    "fullname": "Boris",
                    "tag_id": staff,
                },
            )
        )
        # the French page's ctag_id; Boris in both tags stays one contact
        ok(
            await http.post(
                "/getdata/savecontact",
                data={"token": key, "phone": "015752982202", "fullname": "Boris", "ctag_id": vip},
            )
        )
        ok(
            await http.post(
                "/getdata/savecontact",
                data={"token": key, "phone": "+4915752982203", "fullname": "Vera", "ctag_id": vip},
            )
        )
        assert isinstance(anna["contact_id"], int)
        await gateway.inbound.receive(phone, [("+4915752982203", "STOP", None, None)])

        paket = ok(
            await http.post(
                "/getdata/savepaket",
                data={
                    "token": key,
                    "title": "Spring",
                    "device_id": phone.id,
                    "body": "Hi {name}!",
                    "tags": f"{staff},{vip}",
                    "sim": 0,
                },
            )
        )
        assert paket["paket"] == paket["paket_id"]
        await gateway.campaigns.expand_due()  # or the server's own runner does, at the same time
        for _ in range(400):
            campaign = await gateway.campaigns.get(paket["paket"], account=tenant.account)
            if campaign.state is CampaignState.EXPANDED:
                break
            await asyncio.sleep(0.05)
        assert campaign.state is CampaignState.EXPANDED and (
            campaign.expanded,
            campaign.skipped,
        ) == (2, 1)
        listed = ok(await http.get("/getdata/getallsms", params={"token": key}))
        assert sorted(
            (s["sendto"], s["body"], s["paketid"], s["pakettitle"], s["paketbody"])
            for s in listed["smss"].values()
            if s["status"] != 5  # Vera's STOP is listed too, as an incoming message
        ) == [
            ("+4915752982201", "Hi Anna!", paket["paket"], "Spring", "Hi {name}!"),
            ("+4915752982202", "Hi Boris!", paket["paket"], "Spring", "Hi {name}!"),
        ]
        progress = await gateway.campaigns.progress(campaign)
        assert (progress.queued, progress.skipped, progress.contacts) == (2, 1, 3)

        # a newsletter for later (the French page's DD.MM.YYYY H:i:s)
        later = ok(
            await http.post(
                "/getdata/savepaket",
                data={
                    "token": key,
                    "title": "Later",
                    "device_id": phone.id,
                    "body": "x",
                    "tags": staff,
                    "time_to_send": "01.01.2099 09:00:00",
                },
            )
        )
        scheduled = await gateway.campaigns.get(later["paket"], account=tenant.account)
        assert scheduled.state is CampaignState.SCHEDULED and scheduled.send_at.year == 2099

        before = await stored(tenant)
        for method, fields, says in [
            ("savetag", {"title": ""}, "title"),
            ("savecontact", {"phone": "+4915752982209", "tag_id": 999999}, "list"),
            ("savecontact", {"phone": "+4915752982209"}, "tag_id"),
            ("savecontact", {"phone": "nonsense", "tag_id": staff}, "number"),
            (
                "savepaket",
                {"title": "x", "device_id": phone.id, "body": "x", "tags": "999999"},
                "list",
            ),
            (
                "savepaket",
                {"title": "x", "device_id": 999999, "body": "x", "tags": staff},
                "device",
            ),
            (
                "savepaket",
                {"title": "x", "device_id": phone.id, "body": "x", "tags": "a,b"},
                "tags",
            ),
            (
                "savepaket",
                {
                    "title": "x",
                    "device_id": phone.id,
                    "body": "x",
                    "tags": staff,
                    "time_to_send": "soon",
                },
                "time_to_send",
            ),
            ("savepaket", {"title": "x", "device_id": phone.id, "body": "", "tags": staff}, "body"),
        ]:
            refused(await http.post(f"/getdata/{method}", data={"token": key, **fields}), says)
        assert await stored(tenant) == before
        assert len(await gateway.campaigns.list(account=tenant.account)) == 2
