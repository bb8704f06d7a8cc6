"""The SMSGate app's mobile API against a real smsgate on loopback, through the phone emulator."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

from tests.conftest import Server
from tests.dialects.smsgate_app.conftest import Tenant
from tests.dialects.smsgate_app.emulator import Phone


async def status_of(
    tenant: Tenant, message_id: str | int, want: str, timeout: float = 10.0
) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = (await tenant.api.get(f"/api/v1/messages/{message_id}")).json()
        if found["status"] == want or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.02)


async def test_register_with_the_account_key_as_private_token(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    answer = await phone.register(private_token=tenant.key)
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"id", "token", "login"} and body["login"] == tenant.email
    assert (await phone.patch_device(simCards=phone.sim_cards(2))).status_code == 204
    devices = (await tenant.api.get("/api/v1/devices")).json()
    mine = next(d for d in devices if str(d["id"]) == phone.id)
    assert mine["app_version"] == "1.68.0"
    assert [s["slot"] for s in mine["sims"]] == [1, 2]
    assert mine["manufacturer"] == "samsung" and mine["connected"] is False
    await phone.open_stream()
    mine = (await tenant.api.get(f"/api/v1/devices/{phone.id}")).json()
    assert mine["connected"] is True


async def test_native_send_reaches_the_phone_over_the_event_stream(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    await phone.sync_settings()
    await phone.open_stream()
    since_request, since_answer, before = [], [], 0
    outcomes = {}
    for n in range(50):
        while (
            not phone.events.empty()
        ):  # wake-ups of earlier work (a retry, the sweep) are not this send's
            phone.events.get_nowait()
        started = time.perf_counter()
        answer = await tenant.api.post(
            "/api/v1/messages", json={"to": "+79201234567", "text": f"code {n}"}
        )
        accepted = time.perf_counter()
        assert answer.status_code == 201, answer.text
        event = await phone.next_event("MessageEnqueued")
        since_request.append(event.at - started)
        since_answer.append(event.at - accepted)
        before += event.at < accepted
        pulled = await phone.pull()
        assert [p["phoneNumbers"] for p in pulled] == [["+79201234567"]]
        message = pulled[0]
        assert message["textMessage"] == {"text": f"code {n}"} and message["message"] == f"code {n}"
        assert message["state"] == "Pending" and message["validUntil"].endswith("Z")
        final = ("Delivered", "Sent", "Failed", "Undelivered")[n % 4]
        error = (
            "Send result: RESULT_ERROR_NO_SERVICE"
            if final == "Failed"
            else "Delivery result from SC +1: 64"
        )
        await phone.send_through(message["id"], final, error)
        outcomes[message["id"]] = final
    p50 = statistics.median(since_request) * 1000
    p99 = statistics.quantiles(since_request, n=100)[98] * 1000
    print(
        f"\naccepted -> MessageEnqueued over {len(since_request)} sends: request start -> event p50 {p50:.2f} ms, "
        f"p99 {p99:.2f} ms; event before the 201 answer in {before} of {len(since_answer)} "
        f"(201 -> event p50 {statistics.median(since_answer) * 1000:.2f} ms)"
    )
    want = {"Delivered": "delivered", "Sent": "sent", "Undelivered": "undelivered"}
    for message_id, final in outcomes.items():
        if final == "Failed":  # a transient failure goes back to the queue for another try
            found = (await tenant.api.get(f"/api/v1/messages/{message_id}")).json()
            assert found["reason"] == "no_service" and found["status"] in (
                "queued",
                "failed",
                "leased",
            )
            continue
        found = await status_of(tenant, message_id, want[final])
        assert found["status"] == want[final], found
        assert found["taken_at"] is not None and found["device_id"] == int(phone.id)


async def inbox(tenant: Tenant) -> list[dict]:
    return (await tenant.api.get("/api/v1/inbox")).json()["messages"]


async def test_signed_inbound_lands_in_the_inbox_once_and_forgeries_are_refused(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    hooks = await phone.sync_webhooks()
    assert {h["event"] for h in hooks} >= {
        "sms:received",
        "sms:sent",
        "sms:delivered",
        "sms:failed",
        "sms:cancelled",
    }
    assert len({h["url"] for h in hooks}) == 1 and phone.token not in hooks[0]["url"]
    settings = await phone.sync_settings()
    assert settings["gateway"] == {"notification_channel": "SSE_ONLY"}
    assert len(settings["webhooks"]["signing_key"]) >= 24
    payload = {
        "messageId": "a1b2c3",
        "message": "STOP & <go> = 'now'",
        "sender": "+79201234567",
        "recipient": "+79209990000",
        "phoneNumber": "+79201234567",
        "simNumber": 2,
        "receivedAt": "2026-07-01T15:46:11.000+07:00",
    }
    answer = await phone.post_hook("sms:received", payload, delivery="Ey6ECgOkVVFjz3CL48B8C")
    assert answer.status_code == 200, answer.text
    [got] = await inbox(tenant)
    assert (
        got["sender"] == "+79201234567" and got["text"] == "STOP & <go> = 'now'" and got["sim"] == 2
    )
    assert got["received_at"].startswith("2026-07-01T08:46:11") and got["device_id"] == int(
        phone.id
    )
    # the app retries a delivery it is not sure of: taken in once
    again = await phone.post_hook("sms:received", payload, delivery="Ey6ECgOkVVFjz3CL48B8C")
    assert again.status_code == 200 and again.json() == {"duplicate": True}
    # forged: signed with another key
    forged = await phone.post_hook("sms:received", payload, key="not-the-key")
    assert forged.status_code == 401 and "X-Signature" in forged.json()["message"]
    # replayed later: the timestamp is out of the window
    replayed = await phone.post_hook("sms:received", payload, timestamp=int(time.time()) - 3600)
    assert replayed.status_code == 401 and "X-Timestamp" in replayed.json()["message"]
    # a URL no device has
    url = phone.hook_for("sms:received").rsplit("/", 1)[0] + "/guessed"
    assert (await phone.post_hook("sms:received", payload, url=url)).status_code == 404
    assert len(await inbox(tenant)) == 1


async def test_status_webhooks_move_the_message(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    await phone.sync_webhooks()
    await phone.sync_settings()
    sent = (
        await tenant.api.post("/api/v1/messages", json={"to": "+79201234567", "text": "hi"})
    ).json()["messages"][0]
    [pulled] = await phone.pull()
    assert pulled["id"] == str(sent["id"])
    answer = await phone.post_hook(
        "sms:sent",
        {
            "messageId": pulled["id"],
            "phoneNumber": "+79201234567",
            "partsCount": 1,
            "sentAt": "2026-01-01T00:00:00.000Z",
        },
    )
    assert answer.status_code == 200 and answer.json()["state"] == "sent"
    answer = await phone.post_hook(
        "sms:delivered", {"messageId": pulled["id"], "deliveredAt": "2026-01-01T00:00:05.000Z"}
    )
    assert answer.json()["state"] == "delivered"
    found = (await tenant.api.get(f"/api/v1/messages/{sent['id']}")).json()
    assert found["status"] == "delivered" and found["delivered_at"].startswith(
        "2026-01-01T00:00:05"
    )
    unknown = await phone.post_hook(
        "sms:sent", {"messageId": "999999", "sentAt": "2026-01-01T00:00:00.000Z"}
    )
    assert unknown.status_code == 404 and "999999" in unknown.json()["message"]


async def test_cancel_reaches_the_phone(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    await phone.open_stream()
    sent = (
        await tenant.api.post("/api/v1/messages", json={"to": "+79201234567", "text": "later"})
    ).json()["messages"][0]
    [pulled] = await phone.pull()  # on the phone, Pending (its limits hold it back)
    answer = await tenant.api.post(f"/api/v1/messages/{sent['id']}/cancel")
    assert answer.status_code == 200 and answer.json()["status"] == "leased"
    event = await phone.next_event("MessageCancelled")
    assert event.data == {"messageId": pulled["id"]}
    assert (await phone.set_state(phone.local[pulled["id"]], "Cancelled")).status_code == 204
    found = await status_of(tenant, sent["id"], "cancelled")
    assert found["status"] == "cancelled" and found["cancelled_at"] is not None


async def test_cancel_reaches_a_polling_phone_through_its_pull(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    sent = (
        await tenant.api.post("/api/v1/messages", json={"to": "+79201234567", "text": "later"})
    ).json()["messages"][0]
    [pulled] = await phone.pull()
    await phone.send_state(
        phone.local[pulled["id"]]
    )  # the app confirms Pending on a later sighting
    assert await phone.pull() == []  # acknowledged: not handed again
    await tenant.api.post(f"/api/v1/messages/{sent['id']}/cancel")
    assert await phone.pull() == []  # came as Cancelling: the phone dropped it and said so
    assert phone.local[pulled["id"]].state == "Cancelled"
    assert (await status_of(tenant, sent["id"], "cancelled"))["status"] == "cancelled"


async def test_a_sending_phone_keeps_going_after_a_cancel(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    sent = (
        await tenant.api.post("/api/v1/messages", json={"to": "+79201234567", "text": "now"})
    ).json()["messages"][0]
    [pulled] = await phone.pull()
    await phone.set_state(phone.local[pulled["id"]], "Processed")
    answer = await tenant.api.post(f"/api/v1/messages/{sent['id']}/cancel")
    assert answer.status_code == 409 and "taken" in answer.json()["detail"]
    await phone.send_through(pulled["id"], "Delivered")
    assert (await status_of(tenant, sent["id"], "delivered"))["status"] == "delivered"


async def test_revoked_token_gets_401_and_unknown_ids_a_clear_error(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    answer = await phone.http.patch(
        "/message",
        json=[{"id": "424242", "state": "Sent", "recipients": [], "states": {}}],
        headers=phone.auth,
    )
    assert (
        answer.status_code == 404
        and answer.json()["message"] == "no message 424242 was given to this device"
    )
    answer = await phone.http.patch(
        "/message", json=[{"id": "m-1042", "state": "Sent"}], headers=phone.auth
    )
    assert answer.status_code == 404 and "m-1042" in answer.json()["message"]
    assert (await phone.patch_device(pushToken="fcm")).status_code == 204
    assert (await phone.patch_device()).status_code == 204
    other = phones()
    await other.register(private_token=tenant.key)
    mismatch = await phone.http.patch("/device", json={"id": other.id}, headers=phone.auth)
    assert mismatch.status_code == 403
    assert (await tenant.api.delete(f"/api/v1/devices/{phone.id}")).status_code == 200
    revoked = await phone.patch_device()
    assert revoked.status_code == 401 and revoked.json()["code"] == 401
    assert (await phone.http.get("/message", headers=phone.auth)).status_code == 401
    assert (
        await phone.http.get("/message", headers={"Authorization": "Bearer nonsense"})
    ).status_code == 401
    assert (await phone.http.get("/device", headers=phone.auth)).json().keys() == {"externalIp"}
    bad = await phones().register(private_token="sg_wrong")
    assert bad.status_code == 401 and bad.json()["message"]


async def test_sign_in_by_login_and_by_code_and_change_password(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    answer = await phone.register(login=(tenant.email, tenant.password))
    assert (
        answer.status_code == 201
        and answer.json()["login"] == tenant.email
        and "password" not in answer.json()
    )
    import base64

    basic = "Basic " + base64.b64encode(f"{tenant.email}:{tenant.password}".encode()).decode()
    code = (await phone.http.get("/user/code", headers={"Authorization": basic})).json()
    assert len(code["code"]) == 6 and code["validUntil"].endswith("Z")
    second = phones(name="Google/sdk_gphone64")
    assert (await second.register(code=code["code"])).status_code == 201
    assert (await phones().register(code=code["code"])).status_code == 401  # used up
    wrong = await phone.http.patch(
        "/user/password",
        json={"currentPassword": "nope", "newPassword": "a-new-password-1"},
        headers=phone.auth,
    )
    assert wrong.status_code == 401
    short = await phone.http.patch(
        "/user/password",
        json={"currentPassword": tenant.password, "newPassword": "short"},
        headers=phone.auth,
    )
    assert short.status_code == 400
    ok = await phone.http.patch(
        "/user/password",
        json={"currentPassword": tenant.password, "newPassword": "a-new-password-1"},
        headers=phone.auth,
    )
    assert ok.status_code == 204
    assert (await phones().register(login=(tenant.email, "a-new-password-1"))).status_code == 201


async def test_an_older_app_gets_only_what_it_knows(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones(version="1.36.0")
    await phone.register(private_token=tenant.key)
    hooks = await phone.sync_webhooks()
    assert {h["event"] for h in hooks} == {
        "sms:received",
        "sms:sent",
        "sms:delivered",
        "sms:failed",
    }
    assert await phone.sync_settings() == {}  # settings came with 1.37
    sent = (
        await tenant.api.post("/api/v1/messages", json={"to": "+79201234567", "text": "old"})
    ).json()["messages"][0]
    [pulled] = await phone.pull()
    assert set(pulled) - {"simNumber"} == {
        "id",
        "message",
        "phoneNumbers",
        "withDeliveryReport",
        "isEncrypted",
        "priority",
        "validUntil",
        "createdAt",
    }
    await tenant.api.post(f"/api/v1/messages/{sent['id']}/cancel")
    assert await phone.pull() == []  # it would send a Cancelling message: not handed again
    assert all(k not in pulled for k in ("state", "textMessage", "scheduleAt"))


async def test_what_one_phone_pulled_never_goes_to_another(settings_for, phones_at) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace
    from datetime import timedelta

    from smsgate.service import Policy
    from tests.conftest import start_server

    uv, task, server = await start_server(
        settings_for(policy=replace(Policy(), lease_time=timedelta(seconds=0.1)))
    )
    try:
        tenant_account = await server.app.gateway.accounts.create(
            "two@example.com", "password123-long"
        )
        _, key = await server.app.gateway.accounts.create_key(tenant_account)
        a, b = phones_at(server.url), phones_at(server.url)
        await a.register(private_token=key)
        await b.register(private_token=key)
        async with server.client(key) as api:
            sent = (
                await api.post("/api/v1/messages", json={"to": "+79201234567", "text": "x"})
            ).json()["messages"][0]
            [pulled] = await a.pull()  # no receipt ack on the first pull: the app says nothing yet
            await asyncio.sleep(0.5)  # many lease times and sweeps later
            assert await b.pull() == []
            again = await a.http.get("/message", headers=a.auth)
            assert [m["id"] for m in again.json()] == [pulled["id"]]  # the same phone sees it again
            found = (await api.get(f"/api/v1/messages/{sent['id']}")).json()
            assert found["status"] == "leased" and found["device_id"] == int(a.id)
            await a.close()
            await b.close()
    finally:
        uv.should_exit = True
        await task


async def test_two_polling_phones_share_the_work_and_never_both_get_one(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    a, b = phones(), phones(name="Xiaomi/redmi")
    await a.register(private_token=tenant.key)
    await b.register(private_token=tenant.key)
    got: dict[str, set[str]] = {a.id: set(), b.id: set()}  # type: ignore[dict-item]
    total = 40
    done = asyncio.Event()

    async def poll(phone: Phone) -> None:
        while not done.is_set():
            for message in await phone.pull(order="fifo"):
                got[phone.id].add(message["id"])  # type: ignore[index]
                await phone.send_through(message["id"], "Delivered")
            await asyncio.sleep(0.01)

    pollers = [asyncio.create_task(poll(a)), asyncio.create_task(poll(b))]
    ids = []
    for n in range(total):
        answer = await tenant.api.post(
            "/api/v1/messages", json={"to": f"+7920123{n:04d}", "text": f"n{n}"}
        )
        ids.append(str(answer.json()["messages"][0]["id"]))
        await asyncio.sleep(0.01)
    deadline = time.monotonic() + 20
    while len(got[a.id] | got[b.id]) < total and time.monotonic() < deadline:  # type: ignore[index]
        await asyncio.sleep(0.02)
    done.set()
    await asyncio.gather(*pollers)
    assert got[a.id] | got[b.id] == set(ids)  # type: ignore[index]
    assert not got[a.id] & got[b.id]  # type: ignore[index]
    assert got[a.id] and got[b.id]  # type: ignore[index]
    listed = (await tenant.api.get("/api/v1/messages", params={"limit": 100})).json()["messages"]
    assert {m["status"] for m in listed} == {"delivered"}
    print(f"\ntwo polling phones: {len(got[a.id])} and {len(got[b.id])} of {total}")  # type: ignore[index]


async def test_cancel_and_inventory_through_webhooks(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key, sims=1)
    await phone.sync_webhooks()
    await phone.sync_settings()
    sent = (
        await tenant.api.post("/api/v1/messages", json={"to": "+79201234567", "text": "x"})
    ).json()["messages"][0]
    [pulled] = await phone.pull()
    not_asked = await phone.post_hook(
        "sms:cancelled", {"messageId": pulled["id"], "cancelledAt": "2026-01-01T00:00:00.000Z"}
    )
    assert not_asked.json() == {
        "applied": False
    }  # nobody asked: the phone's word alone cancels nothing
    await tenant.api.post(f"/api/v1/messages/{sent['id']}/cancel")
    asked = await phone.post_hook(
        "sms:cancelled", {"messageId": pulled["id"], "cancelledAt": "2026-01-01T00:00:00.000Z"}
    )
    assert asked.json() == {"applied": True}
    assert (await tenant.api.get(f"/api/v1/messages/{sent['id']}")).json()["status"] == "cancelled"
    started = await phone.post_hook("app:started", {"simCards": phone.sim_cards(2)})
    assert started.status_code == 200
    ping = await phone.post_hook(
        "system:ping",
        {
            "health": {
                "status": "pass",
                "checks": {
                    "battery:level": {
                        "status": "pass",
                        "observedValue": 87,
                        "observedUnit": "percent",
                    },
                    "battery:charging": {"status": "pass", "observedValue": 1},
                },
            }
        },
    )
    assert ping.status_code == 200
    device = (await tenant.api.get(f"/api/v1/devices/{phone.id}")).json()
    assert (
        device["battery"] == 87
        and device["charging"] is True
        and [s["slot"] for s in device["sims"]] == [1, 2]
    )


async def test_an_outage_answers_5xx_never_401(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    """A 401 on PATCH /device makes the app register again: a broken database must not look like one."""
    from sqlalchemy import text

    phone = phones()
    await phone.register(private_token=tenant.key)
    async with server.app.db.write() as connection:
        await connection.execute(text("ALTER TABLE devices RENAME TO devices_away"))
    try:
        answer = await phone.patch_device()
        pulled = await phone.http.get("/message", headers=phone.auth)
    finally:
        async with server.app.db.write() as connection:
            await connection.execute(text("ALTER TABLE devices_away RENAME TO devices"))
    assert answer.status_code == 500 and pulled.status_code == 500
    assert answer.json() == {
        "message": "the gateway failed to do this; it has been logged",
        "code": 500,
    }
    assert (await phone.patch_device()).status_code == 204


async def test_guessing_sign_in_codes_is_stopped(server) -> None:
    from tests.dialects.smsgate_app.emulator import Phone

    phone = Phone(server.url, name="guesser")
    try:
        answers = [(await phone.register(code=f"{n:06d}")).status_code for n in range(12)]
    finally:
        await phone.close()
    assert answers[:10] == [401] * 10
    assert answers[10:] == [429, 429]
