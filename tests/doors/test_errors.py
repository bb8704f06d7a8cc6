"""One error road: every failure answered by the door of its path, unexpected ones logged once."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smsgate.core import errors
from smsgate.doors import errors as door_errors


def plain(failure: door_errors.Failure) -> Response:
    body = {"status": failure.status, "detail": failure.detail, "title": failure.title}
    return Response(orjson.dumps(body), status_code=failure.status, media_type="application/json")


def vendor(failure: door_errors.Failure) -> Response:
    body: dict[str, Any] = {"code": failure.code, "error": failure.detail, **failure.context}
    return Response(orjson.dumps(body), status_code=failure.status, media_type="application/json")


class Body(BaseModel):
    n: int


def app(max_body: int = 100) -> FastAPI:
    api = FastAPI()

    @api.get("/v/broken")
    @api.get("/broken")
    async def broken() -> None:
        raise RuntimeError("secret internals")

    @api.get("/v/missing")
    async def missing() -> None:
        raise errors.NotFound("no message 7", index=3, ignored=[1])

    @api.get("/v/unavailable")
    async def unavailable() -> None:
        raise errors.Unavailable("the disk is full", retry_after=7)

    @api.post("/v/typed")
    @api.post("/typed")
    async def typed(body: Body) -> dict[str, int]:
        return {"n": body.n}

    @api.post("/v/batch")
    async def batch(body: Body) -> dict[str, int]:
        return {"n": body.n}

    door_errors.install(
        api,
        [
            door_errors.Door(name="native", prefix="", render=plain),
            door_errors.Door(
                name="vendor",
                prefix="/v/",
                render=vendor,
                status={Exception: 200, errors.Unavailable: 200},
                codes={
                    errors.NotFound: 9,
                    errors.InvalidInput: 8,
                    Exception: 99,
                    HTTPException: 12,
                    door_errors.BodyTooLarge: 8,
                },
                batch_paths=frozenset({"/v/batch"}),
            ),
        ],
        max_body=max_body,
        max_batch_body=10 * max_body,
    )
    return api


def client(api: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(api, raise_app_exceptions=False), base_url="http://t"
    )


async def test_each_path_gets_its_doors_format(caplog: pytest.LogCaptureFixture) -> None:
    async with client(app()) as c:
        answer = await c.get("/v/missing")
        assert (answer.status_code, answer.json()) == (
            200,
            {"code": 9, "error": "no message 7", "index": 3},
        )
        answer = await c.get("/nowhere")
        assert answer.status_code == 404 and answer.json()["detail"] == "Not Found"
        answer = await c.get("/v/nowhere")
        assert answer.status_code == 404 and answer.json()["code"] == 12
        answer = await c.post("/v/missing")
        assert answer.status_code == 405


async def test_unexpected_errors_are_logged_once_and_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        async with client(app()) as c:
            native = await c.get("/broken")
            ours = await c.get("/v/broken")
    assert native.status_code == 500 and "secret" not in native.text
    assert ours.status_code == 200 and ours.json()["code"] == 99 and "secret" not in ours.text
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 2
    assert all("secret internals" in str(r.exc_info[1]) for r in logged if r.exc_info)


async def test_validation_errors_become_one_text() -> None:
    async with client(app()) as c:
        answer = await c.post("/typed", json={"n": "x"})
        assert answer.status_code == 422
        assert answer.json()["detail"].startswith("n: ")
        assert answer.json()["title"] == "The request is not valid"
        answer = await c.post("/v/typed", json={})
        assert answer.status_code == 200 and answer.json()["code"] == 8
        assert "n: Field required" in answer.json()["error"]


async def test_unavailable_says_when_to_retry() -> None:
    async with client(app()) as c:
        answer = await c.get("/v/unavailable")
    assert answer.headers["retry-after"] == "7"


async def test_bodies_over_the_limit_are_refused_before_reading() -> None:
    async with client(app(max_body=100)) as c:
        big = b'{"n": 1' + b" " * 200 + b"}"
        answer = await c.post("/typed", content=big, headers={"content-type": "application/json"})
        assert answer.status_code == 413 and "100 bytes" in answer.json()["detail"]
        answer = await c.post("/v/typed", content=big, headers={"content-type": "application/json"})
        assert answer.status_code == 413 and answer.json()["code"] == 8
        answer = await c.post("/v/batch", content=big, headers={"content-type": "application/json"})
        assert answer.status_code == 200 and answer.json() == {"n": 1}

        async def chunks():  # type: ignore[no-untyped-def]
            yield b'{"n": 1'
            for _ in range(10):
                yield b" " * 50
            yield b"}"

        answer = await c.post(
            "/typed", content=chunks(), headers={"content-type": "application/json"}
        )
        assert answer.status_code == 413


async def test_deep_json_is_refused_cleanly() -> None:
    async with client(app(max_body=10**7)) as c:
        deep = b"[" * 200_000 + b"]" * 200_000
        answer = await c.post("/typed", content=deep, headers={"content-type": "application/json"})
        assert 400 <= answer.status_code < 500


def test_a_registry_needs_a_door_for_every_other_path() -> None:
    with pytest.raises(ValueError, match="empty prefix"):
        door_errors.Doors([door_errors.Door(name="v", prefix="/v/", render=vendor)])
