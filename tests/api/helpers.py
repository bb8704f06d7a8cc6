"""Small things the HTTP tests share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from smsgate.app import App

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 10.0
) -> T:
    """Polls `probe` until `ok` says yes or the deadline passes; returns the last value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if ok(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.02)


async def stored_count(app: App) -> int:
    """Every message in the store, of every account (what a refused request must not change)."""
    return sum((await app.store.count()).values())


def assert_problem(answer: httpx.Response, status: int, *says: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    for text in says:
        assert text.lower() in body["detail"].lower(), body
    return body
