"""The two busiest routes, served beneath FastAPI's router.

Profiles (bench/RESULTS.md) put FastAPI's router, dependency solver, exception middleware and
exit stacks at over half the CPU of a send. These two routes - send and batch - are answered here
by the same functions the FastAPI routes call (api/routes.py), with the same authentication, the
same models (validated from the raw bytes by pydantic-core) and the same problem+json answers;
every other path goes on to FastAPI unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from smsgate.api import auth, problems, routes, schemas
from smsgate.core.accounts import Account
from smsgate.service import Gateway

Accept = Callable[[Gateway, Any, Account], Awaitable[Response]]

ROUTES: dict[str, tuple[type[BaseModel], Accept]] = {
    "/api/v1/messages": (schemas.SendBody, routes.accept_one),
    "/api/v1/messages/batch": (schemas.BatchBody, routes.accept_batch),
}


class HotPaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = ROUTES.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self._accept(request, *route)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
            response = await problems.render(request, RequestValidationError(errors))
        except Exception as exc:  # every failure answers in problem+json, never a trace
            response = await problems.render(request, exc)
        await response(scope, receive, send)

    @staticmethod
    async def _accept(request: Request, model: type[BaseModel], accept: Accept) -> Response:
        gateway = auth.gateway_of(request)
        account = await gateway.authenticate(auth.bearer(request) or request.headers.get("x-api-key"))
        body = model.model_validate_json(await request.body())
        return await accept(gateway, body, account)
