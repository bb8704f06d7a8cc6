"""Bounded scalar parsers: any text in, a value the store can hold out, or a core error.

Every door reads its scalars here, so no input can reach the store (or Python's int(), datetime
or timedelta) in a shape that makes a 500:
- digits are ASCII only (`"²".isdigit()` is True and int("²") raises; int("٣") is 3);
- every number is bounded: ids to 1..2**63-1 (BIGINT), other integers to what the caller allows
  (INT64 by default), floats to finite values in a range;
- every date is aware and, in UTC, between 0001-01-02 and 9999-12-30 (a day of room either side,
  so any timezone can render it); every duration is bounded (10 years by default);
- text refuses NUL and lone surrogates (PostgreSQL cannot store either; SQLite would).

Absent or blank values are None; `need` turns a None into MissingParameter. Errors are
errors.BadParameter / errors.MissingParameter (core InvalidInput), which each door's error table
renders in its own format. The `Stored*` types are the same checks for pydantic schemas.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Annotated, Final, TypeVar

from pydantic import AfterValidator, AwareDatetime, Field

from smsgate.core import errors

T = TypeVar("T")

INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)
INT32_MAX: Final = 2**31 - 1
EARLIEST: Final = datetime(1, 1, 2, tzinfo=UTC)
LATEST: Final = datetime(9999, 12, 30, tzinfo=UTC)
LONGEST: Final = timedelta(days=3660)  # ten years: any validity, pace or window in use
MAX_IDS: Final = 10_000  # ids in one comma list
MAX_DIGITS: Final = 40  # longer numbers are refused before int() reads them

_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
_UNSTORABLE: Final = re.compile(r"[\x00\ud800-\udfff]")
_ISO: Final = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[ T]+([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:[.,]([0-9]{1,9}))?)?)?"
    r"\s*(Z|[+-][0-9]{2}:?[0-9]{2})?",
    re.IGNORECASE,
)
_DOTTED: Final = re.compile(
    r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})"
    r"(?:[ T]+([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:[.,]([0-9]{1,9}))?)?)?"
)
_CLOCK: Final = re.compile(r"([0-9]{1,6}):([0-9]{1,2})(?::([0-9]{1,2}))?")
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def need(name: str, value: T | None) -> T:
    """The value, or MissingParameter when it is absent."""
    if value is None:
        raise errors.MissingParameter(f"{name} is required")
    return value


# --- text ---------------------------------------------------------------------------------------


def storable(name: str, value: str) -> str:
    """The text itself, if a database can store it: no NUL, no lone surrogate."""
    bad = _UNSTORABLE.search(value)
    if bad is not None:
        what = "a NUL character" if bad.group() == "\x00" else "a lone surrogate"
        raise errors.BadParameter(f"{name} holds {what} (at {bad.start()}), which cannot be stored")
    return value


def text(name: str, value: str | None, *, max_length: int | None = None) -> str | None:
    """Text as given (not stripped), checked storable and no longer than max_length characters."""
    if value is None:
        return None
    if max_length is not None and len(value) > max_length:
        raise errors.BadParameter(f"{name} is longer than {max_length} characters")
    return storable(name, value)


def choice(name: str, value: str | None, options: Iterable[str]) -> str | None:
    """One of `options`, compared without case; returns the option as spelled there."""
    if _blank(value):
        return None
    assert value is not None
    known = {o.lower(): o for o in options}
    found = known.get(value.strip().lower())
    if found is None:
        raise errors.BadParameter(
            f"{name} {_shown(value.strip())} is not one of {', '.join(known.values())}"
        )
    return found


# --- numbers ------------------------------------------------------------------------------------


def integer(
    name: str, value: str | int | None, *, low: int = INT64_MIN, high: int = INT64_MAX
) -> int | None:
    """A whole number in ASCII digits (an optional sign, spaces around), within low..high."""
    if isinstance(value, bool):
        raise errors.BadParameter(f"{name} is a number, not {str(value).lower()}")
    if isinstance(value, int):
        number = value
    else:
        if value is None or not value.strip():
            return None
        stripped = value.strip()
        if len(stripped) > MAX_DIGITS or not _INTEGER.fullmatch(stripped):
            raise errors.BadParameter(f"{name} {_shown(stripped)} is not a whole number")
        number = int(stripped)
    if not low <= number <= high:
        raise errors.BadParameter(f"{name} is from {low} to {high}, not {number}")
    return number


def identifier(name: str, value: str | int | None) -> int | None:
    """An id the store can hold: 1 to 2**63-1."""
    return integer(name, value, low=1, high=INT64_MAX)


def ids(
    name: str, value: str | Sequence[str | int] | None, *, most: int = MAX_IDS
) -> tuple[int, ...] | None:
    """A comma list as clients send it ("1,2,3", "1, 2, 3", a trailing comma) or a list of ids;
    each id once, in the order given; None when no id is given."""
    if value is None:
        return None
    parts: Sequence[str | int] = value.split(",") if isinstance(value, str) else value
    if len(parts) > most:
        raise errors.BadParameter(f"{name} names more than {most} ids")
    found = [identifier(name, part) for part in parts]
    return tuple(dict.fromkeys(i for i in found if i is not None)) or None


def flag(name: str, value: str | int | bool | None) -> bool | None:
    """0/1 (also true/false, yes/no, on/off); None when absent."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        value = str(value)
    if value is None or not value.strip():
        return None
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise errors.BadParameter(f"{name} is 0 or 1, not {_shown(value.strip())}")


def number(
    name: str, value: str | float | None, *, low: float = -1e15, high: float = 1e15
) -> float | None:
    """A finite decimal number in ASCII (`1.5`, `2e3`) within low..high."""
    if isinstance(value, bool):
        raise errors.BadParameter(f"{name} is a number, not {str(value).lower()}")
    if isinstance(value, (int, float)):
        found = float(value)
    else:
        if value is None or not value.strip():
            return None
        stripped = value.strip()
        if len(stripped) > MAX_DIGITS or not _NUMBER.fullmatch(stripped):
            raise errors.BadParameter(f"{name} {_shown(stripped)} is not a number")
        found = float(stripped)
    if not math.isfinite(found) or not low <= found <= high:
        raise errors.BadParameter(f"{name} is from {low:g} to {high:g}, not {found:g}")
    return found


# --- time ---------------------------------------------------------------------------------------


def bounded(name: str, moment: datetime) -> datetime:
    """An aware datetime in UTC, refused unless the store and every timezone can hold it."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise errors.BadParameter(f"{name} needs a timezone")
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise errors.BadParameter(f"{name} {moment.isoformat()} is out of range") from None
    if not EARLIEST <= utc <= LATEST:
        raise errors.BadParameter(
            f"{name} {moment.isoformat()} is out of range (years 1 to 9999, in UTC)"
        )
    return utc


def moment(name: str, value: str | None, *, tz: tzinfo = UTC, end: bool = False) -> datetime | None:
    """A date as the vendors write it, in UTC:

    `2015-08-09 10:30:00`, `2015-08-9 10:30` (unpadded, no seconds), `2015-08-09T10:30:00.657724`,
    `2015-08-09T10:30:00+03:00` / `Z`, `09.08.2015 10:30:00`, or a bare date. Without an offset
    the time is in `tz`. A bare date with `end` means the last instant of that day.
    """
    if value is None or not value.strip():
        return None
    stripped = value.strip()
    parts = _parts(stripped)
    if parts is None:
        raise errors.BadParameter(
            f"{name} {_shown(stripped)} is not a date like 2015-08-09 10:30:00 or 09.08.2015 10:30"
        )
    (year, month, day, hour, minute, second, fraction), offset = parts
    try:
        found = datetime(int(year or 0), int(month or 0), int(day or 0), tzinfo=tz)
        if hour is not None:
            micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
            found = found.replace(
                hour=int(hour), minute=int(minute or 0), second=int(second or 0), microsecond=micro
            )
        elif end:
            found = found.replace(hour=23, minute=59, second=59, microsecond=999_999)
        if offset is not None:
            found = found.replace(tzinfo=_offset(name, offset))
    except ValueError as exc:
        raise errors.BadParameter(f"{name} {_shown(stripped)} is not a real date: {exc}") from None
    return bounded(name, found)


def _parts(value: str) -> tuple[tuple[str | None, ...], str | None] | None:
    iso = _ISO.fullmatch(value)
    if iso is not None:
        return iso.groups()[:7], iso.group(8)
    dotted = _DOTTED.fullmatch(value)
    if dotted is not None:
        day, month, year, *rest = dotted.groups()
        return (year, month, day, *rest), None
    return None


def _offset(name: str, text_: str) -> tzinfo:
    if text_.upper() == "Z":
        return UTC
    sign = -1 if text_[0] == "-" else 1
    digits = text_[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise errors.BadParameter(f"{name}: the offset {text_} is not one")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def timestamp(name: str, value: str | int | None) -> datetime | None:
    """Unix seconds (UTC)."""
    seconds = integer(name, value, low=int(EARLIEST.timestamp()), high=int(LATEST.timestamp()))
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def duration(
    name: str,
    value: str | float | None,
    *,
    unit: timedelta = timedelta(seconds=1),
    low: timedelta = timedelta(0),
    high: timedelta = LONGEST,
) -> timedelta | None:
    """A number of `unit`s (`90`, `1.5`), or `h:mm[:ss]` (SMSC's `valid`), within low..high."""
    if isinstance(value, str) and (clock := _CLOCK.fullmatch(value.strip())) is not None:
        hours, minutes, seconds = clock.groups()
        if int(minutes) > 59 or int(seconds or 0) > 59:
            raise errors.BadParameter(f"{name} {_shown(value.strip())} is not hours:minutes")
        found = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0))
    else:
        limit = high / unit
        units = number(name, value, low=-limit - 1, high=limit + 1)
        if units is None:
            return None
        found = unit * units
    if not low <= found <= high:
        raise errors.BadParameter(f"{name} is from {low} to {high}, not {found}")
    return found


# --- the same checks for pydantic schemas (a ValueError becomes the door's validation error) ----


def _storable_field(value: str) -> str:
    bad = _UNSTORABLE.search(value)
    if bad is not None:
        what = "a NUL character" if bad.group() == "\x00" else "a lone surrogate"
        raise ValueError(f"holds {what}, which cannot be stored")
    return value


def _bounded_field(value: datetime) -> datetime:
    try:
        return bounded("the time", value)
    except errors.BadParameter as exc:
        raise ValueError(exc.detail) from None


def _id_text(value: str) -> str:
    try:
        identifier("the id", value)
    except errors.BadParameter as exc:
        raise ValueError(exc.detail) from None
    return value.strip()


StoredText = Annotated[str, AfterValidator(_storable_field)]
"""A str field the database can store (no NUL, no lone surrogate); add Field(max_length=...)."""
StoredMoment = Annotated[AwareDatetime, AfterValidator(_bounded_field)]
"""An aware datetime in the storable range, converted to UTC."""
StoredId = Annotated[int, Field(ge=1, le=INT64_MAX)]
"""An id the store can hold."""
IdText = Annotated[str, AfterValidator(_id_text)]
"""An id sent as text (`"42"`): ASCII digits, in range."""
