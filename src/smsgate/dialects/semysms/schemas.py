"""SemySMS answers: the samples' field names, types and date format, filled from core values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import orjson
from fastapi.responses import Response

from smsgate.core import routing
from smsgate.core.devices import Device
from smsgate.core.messages import Inbound, Message, State

ERROR_STATES: Final = frozenset({State.FAILED, State.UNDELIVERED, State.EXPIRED})
PERIOD_CODES: Final = {"hour": "h", "day": "d", "month": "m"}


def when(value: datetime | None) -> str | None:
    """PostgreSQL's text form, as the samples show it: `2015-02-04 12:41:13.657724`,
    `2015-09-08 14:33:39.54061` (trailing zeros dropped), `2015-02-04 12:47:31` (none); UTC."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    shown = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        shown += "." + f"{value.microsecond:06d}".rstrip("0")
    return shown


def device_of(m: Message) -> int | None:
    """The device that has (or had) it; before that, the one device the client named, if one."""
    if m.device_id is not None:
        return m.device_id
    return m.devices[0] if len(m.devices) == 1 else None


def outbox(m: Message) -> dict[str, Any]:
    """One outgoing message; the flags come from the core state and its time stamps."""
    to_phone = m.leased_at or m.taken_at
    failed = m.state in ERROR_STATES
    return {
        "id": m.id,
        "phone": m.to_original,
        "date": when(m.created_at),
        "msg": m.text,
        "id_device": device_of(m),
        "send_to_phone": when(to_phone),
        "is_send_to_phone": int(to_phone is not None),
        "is_send": int(m.sent_at is not None),
        "send": when(m.sent_at),
        "is_delivered": int(m.state is State.DELIVERED),
        "delivered": when(m.delivered_at),
        "is_error": int(failed),
        "is_error_send": int(failed and m.sent_at is None),
        "error_date": when(m.failed_at or m.expired_at) if failed else None,
        "is_cancel": int(m.state is State.CANCELLED),
    }


def inbox(i: Inbound) -> dict[str, Any]:
    return {
        "id": i.id,
        "phone": i.sender,
        "date": when(i.received_at),
        "msg": i.text,
        "id_device": i.device_id,
    }


def device(d: Device, *, now: datetime, used: int | None = None) -> dict[str, Any]:
    """`used`: messages handed to the device in its current quota period."""
    limits = d.limits
    started = (
        routing.period_start(limits.period, now, limits.timezone)
        if limits.quota is not None
        else None
    )
    return {
        "id": d.id,
        "is_arhive": int(d.archived),
        "is_deliv": 1,  # smsgate always asks for delivery reports
        "is_work": int(d.can_send),
        "power": int(bool(d.charging)),
        "device_name": d.model or d.name,
        "dop_name": d.name if d.model else "",
        "speed_sms": round(limits.pace.total_seconds()) if limits.pace else 0,
        "date_last_active": when(d.last_seen_at),
        "version": d.app_version,
        "limit_phone": limits.quota,
        "limit_use": used if limits.quota is not None else None,
        "limit_date": when(started),
        "limit_period": PERIOD_CODES.get(limits.period.value, " ")
        if limits.quota is not None
        else " ",
        "manufacturer": d.manufacturer,
        "android_version": d.os_version,
        "bat": str(d.battery) if d.battery is not None else None,
    }


def listing(items: list[dict[str, Any]]) -> Response:
    """outbox/inbox and their deletes: `code` is the string "0" (laravel-semysms requires it)."""
    return json({"code": "0", "count": len(items), "data": items})


def json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")
