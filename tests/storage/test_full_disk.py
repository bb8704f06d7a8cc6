"""A full disk: sends answer 503 with Retry-After, /healthz says why, nothing acknowledged is lost,
and the gateway recovers by itself once there is room again. SQLite on a small tmpfs the test
mounts (as root; skipped with the reason where it cannot)."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from smsgate.config import Settings
from tests.conftest import start_server

SEND = {"to": "+79201234567", "text": "fills the disk"}


@contextlib.contextmanager
def small_disk(where: Path) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


async def test_a_full_disk_answers_503_and_recovers(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        settings = Settings(data_dir=disk, sqlite_synchronous="NORMAL", sweep_interval=0.2)
        uv, task, server = await start_server(settings)
        try:
            async with server.client() as client:
                acknowledged = []
                for _ in range(5):
                    answer = await client.post("/api/v1/messages", json=SEND)
                    assert answer.status_code == 201, answer.text
                    acknowledged.append(answer.json()["messages"][0]["id"])
                filler = fill(disk)
                refused = None
                for _ in range(300):  # the WAL may still hold a few pages
                    answer = await client.post("/api/v1/messages", json={**SEND, "text": "x" * 600})
                    if answer.status_code == 201:
                        acknowledged.append(answer.json()["messages"][0]["id"])
                        continue
                    refused = answer
                    break
                assert refused is not None, "the full disk never refused a send"
                assert refused.status_code == 503, refused.text
                assert refused.headers["content-type"].startswith("application/problem+json")
                assert int(refused.headers["retry-after"]) > 0
                assert "disk is full" in refused.json()["detail"]
                health = await client.get("/healthz")
                assert health.status_code == 503 and "disk is full" in health.json()["reason"]

                filler.unlink()
                answer = await client.post("/api/v1/messages", json=SEND)
                assert answer.status_code == 201, answer.text
                acknowledged.append(answer.json()["messages"][0]["id"])
                assert (await client.get("/healthz")).status_code == 200
                for message_id in acknowledged:
                    found = await client.get(f"/api/v1/messages/{message_id}")
                    assert found.status_code == 200, (message_id, found.text)
        finally:
            uv.should_exit = True
            await task
