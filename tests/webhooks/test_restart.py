"""A gateway killed (SIGKILL) with deliveries pending delivers them after it starts again: they
are jobs in the database, not tasks in memory."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import httpx

from smsgate.config import Settings
from tests.test_durability import free_port, serve
from tests.webhooks.receiver import Receiver, ready

MESSAGES = 20


async def test_pending_deliveries_survive_sigkill(
    settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = settings_for()
    port, receiver_port = free_port(), free_port()
    env = {
        **os.environ,
        "SMSGATE_DATA_DIR": str(tmp_path / "data"),
        "SMSGATE_PORT": str(port),
        "SMSGATE_DATABASE_URL": settings.database_url,
        "SMSGATE_DATABASE_SCHEMA": settings.database_schema,
        "SMSGATE_LOG_LEVEL": "warning",
        "SMSGATE_WEBHOOK_TIMEOUT": "2",
        "SMSGATE_WEBHOOK_BACKOFF": "0.2",
        "SMSGATE_WEBHOOK_LONGEST_BACKOFF": "0.5",
    }
    url, log = f"http://127.0.0.1:{port}", tmp_path / "serve.log"
    hook = f"http://127.0.0.1:{receiver_port}/hook"  # nobody listens there yet
    process = serve(env, log)
    try:
        await ready(url, process, log)
        credentials = Path(env["SMSGATE_DATA_DIR"]) / "first-start.txt"  # not a terminal: there
        found = re.search(r"api key: (sg_\S+)", credentials.read_text())
        assert found, log.read_text()
        auth = {"Authorization": f"Bearer {found.group(1)}"}
        async with httpx.AsyncClient(base_url=url, headers=auth, timeout=30) as client:
            made = await client.post(
                "/api/v1/webhooks", json={"url": hook, "events": "message.queued"}
            )
            assert made.status_code == 201, made.text
            sent = await client.post(
                "/api/v1/messages",
                json={"to": [f"+7920123{i:04d}" for i in range(MESSAGES)], "text": "kept"},
            )
            assert sent.status_code == 201, sent.text
            ids = {m["id"] for m in sent.json()["messages"]}

            async def failing() -> list[dict[str, object]]:
                page = (await client.get("/api/v1/webhooks/deliveries?limit=1000")).json()
                found: list[dict[str, object]] = page["deliveries"]
                return found

            for _ in range(600):  # every delivery made and tried at least once, none delivered
                log_now = await failing()
                if len(log_now) == MESSAGES and all(int(d["attempts"]) >= 1 for d in log_now):  # type: ignore[call-overload]
                    break
                await asyncio.sleep(0.05)
            assert len(log_now) == MESSAGES and all(d["state"] == "pending" for d in log_now)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    receiver = Receiver()
    await receiver.start(port=receiver_port)
    process = serve(env, log)  # the same database
    try:
        await ready(url, process, log)
        await receiver.wait_for(
            lambda: len({g.json["message"]["id"] for g in receiver.got}) == MESSAGES, timeout=60
        )
        assert {g.json["message"]["id"] for g in receiver.got} == ids
        assert all(g.json["event"] == "message.queued" for g in receiver.got)
    finally:
        process.terminate()
        process.wait(timeout=15)
        await receiver.stop()
