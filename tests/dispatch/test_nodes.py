"""Two gateway processes on one PostgreSQL database, four phones polling both: every message is
handed out exactly once and none is lost; a long-poll on one node wakes for a send on the other."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_URL, _pg_admin, _pg_or_skip

pytestmark = pytest.mark.pg

TOTAL = 20_000
PHONES = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, schema: str, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "SMSGATE_DATABASE_URL": PG_URL,
            "SMSGATE_DATABASE_SCHEMA": schema,
            "SMSGATE_DATA_DIR": str(data_dir),
            "SMSGATE_PORT": str(self.port),
            "SMSGATE_LOG_LEVEL": "warning",
            "SMSGATE_ACCESS_LOG": "0",
            "COLUMNS": "300",
        }
        # the output goes to a file: a pipe nobody reads fills up and blocks the node
        self.log = data_dir / f"node-{self.port}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("smsgate")), "serve"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        self.output: list[str] = []

    async def ready(self) -> str:
        """Waits for /healthz; returns what the node printed so far."""
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                if self.process.poll() is not None:
                    raise AssertionError("node died: " + self.log.read_text())
                try:
                    if (await client.get(self.url + "/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        return ""

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.log.read_text()


def read_key(node: Node) -> str:
    """The first start's API key: not printed when the output is not a terminal, but written to
    the data directory's first-start.txt."""
    found = re.search(r"(sg_[A-Za-z0-9_-]{20,})", (node.data_dir / "first-start.txt").read_text())
    assert found, node.log.read_text()
    return found.group(1)


async def phone_loop(
    token: str, nodes: list[Node], taken: Counter[int], mine: list[int], stop: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    clients = [httpx.AsyncClient(base_url=n.url, headers=headers, timeout=30) for n in nodes]
    try:
        turn = 0
        while not stop.is_set():
            client = clients[turn % len(clients)]
            turn += 1
            work = (
                await client.get("/device/v1/messages", params={"wait": 1, "limit": 250})
            ).json()["messages"]
            if not work:
                continue
            ids = [m["id"] for m in work]
            taken.update(ids)
            mine.extend(ids)
            reports = [{"id": i, "status": "taken"} for i in ids] + [
                {"id": i, "status": "sent"} for i in ids
            ]
            answer = (
                await clients[turn % len(clients)].post(
                    "/device/v1/reports", json={"reports": reports}
                )
            ).json()
            assert all(r["applied"] for r in answer["results"]), answer
    finally:
        for client in clients:
            await client.aclose()


@pytest.mark.timeout(900)
async def test_two_nodes_hand_out_every_message_exactly_once(tmp_path: Path) -> None:
    _pg_or_skip()
    schema = f"n_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE SCHEMA "{schema}"')
    first = Node(schema, tmp_path)
    await first.ready()
    key = read_key(first)
    second = Node(schema, tmp_path)
    nodes = [first, second]
    try:
        await second.ready()
        auth = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=first.url, headers=auth, timeout=120) as api:
            for device in (await api.get("/api/v1/devices")).json():  # only our four phones send
                await api.delete(f"/api/v1/devices/{device['id']}")
            tokens = [
                (await api.post("/api/v1/devices", json={"name": f"phone {i}"})).json()["token"]
                for i in range(PHONES)
            ]

            # a phone waiting on the second node wakes for a send accepted by the first
            async with httpx.AsyncClient(
                base_url=second.url, headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=30
            ) as phone:
                waiting = asyncio.create_task(phone.get("/device/v1/messages", params={"wait": 20}))
                await asyncio.sleep(0.5)
                sent = (
                    await api.post("/api/v1/messages", json={"to": "+79201234567", "text": "wake"})
                ).json()["messages"][0]
                woke = (await asyncio.wait_for(waiting, 10)).json()["messages"]
                assert [m["id"] for m in woke] == [sent["id"]]
                await phone.post(
                    "/device/v1/reports", json={"reports": [{"id": sent["id"], "status": "sent"}]}
                )

            taken: Counter[int] = Counter()
            per_phone: list[list[int]] = [[] for _ in tokens]
            stop = asyncio.Event()
            loops = [
                asyncio.create_task(phone_loop(t, nodes, taken, per_phone[i], stop))
                for i, t in enumerate(tokens)
            ]
            accepted: list[int] = []
            for start in range(0, TOTAL, 2_000):
                node = nodes[(start // 2_000) % 2]
                batch = [
                    {"to": f"+7920{start + i:07d}", "text": f"m{start + i}"} for i in range(2_000)
                ]
                async with httpx.AsyncClient(
                    base_url=node.url, headers=auth, timeout=120
                ) as client:
                    answer = await client.post("/api/v1/messages/batch", json={"messages": batch})
                assert answer.status_code == 201, answer.text
                accepted.extend(m["id"] for m in answer.json()["messages"])
            for _ in range(3000):  # a bound for a loaded machine, not a speed (5 min)
                if len(taken) >= TOTAL:
                    break
                await asyncio.sleep(0.1)
            stop.set()
            await asyncio.gather(*loops)

            assert len(accepted) == TOTAL == len(set(accepted))
            assert set(taken) == set(accepted), (
                f"{len(set(accepted) - set(taken))} never handed out"
            )
            assert max(taken.values()) == 1, "a message was handed out twice"
            assert all(per_phone), "every phone got work"
    finally:
        outputs = [n.stop() for n in nodes]
        await _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')
    assert all("Traceback" not in out for out in outputs), outputs
