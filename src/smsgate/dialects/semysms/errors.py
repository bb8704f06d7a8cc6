"""SemySMS errors: HTTP 200 with a non-zero `code` and an `error` text, one table from the core tree.

SemySMS does not publish its error codes (the documentation's parameter tables were lost and
no client we found lists them; laravel-semysms only checks `code != '0'` and shows `error`).
These codes are smsgate's own, stable, and listed in the package docstring.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from smsgate.core import errors

log = logging.getLogger(__name__)


class MissingParameter(errors.InvalidInput):
    """A required parameter is missing."""


class BadParameter(errors.InvalidInput):
    """A parameter has a value that cannot be read."""


class MalformedBody(errors.InvalidInput):
    """The body is not the JSON object with a `data` list that sms_more.php expects."""


class Unsupported(errors.InvalidInput):
    """smsgate does not do this SemySMS feature."""


# most specific first is not needed: the lookup walks each error's class hierarchy
CODES: Final[dict[type[Exception], int]] = {
    errors.Unauthorized: 1,
    errors.Forbidden: 2,
    errors.InvalidDevice: 3,
    errors.InvalidNumber: 4,
    errors.EmptyText: 5,
    errors.TextTooLong: 6,
    MalformedBody: 7,
    errors.InvalidInput: 8,
    RequestValidationError: 8,
    errors.NotFound: 9,
    errors.Conflict: 10,
    Unsupported: 11,
    HTTPException: 12,
    errors.Unavailable: 98,
}
INTERNAL: Final = 99

# methods whose `code` is an integer (devices.php and user.php answer `"code":0`, the others `"0"`)
INTEGER_CODE_PATHS: Final = frozenset({"/api/3/devices.php", "/api/3/user.php"})


def code_of(exc: Exception) -> int:
    for kind in type(exc).__mro__:
        if kind in CODES:
            return CODES[kind]
    return INTERNAL


def text_of(exc: Exception) -> str:
    if isinstance(exc, errors.GatewayError):
        return exc.detail
    if isinstance(exc, HTTPException):
        return "no such method" if exc.status_code == 404 else str(exc.detail)
    if isinstance(exc, RequestValidationError):
        return (
            "; ".join(str(e.get("msg", "")) for e in exc.errors()[:5]) or "the request is not valid"
        )
    return "the gateway failed to do this; it has been logged"


def code_for(path: str, code: int) -> int | str:
    return code if path.rstrip("/") in INTEGER_CODE_PATHS else str(code)


async def render(request: Request, exc: Exception) -> Response:
    """The error door of /api/3/: always SemySMS's shape, never a stack trace."""
    body: dict[str, Any] = {"code": code_for(request.url.path, code_of(exc)), "error": text_of(exc)}
    if isinstance(exc, errors.GatewayError):
        body.update({k: v for k, v in exc.context.items() if isinstance(v, (int, str))})
    status = exc.status_code if isinstance(exc, HTTPException) else 200
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
