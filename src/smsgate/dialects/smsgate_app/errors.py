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

from smsgate.api import problems
from smsgate.core import errors

log = logging.getLogger(__name__)

STATUS: Final = {
    **problems.STATUS,
    errors.InvalidInput: 400,
}  # the app's server answers 400, not 422


def answer(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "code": status}, status_code=status)


async def render(request: Request, exc: Exception) -> Response:
    if isinstance(exc, errors.GatewayError):
        return answer(problems.status_of(exc, STATUS), exc.detail)
    if isinstance(exc, RequestValidationError):
        issues = [
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg', '')}"
            for e in exc.errors()[:5]
        ]
        return answer(400, "; ".join(issues) or "the request is not valid")
    if isinstance(exc, HTTPException):
        return answer(exc.status_code, str(exc.detail))
    return answer(500, "the gateway failed to do this; it has been logged")
