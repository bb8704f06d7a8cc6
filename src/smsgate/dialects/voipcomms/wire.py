"""Reading VoIP-Communications requests: credentials, recipients, the text, delivery_date."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Final

from starlette.requests import Request

from smsgate.core import accounts, errors, numbers
from smsgate.doors import credentials, parsers

MAX_RECIPIENTS: Final = 1000
_US: Final = re.compile(
    r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})"
    r"(?:[ T]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\s*([AaPp][Mm])?)?"
)


def api_key(request: Request) -> str:
    """The smsgate API key of `-u KEY_ID:KEY` (or `-u KEY:`); Unauthorized otherwise."""
    pair = credentials.basic(request.headers)
    if pair is None:
        raise errors.Unauthorized("HTTP Basic authentication is required (curl -u KEY:PASSWORD)")
    key = pair.key
    if key is None:
        raise errors.Unauthorized("the password is not an smsgate API key (sg_...)")
    user = pair.user.strip()
    if key is pair.password and user and not key.startswith(user):
        raise errors.Unauthorized("the API key id is not the start of the API key")
    if not key.startswith(accounts.KEY_PREFIX):
        raise errors.Unauthorized("the API key is wrong")
    return key


def recipients(value: str | None) -> tuple[str, ...]:
    if value is None or not value.strip():
        raise errors.MissingParameter("to is required: one or more numbers, comma-separated")
    found = tuple(p.strip() for p in value.split(",") if p.strip())
    if not found:
        raise errors.InvalidNumber("to holds no number")
    if len(found) > MAX_RECIPIENTS:
        raise errors.BadParameter(f"to holds more than {MAX_RECIPIENTS} numbers")
    return tuple(_international(p) for p in found)


@functools.lru_cache(maxsize=4096)
def _international(number: str) -> str:
    """`12812345678` as the vendor's clients write numbers: international without the `+`."""
    digits = number.lstrip("+")
    if number.startswith("+") or not digits.isdigit() or len(digits) < 10:
        return number
    try:
        return numbers.parse("+" + digits, None).e164
    except errors.InvalidNumber:
        return number  # read in the default region by the core


def text(value: str | None) -> str:
    if value is None or not value.strip():
        raise errors.EmptyText("msg is required")
    return parsers.storable("msg", value)


def sender(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return _international(value.strip())


def delivery_date(value: str | None) -> datetime | None:
    """`YYYY-MM-DD HH:MM` or any common form (see the package docstring); UTC unless it says."""
    if value is None or not value.strip():
        return None
    stripped = value.strip()
    if stripped.lower() == "now":
        return None
    if stripped.isdigit() and 9 <= len(stripped) <= 11:
        return parsers.timestamp("delivery_date", stripped)
    us = _US.fullmatch(stripped)
    if us is not None:
        return _us_date(stripped, us)
    try:
        return parsers.moment("delivery_date", stripped)
    except errors.BadParameter:
        raise errors.BadParameter(
            f"delivery_date {stripped[:40]!r} is not a date like 2026-12-01 13:15"
        ) from None


def _us_date(stripped: str, found: re.Match[str]) -> datetime:
    month, day, year, hour, minute, second, half = found.groups()
    h = int(hour or 0)
    if half is not None:
        if not 1 <= h <= 12:
            raise errors.BadParameter(f"delivery_date {stripped!r}: the hour is not 1 to 12")
        h = h % 12 + (12 if half.lower() == "pm" else 0)
    try:
        at = datetime(
            int(year), int(month), int(day), h, int(minute or 0), int(second or 0), tzinfo=UTC
        )
    except ValueError as exc:
        raise errors.BadParameter(f"delivery_date {stripped!r} is not a real date: {exc}") from None
    return parsers.bounded("delivery_date", at)


def smsids(value: str | None) -> tuple[int, ...]:
    found = parsers.ids("smsid", value)
    if not found:
        raise errors.MissingParameter("smsid is required (one, or several comma-separated)")
    return found
