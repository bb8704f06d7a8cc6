"""Where the phone's webhooks come back: inbound SMS and per-message status, signed by the phone.

The URL carries an unguessable per-device secret (it names the device); the body is signed with
the per-device key smsgate provisions through the settings: `X-Signature` = hex
HMAC-SHA256(key, raw body + `X-Timestamp`). The signature is checked over the exact bytes received
(the app's JSON writer escapes characters a re-encoding would not). A timestamp outside a few
minutes is refused, and an inbound delivery that comes again (same envelope id) is taken in once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any, Final

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from smsgate.api import schemas
from smsgate.core import errors
from smsgate.core.devices import Device, Heartbeat
from smsgate.core.messages import Message, Report, State
from smsgate.dialects.smsgate_app import wire
from smsgate.dialects.smsgate_app.mobile import PREFIX, clamp, sims_of
from smsgate.dialects.smsgate_app.service import service_of

log = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, tags=["SMSGate app: mobile API"])

WINDOW: Final = 300  # seconds a signed webhook stays acceptable (the app signs each retry afresh)

STATUS_EVENTS: Final = {
    "sms:sent": (State.SENT, "sentAt"),
    "sms:delivered": (State.DELIVERED, "deliveredAt"),
    "sms:failed": (State.FAILED, "failedAt"),
}


def signature(key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def verify(
    key: str, body: bytes, timestamp: str | None, signed: str | None, *, now: float
) -> str | None:
    """None if the delivery is genuine and fresh; else why not."""
    if not timestamp or not signed:
        return "the webhook is not signed (X-Signature, X-Timestamp)"
    if not timestamp.isdigit() or abs(now - int(timestamp)) > WINDOW:
        return "the webhook's X-Timestamp is not within 5 minutes of now: replayed, or the phone's clock is off"
    if not hmac.compare_digest(signature(key, body, timestamp), signed.strip().lower()):
        return "the webhook's X-Signature does not match its body"
    return None


@router.post("/hooks/{secret}")
async def hook(secret: str, request: Request) -> Response:
    service = service_of(request)
    body = await request.body()
    found = await service.find_device_by_hook(secret)
    if found is None:
        raise errors.NotFound("no device has this webhook URL")
    device, link = found
    if wire.knows(
        device, wire.SIGNING
    ):  # releases before signing existed can only be known by the URL
        refused = verify(
            link.signing_key,
            body,
            request.headers.get("x-timestamp"),
            request.headers.get("x-signature"),
            now=time.time(),
        )
        if refused is not None:
            raise errors.Unauthorized(refused)
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise errors.InvalidInput("the webhook body is not JSON") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), dict):
        raise errors.InvalidInput("the webhook body has no payload")
    if envelope.get("deviceId") not in (None, str(device.id)):
        raise errors.Forbidden(
            f"device {envelope.get('deviceId')} is not the one this URL belongs to"
        )
    return schemas.json(await _take(request, device, envelope))


async def _take(request: Request, device: Device, envelope: dict[str, Any]) -> dict[str, Any]:
    service = service_of(request)
    event, payload = str(envelope.get("event")), envelope["payload"]
    delivery = str(envelope.get("id") or "")
    if event == "sms:received":
        sender = payload.get("sender") or payload.get("phoneNumber")
        if not isinstance(sender, str) or not sender.strip() or not delivery:
            raise errors.InvalidInput("an sms:received webhook needs its id and sender")
        received = wire.parse_time(payload.get("receivedAt"))
        sim = payload.get("simNumber") if isinstance(payload.get("simNumber"), int) else None
        stored = await service.receive_once(
            device, delivery, [(sender, str(payload.get("message") or ""), received, sim)]
        )
        return {"duplicate": True} if stored is None else {"ids": [i.id for i in stored]}
    if event == "sms:cancelled":
        at = wire.parse_time(payload.get("cancelledAt"))
        done = [
            await service.confirm_cancel(device, m.id, at=at)
            for m in await _members(request, device, payload)
        ]
        return {"applied": any(d is not None for d in done)}
    if event in STATUS_EVENTS:
        return await _status(request, device, event, payload)
    if event == "system:ping":
        await service.gateway.devices.heartbeat(device, _health(payload.get("health")))
    elif event == "app:started":
        cards = payload.get("simCards")
        from smsgate.dialects.smsgate_app.mobile import SimCardIn

        sims = (
            sims_of([SimCardIn.model_validate(c) for c in cards])
            if isinstance(cards, list)
            else None
        )
        await service.gateway.devices.heartbeat(device, Heartbeat(sims=sims))
    return {"ignored": event} if event not in ("system:ping", "app:started") else {}


async def _members(request: Request, device: Device, payload: dict[str, Any]) -> list[Message]:
    """The messages a status webhook is about: the recipient it names in the app message it names
    (every recipient of it when it names none)."""
    phone_id = str(payload.get("messageId") or "")
    members = await service_of(request).on_device(device, phone_id) if phone_id else []
    number = payload.get("phoneNumber") or payload.get("recipient")
    if isinstance(number, str) and number.strip() and len(members) > 1:
        wanted = number.strip().lstrip("+")
        members = [m for m in members if m.to.lstrip("+") == wanted]
    return members


async def _status(
    request: Request, device: Device, event: str, payload: dict[str, Any]
) -> dict[str, Any]:
    service = service_of(request)
    members = await _members(request, device, payload)
    if not members:
        raise errors.NotFound(
            f"no message {payload.get('messageId')!r} to that recipient was given to this device"
        )
    state, field = STATUS_EVENTS[event]
    reason = wire.reason_of(payload.get("reason")) if state is State.FAILED else None
    if state is State.FAILED and reason is not None and reason.value == "rejected":
        state = State.UNDELIVERED
    at = wire.parse_time(payload.get(field))
    reports = [Report(message_id=m.id, state=state, reason=reason, at=at) for m in members]
    results = await service.gateway.dispatch.report(device, clamp(reports, service))
    applied = [r for r in results if r.applied]
    final = (applied or results)[0]
    return {
        "applied": bool(applied),
        "state": final.state.value if final.state is not None else None,
    }


def _health(health: Any) -> Heartbeat:
    """`{"checks": {"battery:level": {"observedValue": 87}, "battery:charging": ...}}`, as far as present."""
    checks = health.get("checks") if isinstance(health, dict) else None
    if not isinstance(checks, dict):
        return Heartbeat()

    def value(name: str) -> Any:
        check = checks.get(name)
        return check.get("observedValue") if isinstance(check, dict) else None

    level, charging = value("battery:level"), value("battery:charging")
    return Heartbeat(
        battery=level if isinstance(level, int) and 0 <= level <= 100 else None,
        charging=bool(charging) if isinstance(charging, (int, bool)) else None,
    )
