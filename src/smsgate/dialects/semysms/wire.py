"""SemySMS on the wire: parameters as its clients really send them, read into plain values.

Nothing here talks to the gateway: routes.py resolves devices and calls it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final, Literal
from urllib.parse import parse_qsl

import orjson
from fastapi import Request

from smsgate.core import errors, numbers
from smsgate.core.messages import MessageFilter
from smsgate.dialects.semysms import errors as semysms_errors

Params = dict[str, str]
DeviceChoice = tuple[int, ...] | Literal["active"] | None

ACTIVE: Final = "active"
MAX_LISTED: Final = (
    10_000  # a listing answers at most this many, oldest first: page on with start_id
)
MAX_PRIORITY: Final = 1_000_000  # SemySMS's range
STORED_PRIORITY: Final = (
    32_767  # the store's priority is a SMALLINT: higher SemySMS values share the top
)
USSD: Final = "[ussd]"

_FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")
_DATE: Final = re.compile(
    r"\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,6}))?)?)?\s*"
)


# --- reading the request ----------------------------------------------------------------------


async def params(request: Request) -> Params:
    """The query string, then the body over it (PHP's $_REQUEST): urlencoded, multipart or JSON."""
    found = dict(request.query_params)
    if request.method == "POST":
        found.update(await _body_fields(request))
    return found


async def _body_fields(request: Request) -> Params:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _FORM_TYPES:
        try:
            form = await request.form()
        except Exception:
            raise semysms_errors.BadParameter("the form body could not be read") from None
        return {key: value for key, value in form.items() if isinstance(value, str)}
    raw = await request.body()
    if not raw.strip():
        return {}
    if content_type == "application/json" or raw.lstrip()[:1] == b"{":
        return {key: _text(value) for key, value in _json_object(raw).items() if _is_scalar(value)}
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


async def json_body(request: Request) -> dict[str, Any]:
    """sms_more.php: the body is JSON whatever the Content-Type says (laravel-semysms sends none)."""
    raw = await request.body()
    if not raw.strip():
        raise semysms_errors.MalformedBody(
            "the body is empty: sms_more.php expects a JSON object with token and data"
        )
    return _json_object(raw)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise semysms_errors.MalformedBody(f"the body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise semysms_errors.MalformedBody("the body must be a JSON object with token and data")
    return value


def _is_scalar(value: object) -> bool:
    return isinstance(value, (str, int, float))  # bool is an int


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def given(p: Mapping[str, str], name: str) -> str | None:
    """A parameter's value, or None when it is absent or blank."""
    value = p.get(name)
    return value if value is not None and value.strip() else None


# --- values -----------------------------------------------------------------------------------


def integer(name: str, value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    stripped = value.strip()
    if not re.fullmatch(r"[+-]?\d{1,18}", stripped):
        raise semysms_errors.BadParameter(f"{name} {stripped!r} is not a whole number")
    return int(stripped)


def ids(name: str, value: str | None) -> tuple[int, ...] | None:
    """A comma list as clients send it: "1,2,3", "1, 2, 3" (the Ruby gem), a trailing comma."""
    if value is None or not value.strip():
        return None
    found = []
    for part in value.split(","):
        number = integer(name, part)
        if number is not None:
            found.append(number)
    return tuple(dict.fromkeys(found)) or None


def device_choice(value: str | None) -> DeviceChoice:
    """`device`: one code, a comma list to spread over, or `active` (every enabled device)."""
    if value is None or not value.strip():
        return None
    if value.strip().lower() == ACTIVE:
        return ACTIVE
    return ids("device", value)


def flag(name: str, value: str | None) -> bool | None:
    number = integer(name, value)
    if number is None:
        return None
    if number not in (0, 1):
        raise semysms_errors.BadParameter(f"{name} is 0 or 1, not {number}")
    return number == 1


def moment(name: str, value: str | None, *, end: bool = False) -> datetime | None:
    """`2015-08-9 10:30`, `2015-08-09 10:30:00`, `2015-08-09 10:30:00.657724` or a bare date, UTC.

    A bare date as date_end means the end of that day; any other value is the instant written.
    """
    if value is None or not value.strip():
        return None
    match = _DATE.fullmatch(value)
    if match is None:
        raise semysms_errors.BadParameter(
            f"{name} {value.strip()!r} is not a date like 2015-08-09 10:30:00"
        )
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        day_start = datetime(int(year), int(month), int(day), tzinfo=UTC)
        if hour is None:
            return day_start + timedelta(days=1, microseconds=-1) if end else day_start
        micro = int((fraction or "0").ljust(6, "0"))
        return day_start.replace(
            hour=int(hour), minute=int(minute), second=int(second or 0), microsecond=micro
        )
    except ValueError as exc:
        raise semysms_errors.BadParameter(
            f"{name} {value.strip()!r} is not a real date: {exc}"
        ) from None


def priority(value: str | None) -> int:
    number = integer("priority", value)
    if number is None:
        return 0
    if not 0 <= number <= MAX_PRIORITY:
        raise semysms_errors.BadParameter(f"priority is from 0 to {MAX_PRIORITY}, not {number}")
    return min(number, STORED_PRIORITY)


def recipient(phone: str | None, add_plus: str | None = None) -> tuple[str, ...]:
    """The number as given (the core reads a leading space as the `+` of an unencoded URL)."""
    if phone is None or not phone.strip():
        return ()
    if add_plus is not None and add_plus.strip() == "1" and not phone.strip().startswith("+"):
        return ("+" + phone.strip(),)
    return (phone,)


def text(msg: str | None) -> str:
    if msg is not None and msg.strip().lower() == USSD:
        raise semysms_errors.Unsupported("USSD requests ([ussd]) are not supported by smsgate")
    return msg or ""


def phone_spellings(value: str | None, region: str | None) -> tuple[str, ...] | None:
    """Every way the same number may be stored: as the client wrote it, its digits, its E.164."""
    if value is None or not value.strip():
        return None
    raw = value.strip()
    spellings = {raw}
    digits = re.sub(r"\D", "", raw)
    if digits:
        spellings |= {digits, "+" + digits}
    number = numbers.try_parse(value, region)
    if number is not None:
        spellings |= {number.e164, number.e164[1:]}
    return tuple(sorted(spellings))


# --- listings ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Listing:
    """The filters of outbox_sms, inbox_sms and their deletes, as read from the wire."""

    devices: DeviceChoice = None
    start_id: int | None = None
    end_id: int | None = None
    list_id: tuple[int, ...] | None = None
    date_start: datetime | None = None
    date_end: datetime | None = None
    phone: str | None = None

    @property
    def today_only(self) -> bool:
        """SemySMS: with none of start_id, list_id, date_start, date_end, only today's messages."""
        return (
            self.start_id is None
            and self.list_id is None
            and self.date_start is None
            and self.date_end is None
        )

    def filter(
        self, *, device_ids: tuple[int, ...] | None, now: datetime, region: str | None
    ) -> MessageFilter:
        since = self.date_start
        if self.today_only:
            since = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
        return MessageFilter(
            for_devices=device_ids,
            phones=phone_spellings(self.phone, region),
            since=since,
            until=self.date_end,
            min_id=self.start_id,
            max_id=self.end_id,
            ids=self.list_id,
            limit=MAX_LISTED,
            ascending=True,
        )


def listing(p: Mapping[str, str]) -> Listing:
    return Listing(
        devices=device_choice(p.get("device")),
        start_id=integer("start_id", p.get("start_id")),
        end_id=integer("end_id", p.get("end_id")),
        list_id=ids("list_id", p.get("list_id")),
        date_start=moment("date_start", p.get("date_start")),
        date_end=moment("date_end", p.get("date_end"), end=True),
        phone=given(p, "phone"),
    )


# --- sms_more.php -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One element of sms_more.php's `data`."""

    index: int
    my_id: Any  # echoed back exactly as given (string, number or absent = null)
    devices: DeviceChoice
    to: tuple[str, ...]
    text: str
    priority: int


def entries(body: Mapping[str, Any]) -> list[Entry]:
    data = body.get("data")
    if isinstance(data, dict):  # PHP's json_encode turns an array with gaps into an object
        data = list(data.values())
    if not isinstance(data, list) or not data:
        raise semysms_errors.MalformedBody(
            "data must be a non-empty list of {my_id, device, phone, msg}"
        )
    found = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise semysms_errors.MalformedBody(
                f"data[{index}] must be an object with device, phone and msg", index=index
            )
        try:
            found.append(
                _entry(
                    index,
                    {k: _text(v) for k, v in item.items() if _is_scalar(v)},
                    item.get("my_id"),
                )
            )
        except errors.GatewayError as exc:
            raise at_entry(exc, index, item.get("my_id")) from None
    return found


def at_entry(exc: errors.GatewayError, index: int, my_id: Any) -> errors.GatewayError:
    """Names the sms_more entry an error is about: its index in `data` and its my_id."""
    detail = exc.detail.removeprefix(f"message {index}: ")  # the Gateway's own prefix for batches
    where = f"data[{index}]" + (f" (my_id {my_id})" if my_id is not None else "")
    exc.detail = f"{where}: {detail}"
    exc.context["index"] = index
    if isinstance(my_id, (str, int)):
        exc.context["my_id"] = my_id
    return exc


def _entry(index: int, item: Params, my_id: Any) -> Entry:
    return Entry(
        index=index,
        my_id=my_id,
        devices=device_choice(item.get("device")),
        to=recipient(item.get("phone"), item.get("add_plus")),
        text=text(item.get("msg")),
        priority=priority(item.get("priority")),
    )
