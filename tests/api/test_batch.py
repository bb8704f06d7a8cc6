"""The native batch answers per message: the valid ones accepted, the invalid ones listed with
their index and reason; `"atomic": true` keeps all or nothing."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import assert_problem, stored_count
from tests.conftest import Server

URL = "/api/v1/messages/batch"


def entry(i: int, **changes: Any) -> dict[str, Any]:
    return {"to": "+79201234567", "text": f"message {i}", "reference": f"r{i}", **changes}


async def test_valid_messages_are_accepted_and_the_invalid_listed(server: Server) -> None:
    before = await stored_count(server.app)
    entries = [entry(i) for i in range(6)]
    entries[1] = entry(1, to="12345")  # the service refuses it
    entries[2] = entry(2, to=["+79201234567", "+79201234568"])  # two messages from one entry
    entries[3] = entry(3, text="")  # the schema refuses it
    entries[4] = entry(4, devices=[999])  # no such device
    entries[5] = ["not", "an", "object"]
    async with server.client() as client:
        answer = await client.post(URL, json={"messages": entries})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        accepted = [(m["index"], m["reference"], m["to"]) for m in body["messages"]]
        assert accepted == [
            (0, "r0", "+79201234567"),
            (2, "r2", "+79201234567"),
            (2, "r2", "+79201234568"),
        ]
        refused = {r["index"]: r for r in body["refused"]}
        assert sorted(refused) == [1, 3, 4, 5]
        assert refused[1]["reference"] == "r1" and "12345" in refused[1]["detail"]
        assert refused[1]["status"] == 422 and refused[1]["type"].endswith("/invalid-number")
        assert refused[3]["status"] == 422 and "text" in refused[3]["detail"]
        assert "device 999" in refused[4]["detail"] and refused[5]["reference"] is None
        for m in body["messages"]:  # what was answered is what was stored
            stored = (await client.get(f"/api/v1/messages/{m['id']}")).json()
            assert (stored["reference"], stored["to"]) == (m["reference"], m["to"])
    assert await stored_count(server.app) == before + 3


async def test_a_batch_with_nothing_valid_is_refused_whole(server: Server) -> None:
    before = await stored_count(server.app)
    async with server.client() as client:
        answer = await client.post(URL, json={"messages": [entry(0, to="1"), entry(1, text="")]})
        problem = assert_problem(answer, 422, "message 0", "1 more")
        assert [r["index"] for r in problem["refused"]] == [0, 1]
        assert_problem(await client.post(URL, json={"messages": []}), 422)
        assert_problem(await client.post(URL, json={"messages": [entry(0)], "extra": 1}), 422)
    assert await stored_count(server.app) == before


async def test_atomic_is_all_or_nothing(server: Server) -> None:
    before = await stored_count(server.app)
    async with server.client() as client:
        bad = [entry(0), entry(1, to="12345"), entry(2)]
        problem = assert_problem(
            await client.post(URL, json={"messages": bad, "atomic": True}), 422, "message 1"
        )
        assert problem["index"] == 1
        schema_bad = [entry(0), entry(1, text="")]
        assert_problem(
            await client.post(URL, json={"messages": schema_bad, "atomic": True}), 422, "text"
        )
        assert await stored_count(server.app) == before
        good = [entry(0), entry(1, to=["+79201234567", "+79201234568"])]
        answer = await client.post(URL, json={"messages": good, "atomic": True})
        assert answer.status_code == 201, answer.text
        assert [m["index"] for m in answer.json()["messages"]] == [0, 1, 1]
    assert await stored_count(server.app) == before + 3


async def test_the_openapi_documents_both_ways(server: Server) -> None:
    async with server.client() as client:
        spec = (await client.get("/openapi.json")).json()
    batch = spec["paths"]["/api/v1/messages/batch"]["post"]
    body = batch["requestBody"]["content"]["application/json"]["schema"]
    assert "atomic" in body["properties"] and "SendBody" in str(body["properties"]["messages"])
    assert "refused" in str(spec["components"]["schemas"]["BatchOut"])
    assert "atomic" in batch["description"]
