"""One account never sees or touches another's data through /api/3/."""

from __future__ import annotations

import pytest

from tests.dialects.semysms.conftest import (
    FAR_PAST,
    Tenant,
    assert_error,
    ids_of,
    outbox,
    quiet_phone,
    semy,
    sms,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


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
