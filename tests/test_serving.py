"""The connection limits of `smsgate serve` (smsgate.serving), on a real server over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from smsgate import serving
from smsgate.config import Settings
from tests.conftest import start_server


async def _closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1024), within) == b""
    except (TimeoutError, ConnectionError):
        return False


async def test_slow_request_heads_are_cut_and_others_are_served(
    settings_for: Callable[..., Settings],
) -> None:
    options = serving.options(head_timeout=1.0)
    uv, task, server = await start_server(settings_for(), background=False, **options)
    port = int(server.url.rsplit(":", 1)[1])
    lorises: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        lorises += [await asyncio.open_connection("127.0.0.1", port) for _ in range(50)]
        for _, writer in lorises:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for _ in range(3):  # a header line now and then: each arrives well within a second
            await asyncio.sleep(0.4)
            for _, writer in lorises:
                writer.write(b"X-Slow: 1\r\n")
        closed = await asyncio.gather(*(_closed_by_server(r, 20.0) for r, _ in lorises))
        assert all(closed), f"{closed.count(False)} of 50 slow connections still open"
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.get("/healthz")).status_code == 200
            await asyncio.sleep(1.5)  # an idle keep-alive connection is kept between requests
            assert (await client.get("/healthz")).status_code == 200
    finally:
        for _, writer in lorises:
            writer.close()
        await asyncio.gather(*(w.wait_closed() for _, w in lorises), return_exceptions=True)
        uv.should_exit = True
        await task
