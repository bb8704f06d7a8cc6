"""The app's error shape, `{"message": ..., "code": ...}`, for the mobile and client APIs.

401 only for credentials that are unknown or revoked: the app answers a 401 on `PATCH /device` by
registering again, so an outage must never look like one (it is a 500 or 503 here).
"""

from __future__ import annotations

import logging
from typing import Final

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from smsgate.core import errors

log = logging.getLogger(__name__)

STATUS: Final[dict[type[errors.GatewayError], int]] = {
    errors.InvalidInput: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooManyAttempts: 429,
    errors.Unavailable: 503,
}


def answer(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "code": status}, status_code=status)


async def render(request: Request, exc: Exception) -> Response:
    if isinstance(exc, errors.GatewayError):
        status = next((STATUS[k] for k in type(exc).__mro__ if k in STATUS), 400)
        return answer(status, exc.detail)
    if isinstance(exc, RequestValidationError):
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg', '')}"
            for e in exc.errors()[:5]
        ]
        return answer(400, "; ".join(problems) or "the request is not valid")
    if isinstance(exc, HTTPException):
        return answer(exc.status_code, str(exc.detail))
    return answer(500, "the gateway failed to do this; it has been logged")
