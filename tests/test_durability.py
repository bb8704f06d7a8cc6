"""An acknowledged message survives SIGKILL of the gateway: a real `smsgate serve`, killed mid-stream."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from smsgate.config import Settings

SENDS = 300
KILL_AFTER = 120  # acknowledged sends before the kill; the rest are in flight or not yet sent
CLIENTS = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from smsgate.cli import main; main()", "serve"]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


async def ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert asyncio.get_running_loop().time() < deadline, log.read_text()
            await asyncio.sleep(0.05)


async def fire_and_kill(url: str, key: str, process: subprocess.Popen[bytes]) -> list[int]:
    acknowledged: list[int] = []
    todo = iter(range(SENDS))
    killed = asyncio.Event()

    async def client_loop() -> None:
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10
        ) as client:
            for i in todo:
                try:
                    answer = await client.post(
                        "/api/v1/messages", json={"to": "+79201234567", "text": f"durable {i}"}
                    )
                except httpx.TransportError:
                    assert killed.is_set(), "the server went away before it was killed"
                    return
                if answer.status_code == 201:
                    acknowledged.append(answer.json()["messages"][0]["id"])
                if len(acknowledged) >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    process.send_signal(signal.SIGKILL)  # in the middle of the other clients' sends

    await asyncio.gather(*(client_loop() for _ in range(CLIENTS)))
    process.wait(timeout=10)
    assert killed.is_set()
    return acknowledged


async def test_acknowledged_messages_survive_sigkill(
    settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = settings_for()
    port = free_port()
    env = {
        **os.environ,
        "SMSGATE_DATA_DIR": str(tmp_path / "data"),
        "SMSGATE_PORT": str(port),
        "SMSGATE_DATABASE_URL": settings.database_url,
        "SMSGATE_DATABASE_SCHEMA": settings.database_schema,
        "SMSGATE_LOG_LEVEL": "warning",
    }
    url, log = f"http://127.0.0.1:{port}", tmp_path / "serve.log"
    process = serve(env, log)
    try:
        await ready(url, process, log)
        credentials = Path(env["SMSGATE_DATA_DIR"]) / "first-start.txt"  # not a terminal: there
        found = re.search(r"api key: (sg_\S+)", credentials.read_text())
        assert found, log.read_text()
        acknowledged = await fire_and_kill(url, found.group(1), process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert len(acknowledged) >= KILL_AFTER and len(set(acknowledged)) == len(acknowledged)

    process = serve(env, log)  # the same data directory / schema
    try:
        await ready(url, process, log)
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {found.group(1)}"}
        ) as client:
            stored: set[int] = set()
            next_url = "/api/v1/messages?limit=1000"
            while next_url:
                page = (await client.get(next_url)).json()
                stored.update(m["id"] for m in page["messages"])
                next_url = (
                    f"/api/v1/messages?limit=1000&cursor={page['next_cursor']}"
                    if page["next_cursor"]
                    else ""
                )
        assert set(acknowledged) <= stored, sorted(set(acknowledged) - stored)
    finally:
        process.terminate()
        process.wait(timeout=15)
