"""`smsgate serve` as a user runs it: a subprocess on a free loopback port, its output in a file.

Stopped by its own pid (SIGTERM, then waited for) when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

SMSGATE = [sys.executable, "-c", "from smsgate.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text()


@contextlib.contextmanager
def served(
    env: Mapping[str, str], log_dir: Path, *args: str, cwd: Path | None = None
) -> Iterator[Served]:
    port = free_port()
    log = log_dir / f"serve-{port}.log"
    with log.open("w") as handle:
        process = subprocess.Popen(
            [*SMSGATE, "serve", "--port", str(port), *args],
            env={**os.environ, **env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(1200):
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        else:
            raise AssertionError(f"smsgate serve did not answer:\n{log.read_text()}")
        yield Served(url, port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def smsgate(env: Mapping[str, str], *args: str) -> str:
    """Runs one CLI command in its own process (as a user would); its standard output."""
    done = subprocess.run(
        [*SMSGATE, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout
