"""The official Python client of the SMSGate app (PyPI `android-sms-gateway`) against smsgate:
its own classes, every endpoint it offers, only the base URL changed. A phone emulator does the sending."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from android_sms_gateway import client, domain, errors
from android_sms_gateway.enums import ProcessState, WebhookEvent

from tests.conftest import Server
from tests.dialects.smsgate_app.conftest import Tenant
from tests.dialects.smsgate_app.emulator import Phone


def api(server: Server, tenant: Tenant, *, token: bool = False) -> client.AsyncAPIClient:
    base = f"{server.url}/api/3rdparty/v1"
    if token:  # an smsgate API key where the client would put a JWT
        return client.AsyncAPIClient(None, tenant.key, base_url=base)
    return client.AsyncAPIClient(tenant.email, tenant.password, base_url=base)


async def state_of(
    sms: client.AsyncAPIClient, message_id: str, want: ProcessState
) -> domain.MessageState:
    for _ in range(200):
        found = await sms.get_state(message_id)
        if found.state is want:
            return found
        await asyncio.sleep(0.02)
    return found


async def test_send_get_list_through_a_phone(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    await phone.open_stream()
    async with api(server, tenant) as sms:
        message = domain.Message(
            phone_numbers=["+79201234567", "+79201234568"],
            text_message=domain.TextMessage(text="Your code is 4711"),
            with_delivery_report=True,
            ttl=3600,
            id="order-77-otp",
        )
        accepted = await sms.send(message)
        assert accepted.id == "order-77-otp" and accepted.state is ProcessState.Pending
        assert [r.phone_number for r in accepted.recipients] == ["+79201234567", "+79201234568"]
        await phone.next_event("MessageEnqueued")
        [pulled] = await phone.pull()  # one message: the client's id, both numbers
        assert pulled["id"] == accepted.id
        assert pulled["phoneNumbers"] == ["+79201234567", "+79201234568"]
        local = phone.local[accepted.id]
        await phone.set_state(local, "Processed")
        assert (await sms.get_state(accepted.id)).state is ProcessState.Processed
        await phone.set_state(local, "Sent", only="+79201234567")
        await phone.set_state(local, "Delivered", only="+79201234567")
        await phone.set_state(
            local, "Failed", only="+79201234568", error="Can't send message: SIM 2 not found"
        )
        done = await state_of(sms, "order-77-otp", ProcessState.Sent)
        states = {r.phone_number: r.state for r in done.recipients}
        assert states == {
            "+79201234567": ProcessState.Delivered,
            "+79201234568": ProcessState.Failed,
        }
        assert done.device_id == phone.id and done.states and "Delivered" in done.states
        assert done.created_at is not None
        listed = await sms.get_messages(
            query=domain.MessagesQueryFilter(
                device_id=phone.id, from_=datetime.now(UTC) - timedelta(hours=1)
            ),
            pagination=domain.QueryPagination(limit=10, offset=0),
            sort="-created_at",
        )
        assert [m.id for m in listed] == ["order-77-otp"]
        assert await sms.get_messages(query=domain.MessagesQueryFilter(state="Cancelled")) == []
        with pytest.raises(errors.APIError) as twice:
            await sms.send(message)
        assert twice.value.status_code == 409 and twice.value.response["message"]
        with pytest.raises(errors.NotFoundError) as unknown:
            await sms.get_state("no-such-id")
        assert unknown.value.response == {"message": "message no-such-id not found", "code": 404}


async def test_a_message_without_an_id_cancelled_on_a_pulling_phone(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()  # no event stream: it only pulls
    await phone.register(private_token=tenant.key)
    await phone.sync_webhooks()
    await phone.sync_settings()
    numbers = ["+79201234567", "+79201234568"]
    async with api(server, tenant) as sms:
        delivered = await sms.send(
            domain.Message(phone_numbers=numbers, text_message=domain.TextMessage(text="a"))
        )
        assert delivered.id  # made at acceptance
        [pulled] = await phone.pull()
        assert (pulled["id"], pulled["phoneNumbers"]) == (delivered.id, numbers)
        for number in numbers:  # the status webhooks the phone posts carry the client's id
            for event, field in (("sms:sent", "sentAt"), ("sms:delivered", "deliveredAt")):
                answer = await phone.post_hook(
                    event,
                    {
                        "messageId": delivered.id,
                        "phoneNumber": number,
                        field: "2026-01-01T00:00:00.000Z",
                    },
                )
                assert answer.status_code == 200 and answer.json()["applied"] is True
        assert (await sms.get_state(delivered.id)).state is ProcessState.Delivered

        cancelled = await sms.send(
            domain.Message(phone_numbers=numbers, text_message=domain.TextMessage(text="b"))
        )
        [pulled] = await phone.pull()
        assert pulled["id"] == cancelled.id
        await phone.send_state(phone.local[cancelled.id])  # Pending, on a later sighting
        await sms.cancel_message(cancelled.id)
        assert (await sms.get_state(cancelled.id)).state is ProcessState.Cancelling
        assert await phone.pull() == []  # listed as Cancelling: the phone drops it, says so
        found = await sms.get_state(cancelled.id)
        assert found.state is ProcessState.Cancelled
        assert {r.state for r in found.recipients} == {ProcessState.Cancelled}


async def test_cancel_reaches_the_phone_and_the_client_sees_cancelled(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key)
    await phone.open_stream()
    async with api(server, tenant, token=True) as sms:
        accepted = await sms.send(
            domain.Message(
                phone_numbers=["+79201234567"], text_message=domain.TextMessage(text="x")
            )
        )
        [pulled] = await phone.pull()
        await sms.cancel_message(accepted.id)
        assert (await sms.get_state(accepted.id)).state is ProcessState.Cancelling
        event = await phone.next_event("MessageCancelled")
        assert event.data == {"messageId": pulled["id"]} and pulled["id"] == accepted.id
        await phone.set_state(phone.local[pulled["id"]], "Cancelled")
        assert (await sms.get_state(accepted.id)).state is ProcessState.Cancelled
        with pytest.raises(errors.APIError) as late:
            await sms.cancel_message(accepted.id)
        assert late.value.status_code == 409
        queued = await sms.send(
            domain.Message(
                phone_numbers=["+79201234567"], text_message=domain.TextMessage(text="y")
            )
        )
        phone_gone = await phone.close_stream()  # noqa: F841 - nobody pulls it: cancelled at once
        await sms.cancel_message(queued.id)
        assert (await sms.get_state(queued.id)).state is ProcessState.Cancelled


async def test_devices_webhooks_settings_inbox_health(
    server: Server, tenant: Tenant, phones: Callable[..., Phone]
) -> None:
    phone = phones()
    await phone.register(private_token=tenant.key, sims=2)
    await phone.open_stream()
    async with api(server, tenant) as sms:
        [device] = await sms.list_devices()
        assert (
            device.id == phone.id
            and device.name == "samsung/a52qnsxx"
            and device.last_seen is not None
        )
        async with httpx.AsyncClient() as plain:
            raw = (
                await plain.get(
                    f"{server.url}/api/3rdparty/v1/devices",
                    headers={"Authorization": f"Bearer {tenant.key}"},
                )
            ).json()
        assert raw[0]["simCards"][0] == {
            "slotIndex": 0,
            "simNumber": 1,
            "phoneNumber": "*******4567",
            "carrierName": "***Mobile",
        }

        hook = await sms.create_webhook(
            domain.Webhook(
                id="wh-7", url="https://crm.example.com/sms", event=WebhookEvent.SMS_RECEIVED
            )
        )
        assert hook.id == "wh-7"
        assert (await phone.next_event("WebhooksUpdated")).data is None
        assert [h.id for h in await sms.get_webhooks()] == ["wh-7"]
        installed = await phone.sync_webhooks()
        assert {
            "id": "wh-7",
            "url": "https://crm.example.com/sms",
            "event": "sms:received",
        } in installed
        with pytest.raises(errors.BadRequestError):
            await sms.create_webhook(
                domain.Webhook(
                    id=None, url="http://crm.example.com/sms", event=WebhookEvent.SMS_SENT
                )
            )
        await sms.create_webhook(
            domain.Webhook(
                id=None, url="https://crm.example.com/b", event=WebhookEvent.SMS_BATCH_RECEIVED
            )
        )
        assert all(
            h["event"] != "sms:batch:received" for h in await phone.sync_webhooks()
        )  # app 1.68 does not know it
        await sms.delete_webhook("wh-7")
        with pytest.raises(errors.NotFoundError):
            await sms.delete_webhook("wh-7")

        settings = domain.DeviceSettings(
            messages=domain.SettingsMessages(
                send_interval_min=2,
                send_interval_max=5,
                sim_selection_mode=domain.SimSelectionMode.ROUND_ROBIN,
            ),
            ping=domain.SettingsPing(interval_seconds=60),
        )
        await sms.update_settings(settings)
        await phone.next_event("SettingsUpdated")
        await sms.patch_settings(domain.DeviceSettings(logs=domain.SettingsLogs(lifetime_days=7)))
        got = await sms.get_settings()
        assert (
            got.messages is not None
            and got.messages.send_interval_min == 2
            and got.logs.lifetime_days == 7
        )
        on_phone = await phone.sync_settings()
        assert on_phone["messages"]["sim_selection_mode"] == "RoundRobin" and on_phone["ping"] == {
            "interval_seconds": 60
        }
        assert (
            on_phone["gateway"] == {"notification_channel": "SSE_ONLY"}
            and on_phone["webhooks"]["signing_key"]
        )
        with pytest.raises(errors.BadRequestError):
            await sms.patch_settings(
                domain.DeviceSettings(webhooks=domain.SettingsWebhooks(signing_key="mine"))
            )
        with pytest.raises(errors.BadRequestError):
            await sms.patch_settings(
                domain.DeviceSettings(
                    gateway=domain.SettingsGateway(cloud_url="https://evil.example")
                )
            )

        since, until = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC)
        await sms.refresh_inbox(
            domain.InboxRefreshRequest(since=since, until=until, device_id=phone.id)
        )
        export = await phone.next_event("MessagesExportRequested")
        assert export.data["messageTypes"] == "SMS,MMS" and export.data["triggerWebhooks"] == "true"
        await sms.export_inbox(
            domain.MessagesExportRequest(device_id=phone.id, since=since, until=until)
        )
        await phone.next_event("MessagesExportRequested")
        await phone.sync_webhooks()
        await phone.sync_settings()
        await phone.post_hook(
            "sms:received",
            {
                "messageId": "m1",
                "message": "Hi there",
                "sender": "+79201234567",
                "simNumber": 1,
                "receivedAt": "2026-07-01T15:46:11.000+07:00",
            },
        )
        [inbound] = await sms.list_inbox_messages(pagination=domain.QueryPagination(limit=5))
        assert (
            inbound.sender == "+79201234567"
            and inbound.content_preview == "Hi there"
            and inbound.message_type == "SMS"
        )
        with pytest.raises(errors.NotFoundError):
            await sms.download_attachment(inbound.id, 1)

        for check in (sms.health_check, sms.liveness_check, sms.readiness_check, sms.startup_check):
            health = await check()
            assert (
                health.status.value == "pass"
                and health.checks
                and health.checks["db:ping"].status.value == "pass"
            )
        with pytest.raises(errors.APIError) as logs:
            await sms.get_logs()
        assert logs.value.status_code == 501
        # (the async refresh_token of client 4.3.3 posts without a payload and cannot run: the sync one is used below)
        for call in (
            lambda: sms.generate_token(domain.TokenRequest(scopes=["messages:send"])),
            lambda: sms.revoke_token("jti"),
        ):
            with pytest.raises(errors.APIError) as token:
                await call()
            assert token.value.status_code == 501 and "API key" in token.value.response["message"]

        await sms.remove_device(phone.id)
        assert await sms.list_devices() == []
        assert (await phone.patch_device()).status_code == 401  # its token is revoked with it


async def test_wrong_credentials_and_the_sync_client(server: Server, tenant: Tenant) -> None:
    base = f"{server.url}/api/3rdparty/v1"
    async with client.AsyncAPIClient(tenant.email, "wrong", base_url=base) as sms:
        with pytest.raises(errors.UnauthorizedError):
            await sms.list_devices()
    basic = base64.b64encode(f"{tenant.email}:{tenant.password}".encode()).decode()
    async with httpx.AsyncClient() as plain:
        assert (
            await plain.get(f"{base}/devices", headers={"Authorization": f"Basic {basic}"})
        ).status_code == 200

    def sync() -> list[str]:  # the blocking client, on a thread (the server runs on this loop)
        with client.APIClient(tenant.email, tenant.password, base_url=base) as sms:
            sent = sms.send(
                domain.Message(
                    phone_numbers=["+79201234567"], text_message=domain.TextMessage(text="sync")
                )
            )
            try:
                sms.refresh_token("a-refresh-token")
            except errors.APIError as exc:
                refused = exc.status_code
            return [
                sent.id,
                sms.get_state(sent.id).state.value,
                sms.health_check().status.value,
                refused,
            ]

    sent_id, state, health, refused = await asyncio.to_thread(sync)
    assert state == "Pending" and health == "pass" and sent_id and refused == 501
