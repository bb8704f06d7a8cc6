"""SMSC's errors: always HTTP 200, in the format the request asked for (fmt 0-3), with the vendor's
codes and texts, in the request's charset.

    fmt=0  ERROR = 2 (authorise error)            (+ ", ID - <id>" on send.php for 3, 6, 7, 8)
    fmt=1  0,-2                                   (<id>,-N on send.php when the client gave an id)
    fmt=2  <result><error>authorise error</error><error_code>2</error_code></result>
    fmt=3  {"error": "authorise error", "error_code": 2, "detail": "..."}
"""

from __future__ import annotations

import logging
from typing import Any, Final

import orjson
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from smsgate.core import errors

log = logging.getLogger(__name__)


class BadDate(errors.BadParameter):
    """The date is not in a format SMSC understands."""


class BadPhone(errors.InvalidNumber):
    """The phone numbers cannot be read."""


class NothingFound(errors.NotFound):
    """Nothing matches."""


CODES: Final[dict[type[Exception], int]] = {
    errors.InvalidInput: 1,
    RequestValidationError: 1,
    HTTPException: 1,
    errors.Unauthorized: 2,
    errors.Forbidden: 2,
    errors.NotEnoughMoney: 3,
    NothingFound: 3,
    errors.TooManyAttempts: 4,
    BadDate: 5,
    errors.SendTimeInPast: 5,
    errors.SenderNotAllowed: 6,
    errors.InvalidNumber: 7,
    errors.Unpriced: 8,
    errors.TooManyRequests: 9,
    errors.NotFound: 3,
    errors.Conflict: 1,
}
TEXTS: Final = {
    1: "parameters error",
    2: "authorise error",
    3: "no money",
    4: "IP is blocked",
    5: "invalid date format",
    6: "message is denied",
    7: "invalid number",
    8: "can't deliver",
    9: "duplicate request, wait a minute",
}
INTERNAL: Final = 1  # an unexpected failure (logged) answers as a parameters error, never a trace
ID_CODES: Final = frozenset({3, 6, 7, 8})  # send.php echoes the client's id with these (fmt=0)


def code_of(exc: Exception) -> int:
    for kind in type(exc).__mro__:
        if kind in CODES:
            return CODES[kind]
    return INTERNAL


def detail_of(exc: Exception) -> str:
    if isinstance(exc, errors.GatewayError):
        return exc.detail
    if isinstance(exc, HTTPException):
        return "no such method" if exc.status_code == 404 else str(exc.detail)
    if isinstance(exc, RequestValidationError):
        return "the request is not valid"
    return "the gateway failed to do this; it has been logged"


def body(fmt: int, code: int, detail: str, client_id: int | str | None, *, send: bool) -> str:
    text = TEXTS.get(code, "error")
    if fmt == 1:
        return f"{client_id if send and client_id is not None else 0},-{code}"
    if fmt == 2:
        extra = f"<id>{client_id}</id>" if send and client_id is not None else ""
        return f"<result><error>{text}</error><error_code>{code}</error_code>{extra}</result>"
    if fmt == 3:
        found: dict[str, Any] = {"error": text, "error_code": code}
        if send and client_id is not None:
            found["id"] = client_id
        found["detail"] = detail
        return orjson.dumps(found).decode()
    tail = f", ID - {client_id}" if send and client_id is not None and code in ID_CODES else ""
    return f"ERROR = {code} ({text}){tail}"


async def render(request: Request, exc: Exception) -> Response:
    """The error door of /sys/: SMSC's shape in the asked format, HTTP 200, never a trace."""
    from smsgate.dialects.smsc import schemas, wire

    if not isinstance(exc, (errors.GatewayError, HTTPException, RequestValidationError)):
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    w = wire.wire_of(request)
    client_id = getattr(request.state, "smsc_id", None)
    send = request.url.path.rstrip("/").endswith("/send.php")
    text = body(w.fmt, code_of(exc), detail_of(exc), client_id, send=send)
    return schemas.answer(text, w)
