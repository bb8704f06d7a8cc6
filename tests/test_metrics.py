"""/metrics counts what every door and the CLI did, across processes: two `smsgate serve`
processes on one data directory and database, and CLI sends beside them."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_URL, _pg_admin
from tests.served import served, smsgate


@pytest.fixture
def env(tmp_path: Path, backend: str) -> Iterator[dict[str, str]]:
    values = {
        "SMSGATE_DATA_DIR": str(tmp_path / "data"),
        "SMSGATE_SQLITE_SYNCHRONOUS": "NORMAL",
        "SMSGATE_ACCESS_LOG": "0",
        "SMSGATE_DATABASE_URL": "",
        "SMSGATE_DATABASE_SCHEMA": "",
        "SMSGATE_SWEEP_INTERVAL": "0.1",
    }
    schema = f"t_{uuid.uuid4().hex[:12]}"
    if backend == "postgres":
        asyncio.run(_pg_admin(f'CREATE SCHEMA "{schema}"'))
        values.update(SMSGATE_DATABASE_URL=PG_URL, SMSGATE_DATABASE_SCHEMA=schema)
    yield values
    if backend == "postgres":
        asyncio.run(_pg_admin(f'DROP SCHEMA "{schema}" CASCADE'))


def metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


def key_of(data_dir: str) -> str:
    return re.search(r"api key: (sg_\S+)", (Path(data_dir) / "first-start.txt").read_text())[1]


def stored(url: str, key: str) -> int:
    answer = httpx.get(
        f"{url}/api/v1/messages", params={"limit": 1000}, headers={"X-API-Key": key}, timeout=10
    )
    return len(answer.json()["messages"])


def test_accepted_counts_every_process_and_door(env: dict[str, str], tmp_path: Path) -> None:
    with served(env, tmp_path) as first, served(env, tmp_path) as second:
        key = key_of(env["SMSGATE_DATA_DIR"])
        auth = {"Authorization": f"Bearer {key}"}
        for server in (first, second, first):  # the native door, on two processes
            answer = httpx.post(
                f"{server.url}/api/v1/messages",
                json={"to": "+79201234567", "text": "hi"},
                headers=auth,
            )
            assert answer.status_code == 201, answer.text
        batch = httpx.post(  # the batch: 2 messages
            f"{second.url}/api/v1/messages/batch",
            json={
                "messages": [
                    {"to": "+79201234567", "text": "a"},
                    {"to": "+79201234568", "text": "b"},
                ]
            },
            headers=auth,
        )
        assert batch.status_code == 201, batch.text
        vendor = httpx.get(  # a vendor door
            f"{first.url}/api/3/sms.php", params={"token": key, "phone": "+79201234567", "msg": "x"}
        )
        assert vendor.json()["code"] == "0", vendor.text
        smsgate(env, "send", "+79201234567", "+79201234568", "-t", "from the CLI")  # 2 more
        assert stored(first.url, key) == 8
        for server in (first, second):
            assert metric(server.url, "smsgate_messages_accepted_total") == 8
    with served(env, tmp_path) as again:  # a restart keeps the totals (ended processes folded)
        assert metric(again.url, "smsgate_messages_accepted_total") == 8
        smsgate(env, "send", "+79201234567", "-t", "one more")
        assert metric(again.url, "smsgate_messages_accepted_total") == 9 == stored(again.url, key)
    folded = sorted(p.name for p in (Path(env["SMSGATE_DATA_DIR"]) / "metrics").iterdir())
    assert "counter_archive.db" in folded


def test_devices_waiting_counts_phones_not_the_simulator(
    env: dict[str, str], tmp_path: Path
) -> None:
    with served(env, tmp_path) as server:
        key = key_of(env["SMSGATE_DATA_DIR"])
        assert metric(server.url, "smsgate_devices_waiting") == 0  # the simulator polls all along
        phone = httpx.post(
            f"{server.url}/api/v1/devices", json={"name": "phone"}, headers={"X-API-Key": key}
        ).json()

        async def poll_and_look() -> float:
            headers = {"Authorization": f"Bearer {phone['token']}"}
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                poll = asyncio.create_task(
                    client.get("/device/v1/messages", params={"wait": 20}, headers=headers)
                )
                seen = 0.0
                for _ in range(200):
                    seen = await asyncio.to_thread(metric, server.url, "smsgate_devices_waiting")
                    if seen:
                        break
                    await asyncio.sleep(0.05)
                poll.cancel()
                return seen

        assert asyncio.run(poll_and_look()) == 1
