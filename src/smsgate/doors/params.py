"""PHP-style request parameters ($_REQUEST): the query string, then the body over it.

The body may be urlencoded, multipart or JSON, with any Content-Type or none (laravel-semysms
sends JSON with none; scripts send urlencoded with none): it is read by what it says, else by
what it looks like. A key repeated, or written `a[]`, keeps every value (`every("a")`); a plain
lookup gives the last one, as PHP does. A JSON object's scalars become text (true -> "1", 2.0 ->
"2"); its nested values stay in `Params.json`. A charset (windows-1251, koi8-r, utf-8...) decodes
percent-escapes and raw bodies, for vendors whose clients send `charset=` (SMSC).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from smsgate.core import errors

CHARSETS: Final = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "windows-1251": "cp1251",
    "cp1251": "cp1251",
    "koi8-r": "koi8_r",
    "koi8r": "koi8_r",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
}
FORM: Final = "application/x-www-form-urlencoded"
MULTIPART: Final = "multipart/form-data"
MAX_FIELDS: Final = 10_000  # keys in one request; more is refused as a malformed body
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HIGH: Final = re.compile(rb"[\x80-\xff]")


class Params(Mapping[str, str]):
    """Read-only parameters: `p["a"]`/`p.get("a")` is the last value of `a` (or `a[]`)."""

    __slots__ = ("_values", "json")

    def __init__(self, pairs: Iterable[tuple[str, str]] = (), json: Any = None) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in pairs:
            name = key[:-2] if key.endswith("[]") else key
            self._values.setdefault(name, []).append(value)
            if len(self._values) > MAX_FIELDS:
                raise errors.MalformedBody(f"more than {MAX_FIELDS} parameters")
        self.json = json  # the JSON body as parsed, when it was JSON (nested values live here)

    def __getitem__(self, key: str) -> str:
        return self._values[key][-1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def every(self, key: str) -> tuple[str, ...]:
        """All values of a key given more than once (`a=1&a=2`, `a[]=1&a[]=2`), in order."""
        return tuple(self._values.get(key, ()))

    def given(self, key: str) -> str | None:
        """The value, or None when it is absent or blank."""
        value = self.get(key)
        return value if value is not None and value.strip() else None

    def over(self, other: Params) -> Params:
        """These parameters over `other`'s (the body over the query string)."""
        merged = Params(json=self.json if self.json is not None else other.json)
        merged._values = {**other._values, **self._values}
        return merged

    def __repr__(self) -> str:
        return f"Params({self._values!r})"


def codec(charset: str | None) -> str:
    """The Python codec of a charset a client names; BadParameter for one smsgate does not read."""
    if charset is None or not charset.strip():
        return "utf-8"
    found = CHARSETS.get(charset.strip().lower())
    if found is None:
        raise errors.BadParameter(
            f"charset {charset.strip()[:40]!r} is not one of {', '.join(sorted(CHARSETS))}"
        )
    return found


def urlencoded(raw: bytes | str, charset: str = "utf-8") -> Params:
    """`a=1&b=%D0%B0`: percent-escapes and raw bytes decoded with `charset` (bad bytes replaced)."""
    if isinstance(raw, bytes):  # raw non-ASCII bytes (unencoded 1C/PHP scripts) escaped first
        raw = _HIGH.sub(lambda m: b"%%%02X" % m.group()[0], raw).decode("ascii")
    try:
        pairs = parse_qsl(
            raw,
            keep_blank_values=True,
            encoding=charset,
            errors="replace",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError as exc:
        raise errors.MalformedBody(f"the parameters cannot be read: {exc}") from None
    return Params(pairs)


def scalar_text(value: object) -> str | None:
    """A JSON scalar as a form field would carry it; None for objects, lists and null."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**63 else repr(value)
    if isinstance(value, str):
        return value
    return None


def json_value(raw: bytes) -> Any:
    """The JSON body; MalformedBody for what is not JSON (too deep nesting included)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.MalformedBody(f"the body is not JSON: {exc}") from None


def json_object(raw: bytes) -> Params:
    value = json_value(raw)
    if not isinstance(value, dict):
        raise errors.MalformedBody("the body must be a JSON object")
    pairs = []
    for key, item in value.items():
        if isinstance(item, list):  # {"a": [1, 2]} is a repeated key, as a[]=1&a[]=2
            pairs += [(key, t) for t in map(scalar_text, item) if t is not None]
        elif (t := scalar_text(item)) is not None:
            pairs.append((key, t))
    return Params(pairs, json=value)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def body(request: Request, charset: str = "utf-8") -> Params:
    """The body's parameters, read by its Content-Type, else by its look (JSON or urlencoded)."""
    kind = media_type(request)
    if kind == MULTIPART:
        return await _multipart(request)
    raw = await request.body()
    if not raw.strip():
        return Params()
    if kind == FORM:
        return urlencoded(raw, charset)
    if kind == "application/json" or kind.endswith("+json") or raw.lstrip()[:1] in (b"{", b"["):
        return json_object(raw)
    return urlencoded(raw, charset)


async def _multipart(request: Request) -> Params:
    try:
        form = await request.form(max_files=100, max_fields=MAX_FIELDS)
    except errors.GatewayError:
        raise
    except Exception as exc:  # python-multipart's errors, and starlette's limits
        if getattr(exc, "status_code", None) == 413:
            raise
        raise errors.MalformedBody("the multipart form body cannot be read") from None
    return Params((k, v) for k, v in form.multi_items() if isinstance(v, str))


def query(request: Request, charset: str = "utf-8") -> Params:
    return urlencoded(request.scope.get("query_string", b""), charset)


async def read(
    request: Request, *, charset: str | None = None, charset_param: str | None = None
) -> Params:
    """The query string, then the body over it (PHP's $_REQUEST) for POST, PUT, PATCH, DELETE.

    `charset` is the door's default; `charset_param` names a parameter that overrides it
    (SMSC's `charset=`), read from the raw query and body before anything is decoded.
    """
    chosen = codec(charset)
    if charset_param is not None:
        named = await _named_charset(request, charset_param)
        if named is not None:
            chosen = codec(named)
    found = query(request, chosen)
    if request.method in BODY_METHODS:
        found = (await body(request, chosen)).over(found)
    return found


async def _named_charset(request: Request, name: str) -> str | None:
    """The charset a client names, searched in the query then the body without decoding."""
    named = query(request, "latin-1").get(name)
    if request.method in BODY_METHODS and media_type(request) != MULTIPART:
        raw = await request.body()
        if raw.strip() and raw.lstrip()[:1] not in (b"{", b"["):
            named = urlencoded(raw, "latin-1").get(name, named)
        elif raw.strip():
            named = json_object(raw).get(name, named)
    elif request.method in BODY_METHODS:
        named = (await _multipart(request)).get(name, named)
    return named
