"""user.php."""

from __future__ import annotations

import pytest

from tests.dialects.semysms.conftest import (
    Tenant,
    semy,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


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
