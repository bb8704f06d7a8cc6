"""sms_more.php: many messages in one JSON body, all or nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.dialects.semysms.conftest import (
    FAR_PAST,
    Tenant,
    assert_error,
    outbox,
    quiet_phone,
    semy,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


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
