"""A real `smsgate serve` subprocess on loopback, on a fresh database, and the ceiling servers.

Each `Gateway` gets a fresh SQLite data directory or a fresh PostgreSQL schema (dropped after),
parses the admin key from the welcome text, archives the simulated phone (so it takes no work),
and can report the server's peak RSS since a mark (/proc: clear_refs + VmHWM).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.client import Connection, connect, expect

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def smsgate_command() -> list[str]:
    script = Path(sys.executable).parent / "smsgate"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from smsgate.cli import main; main()"]


@dataclass
class Backend:
    """Where the gateway keeps its data: 'sqlite' or 'postgres' (a URL)."""

    name: str
    pg_url: str = ""
    synchronous: str = "FULL"

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"


@dataclass
class Database:
    """One fresh database: a SQLite file in a temporary directory, or a PostgreSQL schema."""

    backend: Backend
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="smsgate-bench-")))
    schema: str = field(default_factory=lambda: f"bench_{uuid.uuid4().hex[:10]}")

    @property
    def sqlite_path(self) -> Path:
        return self.directory / "data" / "smsgate.db"

    async def create(self) -> None:
        if not self.backend.is_sqlite:
            await pg_execute(self.backend.pg_url, f'CREATE SCHEMA "{self.schema}"')

    async def drop(self) -> None:
        if not self.backend.is_sqlite:
            await pg_execute(self.backend.pg_url, f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        shutil.rmtree(self.directory, ignore_errors=True)

    def env(self) -> dict[str, str]:
        env = {
            "SMSGATE_DATA_DIR": str(self.directory / "data"),
            "SMSGATE_LOG_LEVEL": "warning",
            "SMSGATE_ACCESS_LOG": "0",
            "SMSGATE_SQLITE_SYNCHRONOUS": self.backend.synchronous,
        }
        if not self.backend.is_sqlite:
            env.update(
                SMSGATE_DATABASE_URL=self.backend.pg_url, SMSGATE_DATABASE_SCHEMA=self.schema
            )
        return env


async def pg_execute(url: str, sql: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql://", "postgres://", 1), timeout=10)
    try:
        return str(await connection.execute(sql))
    finally:
        await connection.close()


async def pg_version(url: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql://", "postgres://", 1), timeout=10)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def pg_reachable(url: str) -> bool:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or HOST, parsed.port or 5432), timeout=2):
            return True
    except OSError:
        return False


class Process:
    """A server subprocess we started, stopped by its own pid only."""

    def __init__(self, command: list[str], env: dict[str, str], log_dir: Path, name: str) -> None:
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.pid = self.proc.pid

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def mark_rss(self) -> bool:
        """Resets the kernel's peak-RSS counter of the process (Linux); False when it cannot."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def peak_rss_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None


async def wait_ready(process: Process, port: int, path: str = "/healthz") -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"the server exited early:\n{process.output()[-3000:]}")
        try:
            conn = await connect(HOST, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        try:
            answer = await conn.request("GET", path)
            if answer.status < 500:
                return
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            await conn.close()
        await asyncio.sleep(0.05)
    raise RuntimeError(
        f"the server did not answer within {START_TIMEOUT}s:\n{process.output()[-3000:]}"
    )


@dataclass
class Gateway:
    """A running `smsgate serve` with its admin key."""

    process: Process
    port: int
    key: str
    simulator_id: int | None

    @property
    def pid(self) -> int:
        return self.process.pid

    async def connect(self) -> Connection:
        return await connect(HOST, self.port)


KEY = re.compile(r"(?:API key|api key:)\s+(sg_\S+)")  # the terminal's welcome, or its file
SIMULATOR = re.compile(r"simulated phone\s+device\s+(\d+)")


async def start_gateway(
    database: Database,
    *,
    fresh: bool = True,
    keep_simulator: bool = False,
    workers: int | None = None,
    env: dict[str, str] | None = None,
) -> Gateway:
    """Starts `smsgate serve`; on a fresh database, reads the admin key and archives the simulator
    (unless `keep_simulator`: the journey sends through it)."""
    port = free_port()
    command = [*smsgate_command(), "serve", "--host", HOST, "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    process = Process(
        command, {**database.env(), **(env or {})}, database.directory, f"smsgate-{port}"
    )
    try:
        await wait_ready(process, port)
        key, simulator_id = "", None
        if fresh:
            deadline = time.monotonic() + 10
            credentials = database.directory / "data" / "first-start.txt"  # not a terminal: there

            def said() -> str:
                return process.output() + (credentials.read_text() if credentials.exists() else "")

            while not (found := KEY.search(said())) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if not found:
                raise RuntimeError(f"no API key in the welcome text:\n{process.output()[-2000:]}")
            key = found.group(1)
            device = SIMULATOR.search(process.output())
            simulator_id = int(device.group(1)) if device else None
            if simulator_id is not None and not keep_simulator:
                conn = await connect(HOST, port)
                try:
                    expect(
                        await conn.request("DELETE", f"/api/v1/devices/{simulator_id}", token=key),
                        200,
                    )
                finally:
                    await conn.close()
        return Gateway(process, port, key, simulator_id)
    except BaseException:
        process.stop()
        raise


@contextlib.asynccontextmanager
async def fresh_gateway(backend: Backend) -> AsyncIterator[tuple[Gateway, Database]]:
    database = Database(backend)
    await database.create()
    try:
        gateway = await start_gateway(database)
        try:
            yield gateway, database
        finally:
            gateway.process.stop()
    finally:
        await database.drop()


@contextlib.asynccontextmanager
async def ceiling_server(app: str) -> AsyncIterator[tuple[Process, int]]:
    """uvicorn with uvloop and httptools (as `smsgate serve` runs it) serving bench.ceilings:<app>."""
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="smsgate-bench-ceiling-"))
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        f"bench.ceilings:{app}",
        "--host",
        HOST,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = Process(command, {"PYTHONPATH": str(ROOT)}, log_dir, app)
    try:
        await wait_ready(process, port, "/")
        yield process, port
    finally:
        process.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
