"""del_outbox_sms.php."""

from __future__ import annotations

import pytest

from smsgate.core.devices import DeviceChanges, Limits
from smsgate.core.messages import Report, State
from tests.dialects.semysms.conftest import (
    OUTBOX_KEYS,
    Tenant,
    admin,
    ids_of,
    outbox,
    quiet_phone,
    semy,
    sms,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


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
