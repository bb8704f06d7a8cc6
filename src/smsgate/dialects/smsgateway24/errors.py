"""SmsGateway24 errors: HTTP 200 and `{"error": 1, "message": "..."}`, whatever went wrong.

The vendor publishes no error codes, only `error` 0/1 and a message; HTTP errors (an unknown
method: 404, a method not allowed: 405, a body too large: 413) keep their status and the shape.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from fastapi import Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from smsgate.core import errors
from smsgate.doors import errors as door_errors

PREFIX: Final = "/getdata"


def text_of(failure: door_errors.Failure) -> str:
    if isinstance(failure.error, HTTPException) and failure.status == 404:
        return "no such method"
    if isinstance(failure.error, errors.Unauthorized) and "email or password" in failure.detail:
        return "Login or password incorrect"  # the vendor's own words (its gettoken sample)
    return failure.detail


def render(failure: door_errors.Failure) -> Response:
    body: dict[str, Any] = {"error": 1, "message": text_of(failure), **failure.context}
    return Response(orjson.dumps(body), status_code=failure.status, media_type="application/json")


DOOR: Final = door_errors.Door(
    name="smsgateway24",
    prefix=PREFIX + "/",
    render=render,
    status={Exception: 200, errors.Unavailable: 503},
    batch_paths=frozenset({f"{PREFIX}/addalotofsms"}),
)


async def answer(request: Request, exc: Exception) -> Response:
    """The door's answer for an error on its paths (problems.add_door's signature)."""
    return DOOR.answer(request, exc)
