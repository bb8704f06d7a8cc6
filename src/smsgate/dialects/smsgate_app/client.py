"""/api/3rdparty/v1: the SMSGate app's client API, so its SDKs work by changing their base URL.

Auth: `Basic email:password` of the smsgate account, or `Bearer <API key>`. One app message with N
`phoneNumbers` is one smsgate message group of N messages (one per recipient) under one id: the
client's `id`, or one made at acceptance; the phone pulls it as one message with that id and every
answer, event, state and webhook speaks it. A message sent through another door is known here by its
smsgate id. Phones' logs stay on the phones (501), and smsgate
issues no JWTs (501): an API key is the bearer token.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import text

from smsgate import __version__
from smsgate.api import schemas
from smsgate.core import errors
from smsgate.core.accounts import Account
from smsgate.core.devices import Device
from smsgate.core.messages import Inbound, Message, MessageFilter, State
from smsgate.core.requests import SendRequest
from smsgate.dialects.smsgate_app import wire
from smsgate.dialects.smsgate_app.errors import answer
from smsgate.dialects.smsgate_app.mobile import _basic, _credentials
from smsgate.dialects.smsgate_app.service import service_of
from smsgate.dialects.smsgate_app.store import AppWebhook

PREFIX = "/api/3rdparty/v1"
router = APIRouter(prefix=PREFIX, tags=["SMSGate app: client API"])
Loose = ConfigDict(extra="ignore")
LOGIN_CACHE = 10.0  # seconds a Basic login is remembered (argon2 on every request would be slow)


async def caller(request: Request) -> Account:
    service = service_of(request)
    scheme, value = _credentials(request)
    if scheme == "bearer" and value:
        return await service.gateway.accounts.authenticate(value)
    if scheme != "basic" or not value:
        raise errors.Unauthorized(
            "use Basic auth with your smsgate email and password, or Bearer <API key>"
        )
    cache: dict[str, tuple[Account, float]] = request.app.state.__dict__.setdefault(
        "thirdparty_logins", {}
    )
    key = hashlib.sha256(value.encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    account = await service.gateway.accounts.login(
        *_basic(value), client=request.client.host if request.client else ""
    )
    if len(cache) > 10_000:
        cache.clear()
    cache[key] = (account, time.monotonic() + LOGIN_CACHE)
    return account


Caller = Annotated[Account, Depends(caller)]


# --- shapes ---------------------------------------------------------------------------------------


class TextIn(BaseModel):
    model_config = Loose
    text: str = Field(max_length=65535)


class MessageIn(BaseModel):
    model_config = Loose
    id: str | None = Field(None, max_length=36)
    deviceId: str | None = Field(None, max_length=64)
    message: str | None = Field(None, max_length=65535)
    textMessage: TextIn | None = None
    dataMessage: dict[str, Any] | None = None
    mmsMessage: dict[str, Any] | None = None
    phoneNumbers: list[str] = Field(min_length=1, max_length=100)
    simNumber: int | None = Field(None, ge=1, le=8)
    withDeliveryReport: bool = True
    isEncrypted: bool = False
    priority: int = Field(0, ge=-128, le=127)
    ttl: int | None = Field(None, ge=5)
    validUntil: AwareDatetime | None = None
    scheduleAt: AwareDatetime | None = None


class WebhookIn(BaseModel):
    model_config = Loose
    id: str | None = Field(None, max_length=36)
    deviceId: str | None = Field(None, max_length=64)
    url: str = Field(max_length=2048)
    event: str


class RefreshIn(BaseModel):
    model_config = Loose
    deviceId: str | None = Field(None, max_length=64)
    since: AwareDatetime
    until: AwareDatetime
    messageTypes: list[str] | None = None
    webhookDelivery: str | None = None


def _device_id(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise errors.InvalidDevice(f"device {text!r} does not exist in this account")
    return int(text)


def message_state(
    key: str, members: list[Message], cancelling: set[int], *, content: bool = False
) -> dict[str, Any]:
    states = [wire.app_state(m, cancelling=m.id in cancelling) for m in members]
    first = members[0]
    recipients = []
    for m, state in zip(members, states, strict=True):
        recipient: dict[str, Any] = {"phoneNumber": m.to, "state": state}
        if state == "Failed":
            recipient["error"] = wire.error_of(m)
        recipients.append(recipient)
    history: dict[str, str] = {}
    for name, column in (
        ("Pending", "created_at"),
        ("Processed", "taken_at"),
        ("Sent", "sent_at"),
        ("Delivered", "delivered_at"),
        ("Failed", "failed_at"),
        ("Cancelled", "cancelled_at"),
    ):
        times = [getattr(m, column) for m in members if getattr(m, column) is not None]
        if name == "Failed":
            times += [m.expired_at for m in members if m.expired_at is not None]
        if times:
            history[name] = wire.stamp(max(times)) or ""
    out: dict[str, Any] = {
        "id": key,
        "state": wire.combined(states),
        "isHashed": False,
        "isEncrypted": False,
        "recipients": recipients,
        "states": history,
        "createdAt": wire.stamp(first.created_at),
    }
    device = next((m.device_id for m in members if m.device_id is not None), None)
    if device is not None:
        out["deviceId"] = str(device)
    if content:
        out["textMessage"] = {"text": first.text}
    return out


def _key(m: Message) -> str:
    """The client API's id of a message: its group's (the client's id), else, from before groups,
    its reference; a message of another door, its own id."""
    if m.group_id is not None:
        return wire.phone_id(m)
    return m.reference or str(m.id)


async def _members(request: Request, key: str, account: Account) -> list[Message]:
    service = service_of(request)
    found = await service.find_by_reference(key, account=account)
    if not found and key.isdigit():
        try:
            message = await service.gateway.messages.get(int(key), account=account)
        except errors.NotFound:
            message = None
        if message is not None and wire.phone_id(message) == key:
            found = [message]
    if not found:
        raise errors.NotFound(f"message {key} not found")
    return found


async def _state(
    request: Request, key: str, members: list[Message], *, content: bool = False
) -> dict[str, Any]:
    leased = [m.id for m in members if m.state is State.LEASED]
    cancelling = await service_of(request).cancel_requested(leased) if leased else set()
    return message_state(key, members, cancelling, content=content)


# --- messages -------------------------------------------------------------------------------------


async def _active_devices(request: Request, account: Account, hours: int) -> tuple[int, ...]:
    now = service_of(request).gateway.now()
    found = await service_of(request).gateway.devices.list(account=account)
    active = tuple(
        d.id
        for d in found
        if d.can_send
        and (
            (d.last_seen_at is None and d.kind.value != "android")
            or (d.last_seen_at is not None and now - d.last_seen_at <= timedelta(hours=hours))
        )
    )
    if not active:
        raise errors.InvalidDevice(f"no device of this account was active within {hours} hours")
    return active


@router.post("/messages", status_code=202)
@router.post("/message", status_code=202, include_in_schema=False)
async def send(
    body: MessageIn, request: Request, account: Caller, deviceActiveWithin: int = 0
) -> Response:
    if body.dataMessage is not None or body.mmsMessage is not None:
        raise errors.InvalidInput("smsgate sends text messages only: use textMessage")
    if body.isEncrypted:
        raise errors.InvalidInput("smsgate does not carry end-to-end encrypted messages")
    text_ = body.textMessage.text if body.textMessage is not None else body.message
    if text_ is None:
        raise errors.InvalidInput("the message needs textMessage.text")
    if body.ttl is not None and body.validUntil is not None:
        raise errors.InvalidInput("give ttl or validUntil, not both")
    service = service_of(request)
    key = body.id or secrets.token_urlsafe(15)
    device = _device_id(body.deviceId)
    devices: tuple[int, ...] = (device,) if device is not None else ()
    if not devices and deviceActiveWithin > 0:
        devices = await _active_devices(request, account, deviceActiveWithin)
    sent = await service.send(
        SendRequest(
            to=tuple(body.phoneNumbers),
            text=text_,
            devices=devices,
            sim_slot=body.simNumber,
            priority=body.priority,
            send_at=body.scheduleAt,
            valid_until=body.validUntil,
            valid_for=timedelta(seconds=body.ttl) if body.ttl else None,
        ),
        key,
        account=account,
    )
    answer_ = schemas.json(message_state(key, sent, set()), 202)
    answer_.headers["Location"] = f"{PREFIX}/messages/{key}"
    return answer_


@router.get("/messages")
async def list_messages(
    request: Request,
    account: Caller,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    state: Literal["Pending", "Processed", "Sent", "Delivered", "Failed", "Cancelled", "Cancelling"]
    | None = None,
    deviceId: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    includeContent: bool = False,
    sort: Literal["created_at", "-created_at"] = "-created_at",
) -> Response:
    service = service_of(request)
    device = _device_id(deviceId)
    states = wire.APP_TO_CORE.get("Pending" if state == "Cancelling" else state) if state else None
    f = MessageFilter(
        states=states,
        device_ids=(device,) if device is not None else None,
        since=from_,
        until=to,
        limit=500,
        ascending=sort == "created_at",
    )
    groups: dict[str, list[Message]] = {}
    scanned = 0
    while True:
        page = await service.gateway.messages.list(f, account=account)
        for m in page.items:
            groups.setdefault(_key(m), []).append(m)
        scanned += len(page.items)
        if page.next_before_id is None or len(groups) > offset + limit or scanned >= 20_000:
            break
        f = replace(f, before_id=page.next_before_id)
    out = []
    for key in list(groups)[offset : offset + limit]:
        members = (
            groups[key]
            if groups[key][0].group_id is None and groups[key][0].reference is None
            else await service.find_by_reference(key, account=account)
        )
        out.append(
            await _state(request, key, sorted(members, key=lambda m: m.id), content=includeContent)
        )
    response = schemas.json(out)
    response.headers["X-Total-Count"] = str(len(groups))
    return response


@router.get("/messages/{key}")
async def get_message(
    key: str, request: Request, account: Caller, includeContent: bool = False
) -> Response:
    return schemas.json(
        await _state(request, key, await _members(request, key, account), content=includeContent)
    )


@router.delete("/messages/{key}")
async def cancel_message(key: str, request: Request, account: Caller) -> Response:
    service = service_of(request)
    members = await _members(request, key, account)
    pending = [m for m in members if wire.CORE_TO_APP[m.state] == "Pending"]
    if not pending:
        raise errors.Conflict(
            f"message {key} is {wire.combined([wire.app_state(m) for m in members])}: only Pending messages can be cancelled"
        )
    for m in pending:
        try:
            await service.gateway.messages.cancel(m.id, account=account)
        except errors.Conflict:
            pass  # a device took it meanwhile: its states go on
    return schemas.json(await _state(request, key, await _members(request, key, account)))


# --- inbox ----------------------------------------------------------------------------------------


@router.post("/inbox/refresh", status_code=202)
@router.post("/messages/inbox/export", status_code=202, include_in_schema=False)
async def refresh_inbox(body: RefreshIn, request: Request, account: Caller) -> Response:
    """The phones read their inbox again in that window and send each SMS through their webhooks."""
    if body.until < body.since:
        raise errors.InvalidInput("until is before since")
    service = service_of(request)
    device = _device_id(body.deviceId)
    if device is not None:
        await service.gateway.devices.get(device, account=account)
    types = ",".join(body.messageTypes) if body.messageTypes else "SMS,MMS"
    data = {
        "since": wire.stamp(body.since) or "",
        "until": wire.stamp(body.until) or "",
        "messageTypes": types,
        "triggerWebhooks": "false" if body.webhookDelivery == "Disabled" else "true",
    }
    service.gateway.dispatch.push_event(account.id, device, "MessagesExportRequested", data)
    return schemas.json({}, 202)


def incoming(i: Inbound) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(i.id),
        "type": "SMS",
        "sender": i.sender,
        "contentPreview": i.text,
        "createdAt": wire.stamp(i.received_at),
    }
    if i.sim_slot is not None:
        out["simNumber"] = i.sim_slot
    if i.device_id is not None:
        out["deviceId"] = str(i.device_id)
    return out


@router.get("/inbox")
async def list_inbox(
    request: Request,
    account: Caller,
    type_: Annotated[str | None, Query(alias="type")] = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    deviceId: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    if type_ not in (None, "SMS"):
        return schemas.json([])  # smsgate keeps text SMS only
    device = _device_id(deviceId)
    f = MessageFilter(
        device_ids=(device,) if device is not None else None,
        since=from_,
        until=to,
        limit=offset + limit,
    )
    page = await service_of(request).gateway.inbound.list(f, account=account)
    return schemas.json([incoming(i) for i in page.items[offset:]])


@router.get("/inbox/{message_id}/attachments/{part_id}")
async def attachment(message_id: str, part_id: str, account: Caller) -> Response:
    raise errors.NotFound(
        f"message {message_id} has no attachment {part_id}: smsgate keeps text SMS only"
    )


# --- devices --------------------------------------------------------------------------------------


def device_out(d: Device) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(d.id),
        "name": d.name,
        "createdAt": wire.stamp(d.created_at),
        "updatedAt": wire.stamp(d.last_seen_at or d.created_at),
        "lastSeen": wire.stamp(d.last_seen_at or d.created_at),
    }
    if d.sims:
        out["simCards"] = [
            {
                k: v
                for k, v in {
                    "slotIndex": s.slot - 1,
                    "simNumber": s.slot,
                    "phoneNumber": s.number,
                    "carrierName": s.carrier,
                }.items()
                if v is not None
            }
            for s in d.sims
        ]
    return out


@router.get("/devices")
@router.get("/device", include_in_schema=False)
async def list_devices(request: Request, account: Caller) -> Response:
    return schemas.json(
        [device_out(d) for d in await service_of(request).gateway.devices.list(account=account)]
    )


@router.delete("/devices/{device_id}", status_code=204)
async def remove_device(device_id: str, request: Request, account: Caller) -> Response:
    found = _device_id(device_id)
    if found is None:
        raise errors.NotFound("which device?")
    try:
        await service_of(request).gateway.devices.archive(found, account=account)
    except errors.InvalidDevice:
        raise errors.NotFound(f"device {device_id} not found") from None
    return Response(status_code=204)


# --- webhooks and settings ------------------------------------------------------------------------


def webhook_out(h: AppWebhook) -> dict[str, Any]:
    out: dict[str, Any] = {"id": h.id, "url": h.url, "event": h.event}
    if h.device_id is not None:
        out["deviceId"] = str(h.device_id)
    return out


@router.get("/webhooks")
async def list_webhooks(request: Request, account: Caller) -> Response:
    return schemas.json(
        [webhook_out(h) for h in await service_of(request).list_webhooks(account=account)]
    )


@router.post("/webhooks", status_code=201)
async def create_webhook(body: WebhookIn, request: Request, account: Caller) -> Response:
    """Stored here, called by the phones themselves (they need https, or http://127.0.0.1)."""
    if not (body.url.startswith("https://") or body.url.startswith("http://127.0.0.1")):
        raise errors.InvalidInput("the phones call webhooks over https:// only")
    if body.event not in wire.EVENTS:
        raise errors.InvalidInput(f"unknown event {body.event!r}; known: {', '.join(wire.EVENTS)}")
    service = service_of(request)
    device = _device_id(body.deviceId)
    if device is not None:
        await service.gateway.devices.get(device, account=account)
    hook = AppWebhook(
        id=body.id or secrets.token_urlsafe(15), device_id=device, url=body.url, event=body.event
    )
    await service.put_webhook(hook, account=account)
    service.gateway.dispatch.push_event(account.id, device, "WebhooksUpdated")
    return schemas.json(webhook_out(hook), 201)


@router.delete("/webhooks/{hook_id}", status_code=204)
async def delete_webhook(hook_id: str, request: Request, account: Caller) -> Response:
    service = service_of(request)
    await service.delete_webhook(hook_id, account=account)
    service.gateway.dispatch.push_event(account.id, None, "WebhooksUpdated")
    return Response(status_code=204)


@router.get("/settings")
async def get_settings(request: Request, account: Caller) -> Response:
    return schemas.json(await service_of(request).get_settings(account=account))


async def _save_settings(
    request: Request, account: Account, body: dict[str, Any], *, merge: bool
) -> Response:
    if not isinstance(body, dict):
        raise errors.InvalidInput("the settings are a JSON object of sections")
    try:
        changes = wire.checked_settings(body)
    except ValueError as exc:
        raise errors.InvalidInput(str(exc)) from None
    service = service_of(request)
    settings = await service.get_settings(account=account) if merge else {}
    for section, values in changes.items():
        settings[section] = {**settings.get(section, {}), **values} if merge else values
    await service.put_settings(settings, account=account)
    service.gateway.dispatch.push_event(account.id, None, "SettingsUpdated")
    return schemas.json(settings)


@router.put("/settings")
async def put_settings(body: dict[str, Any], request: Request, account: Caller) -> Response:
    return await _save_settings(request, account, body, merge=False)


@router.patch("/settings")
async def patch_settings(body: dict[str, Any], request: Request, account: Caller) -> Response:
    return await _save_settings(request, account, body, merge=True)


# --- health, and what smsgate does not do ---------------------------------------------------------


@router.get("/health")
@router.get("/health/live", include_in_schema=False)
@router.get("/health/ready", include_in_schema=False)
@router.get("/health/startup", include_in_schema=False)
async def health(request: Request) -> Response:
    started = time.monotonic()
    try:
        async with request.app.state.app.db.read() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        failed = {"status": "fail", "description": "the database does not answer"}
        return schemas.json(
            {
                "status": "fail",
                "version": __version__,
                "releaseId": 0,
                "checks": {"db:ping": failed},
            },
            503,
        )
    passed = {
        "status": "pass",
        "description": "database round trip",
        "observedUnit": "ms",
        "observedValue": round((time.monotonic() - started) * 1000),
    }
    return schemas.json(
        {"status": "pass", "version": __version__, "releaseId": 0, "checks": {"db:ping": passed}}
    )


@router.get("/logs")
async def logs(account: Caller) -> Response:
    return answer(501, "the phones' logs stay on the phones")


@router.post("/auth/token")
@router.post("/auth/token/refresh")
@router.delete("/auth/token/{jti}")
async def tokens(jti: str | None = None) -> Response:
    """Whatever the credentials: there is no token here to issue, refresh or revoke."""
    return answer(
        501,
        "smsgate issues no JWTs: create an API key (smsgate keys create) and use it as the Bearer token",
    )
