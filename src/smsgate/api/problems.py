"""Errors as RFC 9457 problem+json: one table from the core error tree to HTTP."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from smsgate.core import errors

log = logging.getLogger(__name__)

STATUS: Final[dict[type[errors.GatewayError], int]] = {
    errors.InvalidInput: 422,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooManyAttempts: 429,
    errors.TooManyRequests: 429,
    errors.NotEnoughMoney: 402,
    errors.Unavailable: 503,
}


def status_of(
    error: errors.GatewayError, table: Mapping[type[errors.GatewayError], int] = STATUS
) -> int:
    """The status of the most specific kind of error the table names (400 if none)."""
    for kind in type(error).__mro__:
        if kind in table:
            return table[kind]
    return 400


def slug(error: type[Exception]) -> str:
    name = error.__name__
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def problem(status: int, title: str, detail: str, kind: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://smsgate.dev/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    headers = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "5"}}.get(status)
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


Door = Callable[[Request, Exception], Awaitable[Response]]


def add_door(app: FastAPI, prefix: str, render: Door) -> None:
    """A dialect answers errors on its own paths in its own format."""
    doors: list[tuple[str, Door]] = getattr(app.state, "error_doors", [])
    doors.append((prefix, render))
    app.state.error_doors = doors


def _door(request: Request) -> Door | None:
    doors: list[tuple[str, Door]] = getattr(request.app.state, "error_doors", [])
    for prefix, render in doors:
        if request.url.path.startswith(prefix):
            return render
    return None


def install(app: FastAPI) -> None:
    """Problem answers everywhere, except on the paths of a door that renders its own."""
    for kind in (errors.GatewayError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(kind, render)


async def render(request: Request, exc: Exception) -> Response:
    """The answer for an error: the door's own format on a dialect's paths, problem+json elsewhere."""
    door = _door(request)
    if door is not None:
        if not isinstance(exc, (errors.GatewayError, RequestValidationError, HTTPException)):
            log.exception(
                "unexpected error on %s %s", request.method, request.url.path, exc_info=exc
            )
        return await door(request, exc)
    if isinstance(exc, errors.GatewayError):
        return await _gateway_error(request, exc)
    if isinstance(exc, RequestValidationError):
        return await _invalid(request, exc)
    if isinstance(exc, HTTPException):
        return await _http(request, exc)
    return await _unexpected(request, exc)


async def _gateway_error(_: Request, exc: errors.GatewayError) -> JSONResponse:
    extra = {k: v for k, v in exc.context.items() if isinstance(v, (int, str))}
    title = (type(exc).__doc__ or "Error").strip().rstrip(".")
    return problem(status_of(exc), title, exc.detail, slug(type(exc)), **extra)


async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    issues = [
        {
            "where": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
            "problem": e.get("msg", ""),
        }
        for e in exc.errors()
    ]
    detail = "; ".join(f"{i['where'] or 'body'}: {i['problem']}" for i in issues[:5])
    return problem(422, "The request is not valid", detail, "invalid-input", errors=issues)


async def _http(_: Request, exc: HTTPException) -> JSONResponse:
    return problem(
        exc.status_code, str(exc.detail), str(exc.detail), "http-" + str(exc.status_code)
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(
        500, "Internal error", "the gateway failed to do this; it has been logged", "internal"
    )
