"""SmsGateway24's quirks on the wire, read into plain values (nothing here calls the gateway)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smsgate.core import errors
from smsgate.core.messages import Priority
from smsgate.core.requests import SendRequest
from smsgate.doors import parsers
from smsgate.doors.params import json_value

MAX_RECIPIENTS: Final = 1000  # numbers in one sendto
MAX_BATCH: Final = 10_000  # entries in one addalotofsms


def zone(name: str | None) -> tuple[tzinfo, str]:
    """`timezone`: a zone name (Australia/Sydney); UTC when absent."""
    if name is None or not name.strip():
        return ZoneInfo("UTC"), "UTC"
    cleaned = name.strip()
    try:
        return ZoneInfo(cleaned), cleaned
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.BadParameter(
            f"timezone {cleaned[:60]!r} is not a zone name like Europe/Paris"
        ) from None


def recipients(value: object) -> tuple[str, ...]:
    """`sendto`: one number, or several separated by commas."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(int(value))
    if not isinstance(value, str) or not value.strip():
        raise errors.InvalidNumber("sendto is required")
    found = tuple(p for p in (_number(part) for part in value.split(",")) if p)
    if not found:
        raise errors.InvalidNumber("sendto holds no number")
    if len(found) > MAX_RECIPIENTS:
        raise errors.InvalidInput(f"sendto holds at most {MAX_RECIPIENTS} numbers")
    return found


def _number(part: str) -> str:
    """A number as written; leading space before digits is the `+` of an unencoded URL."""
    stripped = part.strip()
    if part[:1].isspace() and stripped[:1].isdigit():
        return "+" + stripped
    return stripped


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        return value
    raise errors.BadParameter("a parameter holds an object where a value was expected")


def send_time(
    value: object, tz: tzinfo, now: datetime, name: str = "timetosend"
) -> datetime | None:
    """`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` in the caller's timezone (UTC by default). A time
    already past means now: the vendor sends such a message at once."""
    text = _text(value)
    if text is None or not text.strip():
        return None
    found = parsers.moment(name, text, tz=tz)
    return found if found is not None and found > now else None


def sim_slot(value: object) -> int | None:
    """`sim`: the slot, 0 or 1 (the vendor counts from 0; smsgate's slots from 1)."""
    slot = parsers.integer("sim", _text(value), low=0, high=7)
    return None if slot is None else slot + 1


def customer(params: Mapping[str, Any]) -> str | None:
    """`customerid` (the PHP SDK sends `customerId`): the client's own customer number."""
    raw = params.get("customerid", params.get("customerId"))
    found = parsers.integer("customerid", _text(raw), low=0)
    return None if found is None else str(found)


def device(value: object, *, required: bool = True) -> int | None:
    found = parsers.identifier("device_id", _text(value))
    if found is None and required:
        raise errors.MissingParameter("device_id is required")
    return found


def send_request(params: Mapping[str, Any], tz: tzinfo, now: datetime) -> SendRequest:
    """One addsms / smstosend / addalotofsms entry."""
    body = _text(params.get("body"))
    if body is None or not body.strip():
        raise errors.EmptyText("body is required")
    device_id = device(params.get("device_id"))
    assert device_id is not None
    urgent = parsers.flag("urgent", _text(params.get("urgent")))
    return SendRequest(
        to=recipients(params.get("sendto")),
        text=parsers.storable("body", body),
        devices=(device_id,),
        sim_slot=sim_slot(params.get("sim")),
        priority=Priority.URGENT if urgent else Priority.NORMAL,
        send_at=send_time(params.get("timetosend"), tz, now),
        reference=customer(params),
    )


def datajson(params: Mapping[str, Any], json_body: Any) -> dict[str, Any]:
    """addalotofsms: the `datajson` field (the documents), or the JSON body itself (the npm
    client posts `{token, smsdata}` as application/json)."""
    raw = params.get("datajson")
    if isinstance(raw, str) and raw.strip():
        found = json_value(raw.encode())
    elif isinstance(json_body, dict) and "smsdata" in json_body:
        found = json_body
    else:
        raise errors.MissingParameter("datajson is required")
    if not isinstance(found, dict):
        raise errors.MalformedBody("datajson must be a JSON object with token and smsdata")
    entries = found.get("smsdata")
    if not isinstance(entries, list) or not entries:
        raise errors.MalformedBody("datajson must hold an smsdata list of messages")
    if len(entries) > MAX_BATCH:
        raise errors.MalformedBody(f"smsdata holds at most {MAX_BATCH} messages")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise errors.MalformedBody(f"smsdata[{index}] is not an object")
    return found


def tag_ids(value: object) -> tuple[int, ...]:
    """`tags`: `12,13,14` (the PHP SDK joins an array with commas)."""
    found = parsers.ids("tags", _text(value))
    if not found:
        raise errors.MissingParameter("tags is required")
    return found


def text(
    params: Mapping[str, Any], name: str, *, required: bool = True, most: int = 10_000
) -> str | None:
    found = parsers.text(name, _text(params.get(name)), max_length=most)
    if required and (found is None or not found.strip()):
        raise errors.MissingParameter(f"{name} is required")
    return found
