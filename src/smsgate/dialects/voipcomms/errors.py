"""VoIP-Communications errors: `{"error": true, "error_message": ...}` with the HTTP status."""

from __future__ import annotations

from typing import Final

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from smsgate.core import errors
from smsgate.doors.errors import Door, Failure

STATUS: Final = {
    errors.InvalidInput: 400,
    RequestValidationError: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooManyAttempts: 429,
    errors.Unavailable: 503,
}


def _render(failure: Failure) -> Response:
    text = failure.detail
    if failure.status == 401:
        text = f"Invalid api credentials: {text}"
    body = {"error": True, "error_message": text}
    response = Response(orjson.dumps(body), failure.status, media_type="application/json")
    if failure.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="api"'
    return response


DOOR: Final = Door(name="voipcomms", prefix="/api-v2/", render=_render, status=STATUS)


async def render(request: Request, exc: Exception) -> Response:
    """The error door of /api-v2/ (problems.render logs what was unexpected)."""
    return DOOR.render(DOOR.failure(request, exc))
