"""SMSC on the wire: parameters as its clients send them, read into plain values.

Nothing here talks to the gateway; routes.py does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from starlette.requests import Request

from smsgate.core import errors, numbers
from smsgate.dialects.smsc import errors as smsc_errors
from smsgate.doors import params, parsers
from smsgate.doors.params import Params

DEFAULT_CHARSET: Final = "windows-1251"
MOSCOW: Final = timezone(timedelta(hours=3), "MSK")  # SMSC's times are Moscow time
MAX_TEXT: Final = 1000
MAX_CLIENT_ID: Final = 2_147_483_647
_CLIENT_ID: Final = re.compile(r"[A-Za-z0-9.\-_]{1,40}")
_PHONE_SPLIT: Final = re.compile(r"[,;\n]")
_DDMMYYHHMM: Final = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})")
_DOTTED: Final = re.compile(
    r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{2}|[0-9]{4})(?:[ T]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?"
)
_HOURS: Final = re.compile(r"([0-9]{1,2})-([0-9]{1,2})")


@dataclass(frozen=True, slots=True)
class Wire:
    """What every answer needs: the format and the charset asked for."""

    fmt: int
    charset: str  # the Python codec of the answer


def _recode(value: str, charset: str | None) -> str:
    """A value read as latin-1 (its bytes, losslessly), decoded as the client meant it: its
    `charset`, else UTF-8 when the bytes are UTF-8 (clients that send UTF-8 without saying so),
    else windows-1251 (SMSC's default)."""
    if value.isascii():
        return value
    raw = value.encode("latin-1")
    if charset is not None:
        return raw.decode(charset, "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1251", "replace")


async def read(request: Request) -> Params:
    """The query string, then the body over it: urlencoded (in the client's charset), multipart or
    JSON (UTF-8, as multipart and JSON are sent). Sets the answer's Wire on the request."""
    query = params.query(request, "latin-1")
    latin = True
    body = Params()
    if request.method in params.BODY_METHODS:
        kind = params.media_type(request)
        if kind == params.MULTIPART or kind.endswith("json"):
            latin = False
        body = await params.body(request, "latin-1")
        raw = await request.body() if kind != params.MULTIPART else b""
        if raw.lstrip()[:1] in (b"{", b"["):
            latin = False
    named = body.get("charset") or query.get("charset")
    charset = params.codec(named) if named and named.strip() else None
    fixed = Params([(k, _recode(v, charset)) for k in query for v in query.every(k)])
    if latin:
        body = Params([(k, _recode(v, charset)) for k in body for v in body.every(k)])
    found = body.over(fixed)
    request.state.smsc = Wire(fmt=fmt_of(found), charset=charset or "cp1251")
    return found


def wire_of(request: Request) -> Wire:
    """The answer's format and charset; from the raw query when the parameters were never read."""
    found = getattr(request.state, "smsc", None)
    if isinstance(found, Wire):
        return found
    try:
        query = params.query(request, "latin-1")
        named = query.get("charset")
        charset = params.codec(named) if named and named.strip() else "cp1251"
        return Wire(fmt=fmt_of(query), charset=charset)
    except errors.GatewayError:
        return Wire(fmt=0, charset="cp1251")


def fmt_of(p: Mapping[str, str]) -> int:
    raw = (p.get("fmt") or "").strip()
    return int(raw) if raw in ("0", "1", "2", "3") else 0


def number(p: Params, name: str, *, low: int, high: int, default: int) -> int:
    found = parsers.integer(name, p.get(name), low=low, high=high)
    return default if found is None else found


def flag(p: Params, name: str) -> bool:
    return bool(number(p, name, low=0, high=9, default=0))


def client_id(p: Params) -> int | str | None:
    """The client's own id: 1..2147483647 or up to 40 of [A-Za-z0-9.-_]; 0 or none: assign one."""
    raw = (p.get("id") or "").strip()
    if raw in ("", "0"):
        return None
    if raw.isascii() and raw.isdigit():
        value = int(raw)
        if not 1 <= value <= MAX_CLIENT_ID:
            raise errors.BadParameter(f"id {raw} is out of range (1 to {MAX_CLIENT_ID})")
        return value
    if not _CLIENT_ID.fullmatch(raw):
        raise errors.BadParameter("id is a number or up to 40 letters, digits and . - _")
    return raw


def international(phone: str) -> str:
    """SMSC numbers without `+` are international (`5511987654321`), except a national trunk
    prefix (`8926...`): digits that make a valid number with `+` get it."""
    digits = phone.strip()
    if digits.isascii() and digits.isdigit() and not digits.startswith(("8", "0")):
        if numbers.try_parse("+" + digits) is not None:
            return "+" + digits
    return digits


def phones(raw: str | None) -> tuple[str, ...]:
    """`79991112233,+79991112244;79991112255`: separated by , or ; (or new lines)."""
    found = tuple(international(p) for p in _PHONE_SPLIT.split(raw or "") if p.strip())
    if not found:
        raise smsc_errors.BadPhone("phones is missing")
    for phone in found:
        if phone[:1] in ("G", "g"):
            raise smsc_errors.BadPhone(
                f"{phone}: contact groups are not supported on send.php here"
            )
    return found


def text(raw: str | None, *, required: bool = True) -> str:
    found = parsers.text("mes", raw, max_length=MAX_TEXT)
    if found is None or not found.strip():
        if required:
            raise errors.MissingParameter("mes is missing")
        return ""
    return found


def zone(p: Params) -> timezone:
    """`tz`: the time zone of `time`, in hours from Moscow's."""
    hours = number(p, "tz", low=-15, high=15, default=0)
    return timezone(timedelta(hours=3 + hours))


def send_time(raw: str | None, tz: timezone, now: datetime) -> datetime | None:
    """`time`: DDMMYYhhmm (exactly 10 digits), DD.MM.YY hh:mm, h1-h2 (hours of the day),
    0<unix time> (11 digits and more), +<minutes>;
    empty or 0: now. Anything else is SMSC's error 5 (wrong date format)."""
    value = (raw or "").strip()
    if value in ("", "0"):
        return None
    try:
        if value.startswith("+") and value[1:].isdigit() and value.isascii():
            return now + timedelta(minutes=min(int(value[1:]), 525_600))
        if (hours := _HOURS.fullmatch(value)) is not None:
            return _window(int(hours.group(1)), int(hours.group(2)), tz, now)
        if (packed := _DDMMYYHHMM.fullmatch(value)) is not None:
            day, month, year, hour, minute = map(int, packed.groups())
            return datetime(2000 + year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)
        if value.startswith("0") and value.isdigit() and value.isascii():
            found = parsers.timestamp("time", value[1:])
            return found
        if (dotted := _DOTTED.fullmatch(value)) is not None:
            d, mo, y, h, mi, second = dotted.groups()
            full = int(y) + (2000 if len(y) == 2 else 0)
            moment = datetime(full, int(mo), int(d), int(h or 0), int(mi or 0))
            return moment.replace(second=int(second or 0), tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError, errors.BadParameter):
        pass
    raise smsc_errors.BadDate(f"time {value[:30]!r} is not a date SMSC understands")


def _window(first: int, last: int, tz: timezone, now: datetime) -> datetime | None:
    """`h1-h2`: sent between these hours of the day (in `tz`); outside them, at the next h1."""
    if not (0 <= first <= 24 and 0 <= last <= 24):
        raise ValueError("hours are 0 to 24")
    local = now.astimezone(tz)
    inside = (
        first <= local.hour < last if first < last else (local.hour >= first or local.hour < last)
    )
    if inside:
        return None
    start = local.replace(hour=first % 24, minute=0, second=0, microsecond=0)
    if start <= local:
        start += timedelta(days=1)
    return start.astimezone(UTC)


def validity(raw: str | None) -> timedelta | None:
    """`valid`: hours (1..24) or hh:mm."""
    return parsers.duration(
        "valid", raw, unit=timedelta(hours=1), low=timedelta(minutes=1), high=timedelta(hours=24)
    )


def entries(raw: str) -> list[tuple[str, str]]:
    """`list`: one `phone:text` per line (the text may hold more colons); \\n in a text is a new line."""
    found = []
    for number_, line in enumerate(raw.replace("\r\n", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        phone, sep, message = line.partition(":")
        if not sep or not phone.strip():
            raise errors.BadParameter(f"list line {number_} is not phone:text")
        found.append((phone.strip(), message.replace("\\n", "\n")))
    if not found:
        raise errors.BadParameter("list is empty")
    return found


def moscow(moment: datetime | None) -> str:
    """`DD.MM.YYYY hh:mm:ss` in Moscow time, as SMSC writes it ("" for none)."""
    return moment.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M:%S") if moment else ""


def stamp(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment else 0


def date(name: str, raw: str | None, *, end: bool = False) -> datetime | None:
    """`start`/`end` of get.php: dd.mm.yyyy (a time may follow), Moscow time."""
    try:
        return parsers.moment(name, raw, tz=MOSCOW, end=end)
    except errors.BadParameter as exc:
        raise smsc_errors.BadDate(exc.detail) from None


_TRANSLIT: Final = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
        "a b v g d e yo zh z i y k l m n o p r s t u f kh ts ch sh sch ' y ' e yu ya "
        "A B V G D E Yo Zh Z I Y K L M N O P R S T U F Kh Ts Ch Sh Sch ' Y ' E Yu Ya".split(" "),
        strict=True,
    )
)


def translit(value: str) -> str:
    """`translit=1`: Russian letters written in Latin ones (the text then fits GSM-7)."""
    return "".join(_TRANSLIT.get(ch, ch) for ch in value)
