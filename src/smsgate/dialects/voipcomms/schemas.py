"""VoIP-Communications answers: the send_log entry of the vendor's sample, from a core message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import orjson
from fastapi.responses import Response

from smsgate.core import billing
from smsgate.core.messages import Message, State

BULK: Final = "BULKSMS"
TWO_WAY: Final = "2WAYSMS"
STATUS: Final = {State.LEASED: "SENDING", State.TAKEN: "SENDING"}  # the rest: upper-cased


def when(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


def digits(number: str | None) -> str:
    return number.lstrip("+") if number else ""


def entry(m: Message) -> dict[str, Any]:
    return {
        "code": 200,
        "code_desc": "",
        "from": digits(m.sender),
        "to": digits(m.to),
        "country": m.country or "",
        "msg": m.text,
        "delivery_date": when(m.send_at or m.created_at),
        "sale": float(billing.decimal(m.cost)),
        "type": TWO_WAY if m.sender else BULK,
        "status": STATUS.get(m.state, m.state.value.upper()),
        "smsid": str(m.id),
        "parts": m.segments,
    }


def json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")
