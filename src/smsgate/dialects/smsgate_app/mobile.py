"""/api/mobile/v1: the private-server protocol of the SMSGate app (M1-M10), a translation only.

POST  /device            register (Bearer <an API key of the account> | Basic email:password | Code <digits>)
GET   /device            the caller's public IP (and its device, when the token is known)
PATCH /device            push token and SIM inventory
GET   /message           work for the phone (order=lifo|fifo); it stays leased to that phone
PATCH /message           per-message state changes, with per-recipient states and times
GET   /webhooks          the webhook list the phone installs (smsgate's own, plus the client's)
GET   /settings          pace, quota, signing key, SSE_ONLY
GET   /events            text/event-stream: MessageEnqueued, MessageCancelled, ... (keep-alive 15 s)
GET   /user/code         a one-time sign-in code (Basic)
PATCH /user/password     change the account's password
POST  /hooks/{secret}    where the phone's webhooks come back (see hooks.py)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from smsgate.api import auth, schemas
from smsgate.core import errors
from smsgate.core.accounts import Account
from smsgate.core.devices import Device, Heartbeat, Sim
from smsgate.core.messages import Message, Reason, Report, ReportResult, State
from smsgate.dialects.smsgate_app import wire
from smsgate.dialects.smsgate_app.service import AppService, service_of

log = logging.getLogger(__name__)

PREFIX = "/api/mobile/v1"
router = APIRouter(prefix=PREFIX, tags=["SMSGate app: mobile API"])
Phone = Annotated[Device, Depends(auth.device)]
Loose = ConfigDict(
    extra="ignore"
)  # newer app releases add fields; they must not break older servers

KEEPALIVE = 15.0  # seconds between `:keepalive` comments on an idle event stream
PULL_LIMIT = 100


class SimCardIn(BaseModel):
    model_config = Loose
    slotIndex: int | None = Field(None, ge=0, le=7)
    simNumber: int = Field(ge=1, le=8)
    phoneNumber: str | None = Field(None, max_length=64)
    carrierName: str | None = Field(None, max_length=100)
    iccid: str | None = Field(None, max_length=64)


class RegisterIn(BaseModel):
    model_config = Loose
    name: str | None = Field(None, max_length=200)
    pushToken: str | None = Field(None, max_length=256)
    simCards: list[SimCardIn] | None = Field(None, max_length=8)


class DevicePatchIn(BaseModel):
    model_config = Loose
    id: str = Field(max_length=64)
    pushToken: str | None = Field(None, max_length=256)
    simCards: list[SimCardIn] | None = Field(None, max_length=8)


class RecipientIn(BaseModel):
    model_config = Loose
    phoneNumber: str = Field(max_length=64)
    state: str
    error: str | None = Field(None, max_length=1000)


class MessagePatchIn(BaseModel):
    model_config = Loose
    id: str = Field(max_length=64)
    state: str
    recipients: list[RecipientIn] = Field(default_factory=list, max_length=100)
    states: dict[str, str] = Field(default_factory=dict)


class PasswordIn(BaseModel):
    model_config = Loose
    currentPassword: str = Field(max_length=200)
    newPassword: str = Field(min_length=14, max_length=200)


# --- who is calling -------------------------------------------------------------------------------


def _credentials(request: Request) -> tuple[str, str]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return scheme.lower(), value.strip()


def _basic(value: str) -> tuple[str, str]:
    try:
        login, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.Unauthorized(
            "the Basic credentials are not base64 of login:password"
        ) from None
    if not sep:
        raise errors.Unauthorized("the Basic credentials are not login:password")
    return login, password


async def _registrant(request: Request) -> Account:
    """The account a new phone joins: an API key of it as the app's private token, its login, or a code."""
    service = service_of(request)
    scheme, value = _credentials(request)
    if scheme == "bearer" and value:
        return await service.gateway.accounts.authenticate(value)
    if scheme == "basic" and value:
        return await service.gateway.accounts.login(
            *_basic(value), client=request.client.host if request.client else ""
        )
    if scheme == "code" and value:
        return await service.sign_in_with_code(
            value, client=request.client.host if request.client else ""
        )
    raise errors.Unauthorized(
        "set the app's private token to an API key of your smsgate account, or sign in"
    )


async def _seen(request: Request, device: Device, **beat: Any) -> Device:
    """Remembers the app's version from `User-Agent` (the stream's agent is okhttp, not the app)."""
    version = wire.agent_version(request.headers.get("user-agent"))
    if version is not None and version != device.app_version:
        beat["app_version"] = version
        device = replace(device, app_version=version)
    await service_of(request).gateway.devices.heartbeat(device, Heartbeat(**beat))
    return device


def sims_of(cards: list[SimCardIn]) -> tuple[Sim, ...]:
    return tuple(
        Sim(slot=c.simNumber, number=c.phoneNumber, carrier=c.carrierName)
        for c in sorted(cards, key=lambda c: c.simNumber)
    )


def _json(data: Any, status: int = 200) -> Response:
    return schemas.json(data, status)


# --- M1-M3: the device ----------------------------------------------------------------------------


@router.post("/device", status_code=201)
async def register(body: RegisterIn, request: Request) -> Response:
    account = await _registrant(request)
    service = service_of(request)
    name = (body.name or "").strip() or "Android phone"
    device, token = await service.gateway.devices.register(name, account=account)
    await service.link_device(device)
    if body.pushToken:
        await service.set_push_token(device, body.pushToken)
    maker, _, model = name.partition("/")
    beat: dict[str, Any] = {"manufacturer": maker[:100] or None, "model": model[:100] or None}
    if body.simCards is not None:
        beat["sims"] = sims_of(body.simCards)
    await _seen(request, device, **beat)
    return _json({"id": str(device.id), "token": token, "login": account.email}, 201)


@router.get("/device")
async def whoami(request: Request) -> Response:
    """Only `externalIp` is read by the app; an unknown token is no error here."""
    out: dict[str, Any] = {"externalIp": request.client.host if request.client else None}
    scheme, value = _credentials(request)
    if scheme == "bearer" and value:
        with contextlib.suppress(errors.Unauthorized):
            device = await service_of(request).gateway.devices.authenticate(value)
            out["device"] = {
                "id": str(device.id),
                "name": device.name,
                "createdAt": wire.stamp(device.created_at),
                "lastSeen": wire.stamp(device.last_seen_at),
            }
    return _json(out)


@router.patch("/device", status_code=204)
async def patch_device(body: DevicePatchIn, request: Request, device: Phone) -> Response:
    if body.id != str(device.id):
        raise errors.Forbidden(f"device {body.id} is not the one this token belongs to")
    service = service_of(request)
    await service.link_device(device)
    await service.set_push_token(
        device, body.pushToken
    )  # absent = SSE_ONLY: forget the stale token
    await _seen(
        request, device, **({"sims": sims_of(body.simCards)} if body.simCards is not None else {})
    )
    return Response(status_code=204)


# --- M4, M5: work and its states ------------------------------------------------------------------


@router.get("/message")
@router.get("/messages", include_in_schema=False)
async def pull(
    request: Request, device: Phone, order: Literal["lifo", "fifo"] = "lifo"
) -> Response:
    device = await _seen(request, device)
    held = await service_of(request).pull_held(device, limit=PULL_LIMIT)
    can_cancel = wire.knows(device, wire.CANCELLING)
    work: dict[str, tuple[list[Message], bool]] = {}  # one entry per app message, by its id
    for m, cancel in held:
        members, asked = work.setdefault(wire.phone_id(m), ([], False))
        members.append(m)
        work[wire.phone_id(m)] = (members, asked or cancel)
    # an older app would *send* a Cancelling one
    pulled = [(ms, c) for ms, c in work.values() if can_cancel or not c]
    fifo = order == "fifo"
    pulled.sort(
        key=lambda mc: (
            mc[0][0].send_at is not None,
            mc[0][0].send_at or mc[0][0].created_at,
            -mc[0][0].priority,
            mc[0][0].id if fifo else -mc[0][0].id,
        )
    )
    return _json([wire.mobile_message(ms, device, cancelling=c) for ms, c in pulled])


def _reports(message_id: int, to: str, item: MessagePatchIn) -> list[Report]:
    """The phone's history of one recipient as core reports, oldest first."""
    recipient = next(
        (r for r in item.recipients if r.phoneNumber.lstrip("+") == to.lstrip("+")), None
    )
    state = recipient.state if recipient is not None else item.state
    times = {k: wire.parse_time(v) for k, v in item.states.items()}
    chain: list[Report] = []
    error = recipient.error if recipient is not None else None
    if len(item.recipients) > 1:  # the history is the message's: "Sent" may be another recipient's
        failed_late = wire.reason_of(error) is Reason.REJECTED
    else:
        failed_late = "Sent" in times
    sent = state in ("Sent", "Delivered") or (state == "Failed" and failed_late)
    if state == "Processed" or (state in ("Sent", "Delivered", "Failed") and "Processed" in times):
        chain.append(Report(message_id=message_id, state=State.TAKEN, at=times.get("Processed")))
    if sent:
        chain.append(Report(message_id=message_id, state=State.SENT, at=times.get("Sent")))
    if state == "Delivered":
        chain.append(
            Report(message_id=message_id, state=State.DELIVERED, at=times.get("Delivered"))
        )
    elif state == "Failed":
        reason = wire.reason_of(error)
        chain.append(
            Report(
                message_id=message_id,
                state=State.UNDELIVERED if sent else State.FAILED,
                reason=reason,
                at=times.get("Failed"),
            )
        )
    return chain


def _cancelled(to: str, item: MessagePatchIn) -> bool:
    recipient = next(
        (r for r in item.recipients if r.phoneNumber.lstrip("+") == to.lstrip("+")), None
    )
    return (recipient.state if recipient is not None else item.state) == "Cancelled"


def clamp(reports: list[Report], service: AppService) -> list[Report]:
    """A phone's clock may run ahead: no state is recorded as later than now."""
    now = service.gateway.now()
    return [replace(r, at=min(r.at, now) if r.at is not None else None) for r in reports]


async def apply_states(
    service: AppService, device: Device, items: list[MessagePatchIn]
) -> list[str]:
    """Applies the phone's state changes; returns the ids it named that are not its messages."""
    unknown: list[str] = []
    acks: list[int] = []
    reports: list[Report] = []
    for item in items:
        members = await service.on_device(device, item.id)
        if not members:
            unknown.append(item.id)
            continue
        for message in members:
            acks.append(message.id)  # whatever its state, the phone has it
            if _cancelled(message.to, item):
                await service.confirm_cancel(
                    device, message.id, at=wire.parse_time(item.states.get("Cancelled"))
                )
                continue
            reports.extend(_reports(message.id, message.to, item))
    await service.acknowledge(device, acks)
    if reports:
        results: list[ReportResult] = await service.gateway.dispatch.report(
            device, clamp(reports, service)
        )
        for result in results:
            if not result.applied and result.detail and not result.detail.startswith("already"):
                log.info(
                    "report on message %s from device %s: %s",
                    result.message_id,
                    device.id,
                    result.detail,
                )
    return unknown


@router.patch("/message", status_code=204)
@router.patch("/messages", status_code=204, include_in_schema=False)
async def patch_messages(items: list[MessagePatchIn], request: Request, device: Phone) -> Response:
    device = await _seen(request, device)
    if len(items) > 1000:
        raise errors.InvalidInput("at most 1000 message states at once")
    unknown = await apply_states(service_of(request), device, items)
    if unknown and len(unknown) == len(items):
        raise errors.NotFound(f"no message {', '.join(unknown[:10])} was given to this device")
    return Response(status_code=204)


# --- M6, M7: webhooks and settings ----------------------------------------------------------------


def hook_url(request: Request, secret: str) -> str:
    running = getattr(request.app.state, "app", None)
    public = (running.settings.public_url if running is not None else "") or str(request.base_url)
    return f"{public.rstrip('/')}{PREFIX}/hooks/{secret}"


@router.get("/webhooks")
async def webhooks(request: Request, device: Phone) -> Response:
    device = await _seen(request, device)
    service = service_of(request)
    link = await service.link_device(device)
    url = hook_url(request, link.hook_secret)
    out: list[dict[str, str | None]] = [
        {"id": f"smsgate-{event.replace(':', '-')}", "url": url, "event": event}
        for event in wire.OUR_EVENTS
        if wire.knows(device, wire.EVENTS[event])
    ]
    for hook in await service.list_webhooks(
        account=await service.gateway.accounts.get(device.account_id)
    ):
        known = hook.event in wire.EVENTS and wire.knows(device, wire.EVENTS[hook.event])
        if known and hook.device_id in (None, device.id):
            out.append(
                {
                    "id": hook.id,
                    "deviceId": str(hook.device_id) if hook.device_id else None,
                    "url": hook.url,
                    "event": hook.event,
                }
            )
    return _json([{k: v for k, v in h.items() if v is not None} for h in out])


@router.get("/settings")
async def settings(request: Request, device: Phone) -> Response:
    device = await _seen(request, device)
    service = service_of(request)
    link = await service.link_device(device)
    if not wire.knows(device, wire.SETTINGS):
        return _json({})
    stored = await service.get_settings(
        account=await service.gateway.accounts.get(device.account_id)
    )
    return _json(wire.device_settings(device, stored, link.signing_key))


# --- M8: the event stream -------------------------------------------------------------------------


def frame(kind: str, data: dict[str, str] | None) -> bytes:
    """Every event carries a `data:` line: the app drops an event without one."""
    return (
        b"event: "
        + kind.encode()
        + b"\ndata: "
        + (orjson.dumps(data) if data is not None else b"null")
        + b"\n\n"
    )


@router.get("/events")
async def events(request: Request, device: Phone) -> StreamingResponse:
    service = service_of(request)
    stream = service.gateway.dispatch.open_stream(device)
    await service.stream_seen(device, open_=True)

    async def body() -> AsyncIterator[bytes]:
        try:
            while True:
                try:
                    await asyncio.wait_for(stream.woken.wait(), KEEPALIVE)
                except TimeoutError:
                    yield b":keepalive\n\n"
                    await service.stream_seen(device, open_=True)
                    continue
                for kind, data in stream.take():
                    if wire.knows(device, wire.STREAM_EVENTS.get(kind, (99, 0, 0))):
                        yield frame(kind, data)
        finally:
            service.gateway.dispatch.close_stream(stream)
            if not service.gateway.dispatch.connected(device):
                with contextlib.suppress(Exception):
                    await service.stream_seen(device, open_=False)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)


# --- M9, M10: the user ----------------------------------------------------------------------------


@router.get("/user/code")
async def user_code(request: Request) -> Response:
    scheme, value = _credentials(request)
    if scheme != "basic" or not value:
        raise errors.Unauthorized("sign in with Basic login:password to get a code")
    service = service_of(request)
    account = await service.gateway.accounts.login(
        *_basic(value), client=request.client.host if request.client else ""
    )
    code, valid_until = await service.new_sign_in_code(account)
    return _json({"code": code, "validUntil": wire.stamp(valid_until)})


@router.patch("/user/password", status_code=204)
async def change_password(body: PasswordIn, request: Request, device: Phone) -> Response:
    service = service_of(request)
    account = await service.gateway.accounts.get(device.account_id)
    await service.gateway.accounts.change_password(
        account,
        body.currentPassword,
        body.newPassword,
        client=request.client.host if request.client else "",
    )
    return Response(status_code=204)
