"""The busiest routes, served beneath FastAPI's router.

Profiles (bench/RESULTS.md) put FastAPI's router, dependency solver, exception middleware and
exit stacks at over half the CPU of a send. The routes given here - the native send and batch,
and the vendor send paths app.py adds - are answered directly by the same functions their
FastAPI routes call, with the same authentication and validation; every failure is rendered by
problems.render, so each door keeps its own error format. Every other path goes on to FastAPI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from smsgate.api import auth, problems, routes, schemas
from smsgate.core.accounts import Account
from smsgate.service import Gateway

Handler = Callable[[Request], Awaitable[Response]]


def _native(
    model: type[BaseModel], accept: Callable[[Gateway, BaseModel, Account], Awaitable[Response]]
) -> Handler:
    async def handle(request: Request) -> Response:
        gateway = auth.gateway_of(request)
        account = await gateway.accounts.authenticate(
            auth.bearer(request) or request.headers.get("x-api-key")
        )
        body = model.model_validate_json(await request.body())
        return await accept(gateway, body, account)

    return handle


NATIVE: Mapping[tuple[str, str], Handler] = {
    ("POST", "/api/v1/messages"): _native(schemas.SendBody, routes.accept_one),  # type: ignore[arg-type]
    ("POST", "/api/v1/messages/batch"): _native(schemas.BatchEnvelope, routes.accept_batch),  # type: ignore[arg-type]
}


class HotPaths:
    def __init__(self, app: ASGIApp, routes: Mapping[tuple[str, str], Handler] = NATIVE) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = (
            self.routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        )
        if handler is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
            response = await problems.render(request, RequestValidationError(errors))
        except Exception as exc:  # every failure answers in the door's format, never a trace
            response = await problems.render(request, exc)
        await response(scope, receive, send)
