"""Bad input gets a clear 4xx problem+json and writes nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.helpers import assert_problem, stored_count
from tests.conftest import Server

OK = {"to": "+79201234567", "text": "hello"}
PAST = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
HUGE = 10**20


def body(**changes: Any) -> dict[str, Any]:
    return {**OK, **changes}


SENDS = [
    pytest.param(body(to="12345"), 422, "not a valid phone number", id="invalid number"),
    pytest.param(body(to="call me"), 422, "not a phone number", id="not a number"),
    pytest.param(body(to=["+79201234567", "+7920"]), 422, "'+7920'", id="one bad recipient of two"),
    pytest.param(body(to=[]), 422, "no recipient", id="no recipients"),
    pytest.param(
        body(to="+7" + " " * 80 + "9201234567"), 422, "phone number", id="over-long number"
    ),
    pytest.param(body(text=""), 422, "text", id="empty text"),
    pytest.param(body(text="   "), 422, "empty", id="blank text"),
    pytest.param(body(send_at=PAST), 422, "past", id="send time in the past"),
    pytest.param(
        body(send_at="2030-01-01T10:00:00"), 422, "timezone", id="send time without timezone"
    ),
    pytest.param(body(send_at="tomorrow"), 422, "send_at", id="send time not a time"),
    pytest.param(body(valid_until=PAST), 422, "expire", id="validity already over"),
    pytest.param(body(devices=[999999]), 422, "device 999999", id="unknown device"),
    pytest.param(body(devices=[HUGE]), 422, "device", id="device id out of range"),
    pytest.param(body(devices=["one"]), 422, "devices", id="device not an id"),
    pytest.param(body(sim=9), 422, "sim", id="no such SIM slot"),
    pytest.param(body(priority="asap"), 422, "priority", id="unknown priority"),
    pytest.param(body(text=123), 422, "text", id="wrong type"),
    pytest.param(body(to=None), 422, "to", id="null recipient"),
    pytest.param({"text": "hello"}, 422, "to", id="missing recipient"),
    pytest.param(body(colour="red"), 422, "colour", id="unknown field"),
    pytest.param(body(reference="r" * 101), 422, "reference", id="reference too long"),
    pytest.param(
        body(send_at="9999-12-31T23:00:00Z"), 422, "send", id="send time at the end of time"
    ),
    pytest.param(body(validity=0), 422, "validity", id="zero validity"),
    pytest.param(["+79201234567", "hello"], 422, "body", id="a list, not an object"),
]


async def test_bad_sends_write_nothing(server: Server) -> None:
    # one server for all the cases keeps the suite fast; each case names itself when it fails
    before = await stored_count(server.app)
    async with server.client() as client:
        for case in SENDS:
            payload, status, says = case.values
            try:
                assert_problem(await client.post("/api/v1/messages", json=payload), status, says)
                whole = {"messages": [OK, payload], "atomic": True}
                assert_problem(await client.post("/api/v1/messages/batch", json=whole), status)
                alone = await client.post("/api/v1/messages/batch", json={"messages": [payload]})
                assert_problem(alone, 422)  # none valid: nothing accepted
                assert alone.json()["refused"][0]["status"] == status, alone.json()
            except AssertionError as exc:
                raise AssertionError(f"case {case.id!r}: {exc}") from None
    assert await stored_count(server.app) == before


async def test_an_atomic_batch_names_the_bad_entry_and_writes_nothing(server: Server) -> None:
    before = await stored_count(server.app)
    entries = [body(reference=f"r{i}") for i in range(5)]
    entries[3] = body(to="12345", reference="r3")
    async with server.client() as client:
        problem = assert_problem(
            await client.post("/api/v1/messages/batch", json={"messages": entries, "atomic": True}),
            422,
            "message 3",
        )
        assert problem["index"] == 3
        assert_problem(await client.post("/api/v1/messages/batch", json={"messages": []}), 422)
    assert await stored_count(server.app) == before


async def test_malformed_json_is_refused(server: Server) -> None:
    before = await stored_count(server.app)
    async with server.client() as client:
        for content in (
            b'{"to": "+79201234567", "text": ',
            b"to=+79201234567&text=hi",
            b"",
            b"\xff\xfe\x00",
            b"[1,",
        ):
            answer = await client.post(
                "/api/v1/messages", content=content, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code in (400, 422), (content, answer.text)
            assert_problem(answer, answer.status_code)
    assert await stored_count(server.app) == before


WRONG_KEYS = [
    {"Authorization": "Bearer sg_wrong"},
    {"Authorization": ""},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "", "X-API-Key": "sg_wrong"},
]


async def test_wrong_or_missing_key_is_401(server: Server) -> None:
    before = await stored_count(server.app)
    async with server.client() as client:
        for headers, (method, path, payload) in itertools.product(
            WRONG_KEYS,
            (
                ("POST", "/api/v1/messages", OK),
                ("GET", "/api/v1/messages", None),
                ("GET", "/api/v1/inbox", None),
                ("GET", "/api/v1/devices", None),
                ("POST", "/api/v1/devices", {"name": "x"}),
                ("GET", "/api/v1/keys", None),
                ("POST", "/api/v1/keys", {"name": "x"}),
            ),
        ):
            answer = await client.request(method, path, json=payload, headers=headers)
            problem = assert_problem(answer, 401)
            assert "key" in problem["detail"]
            assert answer.headers["www-authenticate"] == "Bearer"
    assert await stored_count(server.app) == before
    assert (
        len(
            await server.app.gateway.devices.list(
                account=await server.app.gateway.accounts.authenticate(server.key)
            )
        )
        == 1
    )


async def test_a_revoked_key_stops_working(server: Server) -> None:
    async with server.client() as client:
        created = (await client.post("/api/v1/keys", json={"name": "temporary"})).json()
        async with server.client(created["key"]) as temporary:
            assert (await temporary.get("/api/v1/messages")).status_code == 200
            revoked = (await client.delete(f"/api/v1/keys/{created['id']}")).json()
            assert revoked["revoked_at"] is not None and revoked["key"] is None
            assert_problem(await temporary.get("/api/v1/messages"), 401, "revoked")
        assert (await client.get("/api/v1/messages")).status_code == 200


QUERIES = [
    pytest.param("status=bogus", "unknown status", id="unknown status"),
    pytest.param("status=queued,bogus", "unknown status", id="one unknown status"),
    pytest.param("cursor=abc", "cursor", id="cursor not a number"),
    pytest.param("cursor=-5", "cursor", id="negative cursor"),
    pytest.param("limit=0", "limit", id="limit zero"),
    pytest.param("limit=100000", "limit", id="limit too big"),
    pytest.param("since=yesterday", "since", id="bad time"),
    pytest.param("since=2026-01-01T00:00:00", "since", id="time without timezone"),
    pytest.param("min_id=-1", "min_id", id="negative id"),
    pytest.param("device=abc", "device", id="device not an id"),
    pytest.param("phone=abc", "phone number", id="phone not a number"),
]


async def test_bad_listing_queries(server: Server) -> None:
    async with server.client() as client:
        for case, path in itertools.product(QUERIES, ("/api/v1/messages", "/api/v1/inbox")):
            query, says = case.values
            try:
                assert_problem(await client.get(f"{path}?{query}"), 422, says)
            except AssertionError as exc:
                raise AssertionError(f"{path}?{query}: {exc}") from None
        # numbers past any id are not errors: they match nothing (or everything below them)
        for query in (
            f"cursor={HUGE}",
            f"max_id={HUGE}",
            f"min_id={HUGE}",
            f"device={HUGE}",
            f"device={-HUGE}",
        ):
            answer = await client.get(f"/api/v1/messages?{query}")
            assert answer.status_code in (200, 422), (query, answer.text)


async def test_bad_ids_in_paths_are_4xx(server: Server) -> None:
    async with server.client() as client:
        for bad in ("abc", str(HUGE), str(2**63), "-1", "0"):
            for method, path in (
                ("GET", "/api/v1/messages/{}"),
                ("POST", "/api/v1/messages/{}/cancel"),
                ("DELETE", "/api/v1/messages/{}"),
                ("DELETE", "/api/v1/inbox/{}"),
                ("GET", "/api/v1/devices/{}"),
                ("PATCH", "/api/v1/devices/{}"),
                ("DELETE", "/api/v1/devices/{}"),
                ("DELETE", "/api/v1/keys/{}"),
            ):
                answer = await client.request(
                    method, path.format(bad), json={} if method == "PATCH" else None
                )
                assert answer.status_code in (404, 422), (
                    method,
                    path.format(bad),
                    answer.status_code,
                    answer.text,
                )
                assert answer.headers["content-type"].startswith("application/problem+json")


async def test_unknown_paths_and_methods_are_problems(server: Server) -> None:
    async with server.client() as client:
        assert_problem(await client.get("/api/v1/nothing"), 404)
        assert_problem(await client.put("/api/v1/messages"), 405)


async def test_device_input_is_checked(server: Server) -> None:
    async with server.client() as client:
        assert_problem(await client.post("/api/v1/devices", json={"name": ""}), 422, "name")
        assert_problem(await client.post("/api/v1/devices", json={"name": "   "}), 422, "name")
        assert_problem(
            await client.post("/api/v1/devices", json={"name": "x", "kind": "pigeon"}), 422, "kind"
        )
        assert_problem(
            await client.patch(f"/api/v1/devices/{server.welcome.device_id}", json={"name": "  "}),
            422,
            "name",
        )
        assert_problem(
            await client.patch(
                f"/api/v1/devices/{server.welcome.device_id}", json={"enabled": "maybe"}
            ),
            422,
        )
        assert_problem(await client.patch("/api/v1/devices/999999", json={"name": "x"}), 404)
        assert len((await client.get("/api/v1/devices")).json()) == 1
