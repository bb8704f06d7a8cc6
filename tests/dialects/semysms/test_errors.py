"""The error door: every failure answers in SemySMS's format."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dialects.semysms.conftest import (
    Tenant,
    assert_error,
    semy,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


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
