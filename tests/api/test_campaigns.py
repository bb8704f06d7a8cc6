"""/api/v1 lists, contacts, opt-outs and campaigns over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import assert_problem, eventually, stored_count
from tests.conftest import Server


async def test_a_newsletter_through_the_native_api_from_lists_to_delivered(server: Server) -> None:
    async with server.client() as http:
        a = (await http.post("/api/v1/lists", json={"name": "customers"})).json()
        b = (await http.post("/api/v1/lists", json={"name": "vip"})).json()
        answer = await http.post(
            "/api/v1/contacts/batch",
            json={
                "lists": [a["id"]],
                "contacts": [
                    {"phone": "+79201110001", "name": "Anna", "fields": {"code": "A1"}},
                    {"phone": "+79201110002", "name": "Boris", "lists": [b["id"]]},
                    {"phone": "+79201110003", "name": "Vera"},
                ],
            },
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["count"] == 3
        one = await http.post(
            "/api/v1/contacts", json={"phone": "+79201110004", "name": "Gleb", "lists": [b["id"]]}
        )
        assert one.status_code == 201 and one.json()["lists"] == [b["id"]]
        lists = {x["name"]: x["size"] for x in (await http.get("/api/v1/lists")).json()["lists"]}
        assert lists == {"customers": 3, "vip": 2}
        optout = await http.post("/api/v1/optouts", json={"phones": ["+79201110003"]})
        assert optout.json() == {"added": 1}

        made = await http.post(
            "/api/v1/campaigns",
            json={"name": "sale", "text": "{name}, your code {code}", "lists": [a["id"], b["id"]]},
        )
        assert made.status_code == 201, made.text
        campaign_id = made.json()["id"]

        async def show() -> dict[str, Any]:
            body: dict[str, Any] = (await http.get(f"/api/v1/campaigns/{campaign_id}")).json()
            return body

        done = await eventually(show, lambda c: c["progress"]["delivered"] == 3, timeout=30)
        assert done["status"] == "expanded"
        progress = done["progress"]
        assert (progress["contacts"], progress["expanded"], progress["skipped_opted_out"]) == (
            4,
            3,
            1,
        )
        messages = (await http.get("/api/v1/messages", params={"campaign": campaign_id})).json()
        texts = sorted(m["text"] for m in messages["messages"])
        assert texts == ["Anna, your code A1", "Boris, your code ", "Gleb, your code "]
        assert {m["campaign_id"] for m in messages["messages"]} == {campaign_id}

        # a finished campaign can be cancelled (nothing left to stop), then nothing else
        cancelled = await http.post(f"/api/v1/campaigns/{campaign_id}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["cancelled"] == 0
        assert_problem(await http.post(f"/api/v1/campaigns/{campaign_id}/resume"), 409)
        assert (await http.get("/api/v1/campaigns")).json()["campaigns"][0]["id"] == campaign_id


async def test_bad_requests_are_problems_and_write_nothing(server: Server) -> None:
    _, other_key = await server.account()
    async with server.client(other_key) as theirs:
        their_list = (await theirs.post("/api/v1/lists", json={"name": "theirs"})).json()
    async with server.client() as http:
        before = await stored_count(server.app)
        mine = (await http.post("/api/v1/lists", json={"name": "mine"})).json()
        assert_problem(await http.post("/api/v1/lists", json={"name": "mine"}), 409)
        assert_problem(
            await http.post(
                "/api/v1/campaigns", json={"name": "x", "text": "hi", "lists": [their_list["id"]]}
            ),
            404,
            "list",
        )
        assert_problem(
            await http.post("/api/v1/campaigns", json={"name": "x", "text": "hi", "lists": []}),
            422,
        )
        assert_problem(
            await http.post(
                "/api/v1/campaigns",
                json={
                    "name": "x",
                    "text": "hi",
                    "lists": [mine["id"]],
                    "send_at": "2001-01-01T00:00:00Z",
                },
            ),
            422,
            "past",
        )
        assert_problem(
            await http.post(
                "/api/v1/contacts/batch",
                json={"contacts": [{"phone": "+79201110001"}, {"phone": "nope"}]},
            ),
            422,
            "contact 1",
        )
        assert_problem(await http.get(f"/api/v1/lists/{their_list['id']}"), 404)
        assert_problem(await http.post("/api/v1/campaigns/999/pause"), 404)
        assert_problem(await http.delete("/api/v1/optouts/+79201110001"), 404)
        assert (await http.get("/api/v1/contacts")).json()["contacts"] == []
        assert (await http.get("/api/v1/campaigns")).json()["campaigns"] == []
        assert await stored_count(server.app) == before
