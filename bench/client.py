"""A lean HTTP/1.1 keep-alive client on raw asyncio streams (no httpx on the hot loop).

One `Connection` is one TCP connection to the server, used for one request at a time. Request
bytes can be built once (`encode`) and re-sent, which is what the load generator does.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import orjson


def encode(
    method: str, path: str, *, host: str, token: str | None = None, body: Any = None
) -> bytes:
    """The bytes of one request; `body` is JSON-encoded (bytes are sent as they are)."""
    payload = b"" if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines.append("Content-Type: application/json")
    lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Connection:
    host: str
    port: int
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    hostport: str = field(init=False)

    def __post_init__(self) -> None:
        self.hostport = f"{self.host}:{self.port}"

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, limit=1 << 24
        )
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
            self.writer = self.reader = None

    def send(self, raw: bytes) -> None:
        assert self.writer is not None
        self.writer.write(raw)

    async def reopen_if_closed(self) -> None:
        """The server closes a keep-alive connection left idle (uvicorn: after 5 s); open a new one."""
        if (
            self.reader is None
            or self.writer is None
            or self.reader.at_eof()
            or self.writer.is_closing()
        ):
            await self.close()
            await self.open()

    async def receive(self) -> Answer:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            return Answer(status, await self._chunks())
        return Answer(status, await self.reader.readexactly(length) if length else b"")

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def request(
        self, method: str, path: str, *, token: str | None = None, body: Any = None
    ) -> Answer:
        await self.reopen_if_closed()
        self.send(encode(method, path, host=self.hostport, token=token, body=body))
        return await self.receive()

    async def timed(self, raw: bytes) -> tuple[Answer, float]:
        """Sends prepared request bytes; the answer and its latency in seconds."""
        await self.reopen_if_closed()
        start = time.perf_counter()
        self.send(raw)
        answer = await self.receive()
        return answer, time.perf_counter() - start


async def connect(host: str, port: int) -> Connection:
    return await Connection(host, port).open()


def expect(answer: Answer, *statuses: int) -> Answer:
    if answer.status not in statuses:
        raise RuntimeError(f"unexpected HTTP {answer.status}: {answer.body[:300]!r}")
    return answer
