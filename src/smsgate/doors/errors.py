"""One error road for every door: each door is a table and a renderer, installed by path prefix.

Whatever fails inside a request - a core error, a validation error (FastAPI's or pydantic's), an
HTTP error (404, 405, 413...) or an unexpected exception - ends in `answer(request, exc)`, which
finds the door whose prefix the path starts with (the longest wins) and lets it render a `Failure`:
the HTTP status and vendor code from its tables, the text, the context. Unexpected exceptions are
logged once with their traceback and never shown: the client gets the door's 500 (or whatever its
table says). `install` registers the handlers and a guard middleware that also refuses bodies over
the size limit (413, before the body is parsed) and keeps unexpected errors from reaching the
server's own error middleware (which logged them again and dropped the connection).

A door:

    DOOR = errors.Door(
        name="semysms", prefix="/api/3/", render=render,
        status={Exception: 200},               # SemySMS answers errors with HTTP 200...
        codes={core_errors.Unauthorized: 1, ...},   # ...and a code of its own
    )
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pydantic
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smsgate.core import errors

log = logging.getLogger("smsgate.doors")

MAX_BODY: Final = 1024 * 1024  # the default body size limit, bytes
MAX_BATCH_BODY: Final = 32 * 1024 * 1024  # on the paths a door names as batch paths
INTERNAL: Final = "the gateway failed to do this; it has been logged"

STATUS: Final[Mapping[type[Exception], int]] = {
    errors.InvalidInput: 422,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooManyAttempts: 429,
    errors.TooManyRequests: 429,
    errors.NotEnoughMoney: 402,
    errors.Unavailable: 503,
    errors.GatewayError: 400,
    RequestValidationError: 422,
    Exception: 500,
}
"""The core tree on HTTP; a door's own table is laid over it. HTTP errors keep their status."""


class BodyTooLarge(HTTPException):
    """The request body is larger than this gateway accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit} bytes")


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem a validation error found: where (`messages.3.to`, empty = the body) and what."""

    where: str
    problem: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """What a door renders: everything it needs, looked up in its tables already."""

    request: Request
    error: Exception
    status: int
    code: int | str | None
    detail: str
    title: str
    context: Mapping[str, int | str] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()

    @property
    def invalid(self) -> bool:
        """A validation error (the request does not have the expected shape)."""
        return isinstance(self.error, RequestValidationError)

    @property
    def unexpected(self) -> bool:
        return not isinstance(
            self.error, (errors.GatewayError, HTTPException, RequestValidationError)
        )


Render = Callable[[Failure], Response]


def lookup(table: Mapping[type[Exception], Any], error: Exception) -> Any:
    """The entry of the most specific kind of `error` the table names, or None. A validation
    error is a kind of errors.BadParameter for tables that do not name it."""
    kinds: tuple[type, ...] = type(error).__mro__
    if isinstance(error, RequestValidationError):
        kinds = kinds[: kinds.index(Exception)] + errors.BadParameter.__mro__
    for kind in kinds:
        if kind in table:
            return table[kind]
    return None


@dataclass(frozen=True, kw_only=True)
class Door:
    """A door's error table and renderer. `status` is laid over STATUS; `codes` is the vendor's."""

    name: str
    prefix: str
    render: Render
    status: Mapping[type[Exception], int] = field(default_factory=dict)
    codes: Mapping[type[Exception], int | str] = field(default_factory=dict)
    batch_paths: frozenset[str] = frozenset()  # paths allowed MAX_BATCH_BODY

    def status_of(self, error: Exception) -> int:
        if isinstance(error, HTTPException):
            return error.status_code
        found = lookup(self.status, error)
        return int(found if found is not None else lookup(STATUS, error))

    def failure(self, request: Request, error: Exception) -> Failure:
        if isinstance(error, pydantic.ValidationError):
            error = validation_error(error)
        issues = issues_of(error) if isinstance(error, RequestValidationError) else ()
        return Failure(
            request=request,
            error=error,
            status=self.status_of(error),
            code=lookup(self.codes, error),
            detail=detail_of(error, issues),
            title=title_of(error),
            context=context_of(error),
            issues=issues,
        )

    def answer(self, request: Request, error: Exception) -> Response:
        failure = self.failure(request, error)
        if failure.unexpected:
            log.error(
                "unexpected error on %s %s",
                request.method,
                request.url.path,
                exc_info=(type(error), error, error.__traceback__),
            )
        response = self.render(failure)
        if isinstance(error, errors.Unavailable) and "retry-after" not in response.headers:
            retry = error.context.get("retry_after", 1)
            response.headers["Retry-After"] = str(retry if isinstance(retry, int) else 1)
        if isinstance(error, HTTPException) and error.headers:
            for name, value in error.headers.items():
                response.headers.setdefault(name, value)
        return response


# --- the one place each kind of error becomes text ----------------------------------------------


def validation_error(error: pydantic.ValidationError) -> RequestValidationError:
    """A pydantic error from a model read by hand (the hot path) as FastAPI reports body errors."""
    return RequestValidationError(
        [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
    )


def issues_of(error: RequestValidationError) -> tuple[Issue, ...]:
    found = []
    for e in error.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path"))
        found.append(Issue(where, str(e.get("msg", "")).removeprefix("Value error, ")))
    return tuple(found)


def detail_of(error: Exception, issues: Sequence[Issue] = ()) -> str:
    if isinstance(error, errors.GatewayError):
        return error.detail
    if isinstance(error, RequestValidationError):
        text = "; ".join(f"{i.where or 'body'}: {i.problem}" for i in issues[:5])
        return text or "the request is not valid"
    if isinstance(error, HTTPException):
        return str(error.detail)
    return INTERNAL


def title_of(error: Exception) -> str:
    if isinstance(error, RequestValidationError):
        return "The request is not valid"
    if isinstance(error, HTTPException):
        return str(error.detail)
    if isinstance(error, errors.GatewayError):
        return (type(error).__doc__ or "Error").strip().rstrip(".")
    return "Internal error"


def context_of(error: Exception) -> dict[str, int | str]:
    if not isinstance(error, errors.GatewayError):
        return {}
    return {k: v for k, v in error.context.items() if isinstance(v, (int, str))}


# --- one registry per application ---------------------------------------------------------------


class Doors:
    """The doors of one application, found by path prefix (the longest first)."""

    def __init__(
        self,
        doors: Sequence[Door],
        *,
        max_body: int = MAX_BODY,
        max_batch_body: int = MAX_BATCH_BODY,
    ) -> None:
        if not any(d.prefix == "" for d in doors):
            raise ValueError("one door must have the empty prefix: it answers every other path")
        self.doors = sorted(doors, key=lambda d: len(d.prefix), reverse=True)
        self.max_body = max_body
        self.max_batch_body = max_batch_body

    def door_for(self, path: str) -> Door:
        for door in self.doors:
            if path.startswith(door.prefix):
                return door
        raise AssertionError("unreachable: the empty prefix matches every path")

    def limit_for(self, path: str) -> int:
        door = self.door_for(path)
        return self.max_batch_body if path in door.batch_paths else self.max_body


def doors_of(request: Request) -> Doors:
    found: Doors = request.app.state.doors
    return found


async def answer(request: Request, error: Exception) -> Response:
    """The answer to any failure, in the format of the door the request came through."""
    return doors_of(request).door_for(request.url.path).answer(request, error)


def install(
    app: FastAPI,
    doors: Sequence[Door],
    *,
    max_body: int = MAX_BODY,
    max_batch_body: int = MAX_BATCH_BODY,
) -> Doors:
    """Every error of `app` answered by its door. Call it after adding the other middleware:
    the guard must be the outermost."""
    registry = Doors(doors, max_body=max_body, max_batch_body=max_batch_body)
    app.state.doors = registry
    for kind in (
        errors.GatewayError,
        RequestValidationError,
        HTTPException,
        pydantic.ValidationError,
    ):
        app.add_exception_handler(kind, answer)
    app.add_middleware(Guard, doors=registry)
    return registry


class Guard:
    """Refuses bodies over the limit (413, before anything reads them) and answers every
    exception that escapes the routes in its door's format, logged once."""

    def __init__(self, app: ASGIApp, doors: Doors) -> None:
        self.app = app
        self.doors = doors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.doors.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            response = await self._answer(scope, BodyTooLarge(limit))
            response.headers["Connection"] = "close"  # the body stays unread
            await response(scope, receive, send)
            return
        started = False
        received = 0

        async def receiving() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        except Exception as exc:
            if started:  # too late for an answer: the server closes the connection
                log.error("error after the answer began on %s", scope["path"], exc_info=exc)
                return
            response = await self._answer(scope, exc)
            await response(scope, receive, send)

    async def _answer(self, scope: Scope, error: Exception) -> Response:
        return self.doors.door_for(scope["path"]).answer(Request(scope), error)
