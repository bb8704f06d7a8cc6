"""SMSC's answers in its four formats, and its status codes mapped from the core status machine."""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final
from xml.sax.saxutils import escape

from starlette.responses import Response

from smsgate.core import billing, numbers
from smsgate.core.messages import Inbound, Message, Reason, State
from smsgate.dialects.smsc import wire
from smsgate.dialects.smsc.wire import Wire

# status codes (SMSC): -3 not found, -2 stopped, -1 waiting, 0 handed to the operator, 1 delivered,
# 3 expired, 20 undeliverable, 22 wrong number, 23 forbidden, 24 no money, 25 unreachable number
NOT_FOUND: Final = -3
STATUS: Final[Mapping[State, int]] = {
    State.SCHEDULED: -1,
    State.QUEUED: -1,
    State.LEASED: -1,
    State.TAKEN: -1,
    State.SENT: 0,
    State.DELIVERED: 1,
    State.UNDELIVERED: 20,
    State.FAILED: 20,
    State.CANCELLED: -2,
    State.EXPIRED: 3,
}
# a failure's status and `err` by its core reason
FAILURES: Final[Mapping[Reason, tuple[int, int]]] = {
    Reason.GENERIC: (20, 255),
    Reason.NO_SERVICE: (25, 6),
    Reason.RADIO_OFF: (25, 6),
    Reason.NULL_PDU: (20, 248),
    Reason.NOT_ALLOWED: (23, 250),
    Reason.INVALID_NUMBER: (22, 1),
    Reason.LIMIT_EXCEEDED: (20, 247),
    Reason.DEVICE_LOST: (20, 245),
    Reason.REJECTED: (20, 255),
}
NAMES: Final = {
    -3: "Message not found",
    -2: "Stopped",
    -1: "Waiting to be sent",
    0: "Transferred to operator",
    1: "Delivered",
    3: "Expired",
    20: "Unable to deliver",
    22: "Wrong number",
    23: "Forbidden",
    24: "Insufficient funds",
    25: "Unavailable number",
}
UNLIMITED: Final = 1_000_000_000 * billing.SCALE  # an unlimited balance, as clients read it

# the history's fields, in the seed's order
HISTORY: Final = (
    "status", "last_date", "last_timestamp", "err", "send_date", "send_timestamp", "phone",
    "country", "operator", "region", "type", "cost", "sender", "status_name", "message",
    "mccmnc", "id", "int_id", "sms_cnt", "format", "crc",
)  # fmt: skip


def status_of(m: Message) -> tuple[int, int]:
    """(SMSC status, err)."""
    if m.state in (State.FAILED, State.UNDELIVERED) and m.reason is not None:
        return FAILURES.get(m.reason, (20, 255))
    code = STATUS[m.state]
    if code == 3:
        return 3, 246
    if code == 20:
        return 20, 255
    return code, 0


def last_change(m: Message) -> Any:
    return (
        m.delivered_at
        or m.failed_at
        or m.expired_at
        or m.cancelled_at
        or m.sent_at
        or m.taken_at
        or m.leased_at
        or m.queued_at
        or m.created_at
    )


def client_id(m: Message) -> int | str:
    """The id the client knows: its own (kept as the reference) or the message's."""
    ref = m.reference
    if ref is None or ref.startswith("smsc-"):
        return m.id
    return int(ref) if ref.isdigit() else ref


def phone(m: Message) -> str:
    return m.to.lstrip("+")


def history(m: Message) -> dict[str, Any]:
    status, err = status_of(m)
    changed = last_change(m)
    return {
        "status": status,
        "last_date": wire.moscow(changed),
        "last_timestamp": wire.stamp(changed),
        "err": err,
        "send_date": wire.moscow(m.created_at),
        "send_timestamp": wire.stamp(m.created_at),
        "phone": phone(m),
        "country": numbers.country_name(m.country, "ru"),
        "operator": m.operator,
        "region": m.region,
        "type": 0,
        "cost": billing.shown(m.cost),
        "sender": m.sender_name or m.sender or "",
        "status_name": NAMES.get(status, ""),
        "message": m.text,
        "mccmnc": m.mccmnc,
        "id": client_id(m),
        "int_id": m.id,
        "sms_cnt": m.segments,
        "format": 0,
        "crc": _crc(m.text),
    }


def _crc(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode("utf-8"))


def inbound(i: Inbound) -> dict[str, Any]:
    return {
        "id": i.id,
        "received": wire.moscow(i.received_at),
        "phone": i.sender.lstrip("+"),
        "to_phone": "",
        "sent": wire.stamp(i.received_at),
        "message": i.text,
    }


# --- the four formats -----------------------------------------------------------------------------


def _json_escape(error: UnicodeError) -> tuple[str, int]:
    """A character the charset lacks, as JSON's \\u escape (surrogate pairs past the BMP)."""
    assert isinstance(error, UnicodeEncodeError)
    units = error.object[error.start : error.end].encode("utf-16-be")
    escaped = "".join(
        f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2)
    )
    return escaped, error.end


codecs.register_error("smsc-json", _json_escape)
MEDIA: Final = {0: "text/plain", 1: "text/plain", 2: "text/xml", 3: "application/json"}
CHARSET_NAMES: Final = {"cp1251": "windows-1251", "koi8_r": "koi8-r", "utf-8": "utf-8"}


def answer(text: str, w: Wire) -> Response:
    """HTTP 200, the text in the asked charset (characters it lacks: \\u escapes in JSON, `?` else)."""
    handler = "smsc-json" if w.fmt == 3 else "replace"
    name = CHARSET_NAMES.get(w.charset, w.charset)
    return Response(
        text.encode(w.charset, handler),
        status_code=200,
        media_type=f"{MEDIA[w.fmt]}; charset={name}",
    )


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def xml(fields: Mapping[str, Any], tag: str = "result") -> str:
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    return f"<{tag}>{inner}</{tag}>"


def xml_list(items: Sequence[Mapping[str, Any]], tag: str) -> str:
    return "<result>" + "".join(xml(i, tag) for i in items) + "</result>"


def pairs(fields: Mapping[str, Any]) -> str:
    """fmt=0's `name = value, name = value`."""
    return ", ".join(f"{k} = {v}" for k, v in fields.items())


def listing(items: Sequence[Mapping[str, Any]], w: Wire, tag: str) -> str:
    """A list of records in the asked format (fmt=1: values in order, one record a line)."""
    if w.fmt == 3:
        return json_text(list(items))
    if w.fmt == 2:
        return xml_list(items, tag)
    if w.fmt == 1:
        return "\n".join(",".join(str(v) for v in i.values()) for i in items)
    return "\n".join(pairs(i) for i in items)
