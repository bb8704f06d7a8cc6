"""A webhook receiver on loopback: records every delivery, fails the first N on purpose."""

from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn


@dataclass
class Got:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived
    status: int  # what the receiver answered

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    fail_first: int = 0  # answer 500 to this many requests first
    got: list[Got] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status = 500 if len(self.got) < self.fail_first else 200
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.got.append(Got(headers, body, time.monotonic(), status))
        self.arrived.set()
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok" if status == 200 else b"nope"})

    async def start(self, port: int = 0) -> str:
        config = uvicorn.Config(self, host="127.0.0.1", port=port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        bound = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{bound}/hook"
        return self.url

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    def of(self, kind: str) -> list[Got]:
        return [g for g in self.got if g.headers.get("x-smsgate-event") == kind]

    async def wait_for(self, check: Any, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            left = deadline - time.monotonic()
            assert left > 0, f"the receiver got {[g.json for g in self.got]}"
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), min(left, 0.2))
            except TimeoutError:
                pass


async def ready(url: str, process: subprocess.Popen[bytes], log: Path, wait: float = 120) -> None:
    """Waits for a `smsgate serve` subprocess to answer /healthz (a loaded machine starts slowly)."""
    deadline = time.monotonic() + wait
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)
