"""The native API's request and answer shapes (they are its OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from smsgate.core import billing
from smsgate.core.accounts import ApiKey
from smsgate.core.devices import Device, Kind, Limits, Period
from smsgate.core.messages import Inbound, Message, Priority, State

Strict = ConfigDict(extra="forbid")


class SendBody(BaseModel):
    model_config = Strict
    to: Annotated[
        str | list[str], Field(description="one number, or a list: one message per recipient")
    ]
    text: str = Field(min_length=1, max_length=10_000)
    devices: list[int] = Field(
        default_factory=list,
        description="spread over these devices; empty = any device of the account",
    )
    sim: int | None = Field(None, ge=1, le=8, description="SIM slot, 1-based")
    priority: Literal["normal", "urgent"] = "normal"
    send_at: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    validity: int | None = Field(
        None, ge=1, le=30 * 86400, description="seconds the message stays sendable"
    )
    reference: str | None = Field(
        None, max_length=100, description="your own id; it comes back with the message"
    )
    sender: str | None = Field(
        None,
        alias="from",
        max_length=32,
        description="a two-way number of the account: sent through its SIM; replies reach its webhooks",
    )
    sender_name: str | None = Field(
        None, max_length=64, description="one of the account's sender names (recorded)"
    )
    test: bool = Field(
        False,
        description="test mode: only the simulated phone takes it (no SMS leaves); a send that "
        "names no device is in test mode anyway while the account has no real device",
    )


class BatchBody(BaseModel):
    """The batch as documented: each message is a SendBody."""

    model_config = Strict
    messages: list[SendBody] = Field(min_length=1, max_length=100_000)
    atomic: bool = Field(
        False,
        description="all or nothing: one invalid message refuses the whole batch (422) and "
        "nothing is written. Default: each message on its own, the invalid ones listed in `refused`",
    )


class BatchEnvelope(BaseModel):
    """The batch as read: the envelope first, then each message on its own (so one bad message
    is refused alone, with its index)."""

    model_config = Strict
    messages: list[Any] = Field(min_length=1, max_length=100_000)
    atomic: bool = False


class MessageOut(BaseModel):
    id: int
    to: str
    to_original: str
    country: str | None
    text: str
    encoding: str
    segments: int
    status: State
    reason: str | None
    priority: Literal["normal", "urgent"]
    devices: list[int]
    device_id: int | None
    sim: int | None
    reference: str | None
    campaign_id: int | None = Field(None, description="the campaign it was expanded from")
    attempts: int
    send_at: datetime | None
    valid_until: datetime | None
    created_at: datetime
    queued_at: datetime | None
    leased_at: datetime | None
    taken_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    cancelled_at: datetime | None
    expired_at: datetime | None
    operator: str = Field(description="the number's operator (its range's; a port is not seen)")
    region: str = Field(description="where the number's range belongs, if finer than the country")
    number_type: str = Field(description="mobile, fixed_line, voip, toll_free, ...")
    mccmnc: str = Field(description="mobile country (and network) code where known")
    cost: str = Field(description="what the message costs (all parts), taken from the balance")
    sender_name: str = Field(description="the sender name asked for")
    test: bool = Field(
        description="test mode: for the simulated phone; its statuses are test results, no SMS left"
    )


class MessagesOut(BaseModel):
    messages: list[MessageOut]
    next_cursor: str | None = None


class RefusedOut(BaseModel):
    index: int = Field(description="the message's place in the request's `messages`, from 0")
    reference: str | None = Field(None, description="its `reference`, if it had one")
    status: int = Field(description="the HTTP status it would have had alone")
    type: str = Field(description="the problem type, as in problem+json answers")
    detail: str


class BatchMessageOut(MessageOut):
    index: int = Field(description="the place in the request's `messages` it came from")


class BatchOut(BaseModel):
    messages: list[BatchMessageOut]
    refused: list[RefusedOut] = Field(
        default_factory=list, description="the messages not accepted, and why"
    )


class InboundOut(BaseModel):
    id: int
    sender: str
    text: str
    device_id: int | None
    sim: int | None
    received_at: datetime
    created_at: datetime


class InboxOut(BaseModel):
    messages: list[InboundOut]
    next_cursor: str | None = None


class SimOut(BaseModel):
    slot: int
    number: str | None
    carrier: str | None


class LimitsBody(BaseModel):
    model_config = Strict
    pace_seconds: float | None = Field(
        None, ge=0, le=86400, description="minimum seconds between two messages"
    )
    per_minute: float | None = Field(
        None, gt=0, le=6000, description="or: at most this many messages a minute"
    )
    jitter_seconds: float | None = Field(
        None, ge=0, le=3600, description="a random extra wait of up to this"
    )
    quota: int | None = Field(None, ge=1, description="at most this many messages per period")
    quota_recipients: int | None = Field(
        None, ge=1, description="at most this many distinct recipients per period"
    )
    period: Period = Period.DAY
    window_start: str | None = Field(
        None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="send only from (HH:MM local)"
    )
    window_end: str | None = Field(
        None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="until (HH:MM local)"
    )
    timezone: str = Field(
        "UTC", max_length=64, description="IANA name: periods and the window are local to it"
    )


class DeviceBody(BaseModel):
    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["android", "simulator"] = "android"
    limits: LimitsBody | None = None


class DeviceChangeBody(BaseModel):
    model_config = Strict
    name: str | None = Field(None, min_length=1, max_length=200)
    enabled: bool | None = None
    limits: LimitsBody | None = None
    sim_limits: dict[int, LimitsBody] | None = Field(
        None, description="each SIM slot's own pace and quota; replaces all"
    )
    sim_numbers: dict[int, str] | None = Field(
        None,
        description="two-way numbers of the SIM slots (over what the phone reports); replaces all",
    )


class UsageOut(BaseModel):
    slot: int
    used: int
    quota: int | None
    recipients_used: int | None
    quota_recipients: int | None
    next_send_at: datetime | None


class DeviceQueueOut(BaseModel):
    device_id: int
    online: bool
    waiting: str = Field(
        description="ready, or why it takes nothing now: pace, at_quota, outside_window, device_offline..."
    )
    queued: int
    leased: int
    taken: int
    usage: list[UsageOut]


class WaitingOut(BaseModel):
    id: int
    waiting: str | None = Field(description="null once a device has it")
    detail: str


class DeviceOut(BaseModel):
    id: int
    name: str
    kind: Kind
    enabled: bool
    archived: bool
    online: bool
    connected: bool = Field(False, description="a phone's event stream is open right now")
    sims: list[SimOut]
    battery: int | None
    charging: bool | None
    last_seen_at: datetime | None
    app_version: str | None
    manufacturer: str | None
    model: str | None
    os_version: str | None
    limits: LimitsBody
    sim_limits: dict[str, LimitsBody] = Field(default_factory=dict)
    created_at: datetime
    token: str | None = Field(
        None, description="only in the answer that registered the device: keep it"
    )


class KeyBody(BaseModel):
    model_config = Strict
    name: str = Field("default", min_length=1, max_length=200)


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    key: str | None = Field(None, description="only in the answer that created the key: keep it")


# --- rendering (plain dicts and orjson: the send path must be cheap) ---------------------------


def _t(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def message(m: Message) -> dict[str, Any]:
    """Times stay datetimes: orjson writes them (RFC 3339) far faster than isoformat."""
    return {
        "id": m.id,
        "to": m.to,
        "to_original": m.to_original,
        "country": m.country,
        "text": m.text,
        "encoding": m.encoding,
        "segments": m.segments,
        "status": m.state.value,
        "reason": m.reason.value if m.reason else None,
        "priority": "urgent" if m.priority >= Priority.URGENT else "normal",
        "devices": list(m.devices),
        "device_id": m.device_id,
        "sim": m.sim_slot,
        "reference": m.reference,
        "from": m.sender,
        "attempts": m.attempts,
        "send_at": m.send_at,
        "valid_until": m.valid_until,
        "created_at": m.created_at,
        "queued_at": m.queued_at,
        "leased_at": m.leased_at,
        "taken_at": m.taken_at,
        "sent_at": m.sent_at,
        "delivered_at": m.delivered_at,
        "failed_at": m.failed_at,
        "cancelled_at": m.cancelled_at,
        "expired_at": m.expired_at,
        "operator": m.operator,
        "region": m.region,
        "number_type": m.number_type,
        "mccmnc": m.mccmnc,
        "cost": billing.shown(m.cost),
        "campaign_id": m.campaign_id,
        "sender_name": m.sender_name,
        "test": m.test,
    }


def inbound(i: Inbound) -> dict[str, Any]:
    return {
        "id": i.id,
        "sender": i.sender,
        "text": i.text,
        "device_id": i.device_id,
        "sim": i.sim_slot,
        "received_at": _t(i.received_at),
        "created_at": _t(i.created_at),
    }


def device(
    d: Device, *, online: bool, token: str | None = None, connected: bool = False
) -> dict[str, Any]:
    limits = d.limits
    return {
        "id": d.id,
        "name": d.name,
        "kind": d.kind.value,
        "enabled": d.enabled,
        "archived": d.archived,
        "online": online,
        "connected": connected,
        "sims": [{"slot": s.slot, "number": s.number, "carrier": s.carrier} for s in d.sims],
        "battery": d.battery,
        "charging": d.charging,
        "last_seen_at": _t(d.last_seen_at),
        "app_version": d.app_version,
        "manufacturer": d.manufacturer,
        "model": d.model,
        "os_version": d.os_version,
        "limits": limits_out(limits),
        "sim_limits": {str(s.slot): limits_out(s.limits) for s in d.sims if s.limits},
        "created_at": _t(d.created_at),
        "token": token,
    }


def limits_out(limits: Limits) -> dict[str, Any]:
    return {
        "pace_seconds": limits.pace.total_seconds() if limits.pace is not None else None,
        "per_minute": None,
        "jitter_seconds": limits.jitter.total_seconds() if limits.jitter is not None else None,
        "quota": limits.quota,
        "quota_recipients": limits.quota_recipients,
        "period": limits.period.value,
        "window_start": limits.window_start.isoformat("minutes") if limits.window_start else None,
        "window_end": limits.window_end.isoformat("minutes") if limits.window_end else None,
        "timezone": limits.timezone,
    }


def device_queue(state: Any) -> dict[str, Any]:
    d = state.device
    lim = {0: d.limits, **{s.slot: s.limits for s in d.sims}}
    usage = []
    for slot, u in sorted(state.queue.usage.items()):
        own = lim.get(slot)
        usage.append(
            {
                "slot": slot,
                "used": u.messages,
                "quota": own.quota if own else None,
                "recipients_used": len(u.recipients) if u.recipients is not None else None,
                "quota_recipients": own.quota_recipients if own else None,
                "next_send_at": _t(u.next_send_at),
            }
        )
    q = state.queue
    return {
        "device_id": d.id,
        "online": state.online,
        "waiting": state.waiting.value,
        "queued": q.queued,
        "leased": q.leased,
        "taken": q.taken,
        "usage": usage,
    }


def key(k: ApiKey, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "prefix": k.prefix,
        "created_at": _t(k.created_at),
        "revoked_at": _t(k.revoked_at),
        "key": secret,
    }


def json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")
