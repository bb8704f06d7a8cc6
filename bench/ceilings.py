"""Ceiling servers for scenario 1, run by uvicorn with uvloop and httptools like `smsgate serve`.

`bare`: a raw ASGI app that reads the request and answers a constant 201: the HTTP ceiling.
`framework`: FastAPI parsing the real SendBody and reading the Bearer header, then answering a
constant 201 without touching the store: what the framework alone costs (informative).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from smsgate.api import auth, schemas

ANSWER = orjson.dumps({"messages": [{"id": 1, "to": "+79201234567", "status": "queued"}]})
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(ANSWER)).encode())]


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 201, "headers": HEADERS})
    await send({"type": "http.response.body", "body": ANSWER})


def _framework() -> Any:
    api = FastAPI()

    async def caller(request: Request) -> str:
        return auth.bearer(request) or ""

    @api.get("/")
    async def root() -> Response:
        return Response(b"{}", media_type="application/json")

    @api.post("/api/v1/messages", status_code=201)
    async def send(body: schemas.SendBody, key: str = Depends(caller)) -> Response:
        return Response(ANSWER, status_code=201, media_type="application/json")

    return api


framework = _framework()
