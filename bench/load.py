"""Closed-loop HTTP load: N keep-alive clients POSTing one send each, back to back, for D seconds.

`wrk` (C, epoll, two threads) is preferred: on a 2-core box a Python load generator would eat
the core the server needs and become the bottleneck. Without wrk a lean uvloop client on raw
sockets (bench.client) does the same work; it is slower, and the table says which one ran.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.client import connect, encode
from bench.server import HOST

LUA = r"""
wrk.method = "POST"
wrk.path = "/api/v1/messages"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.status + e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99),
    latency.max))
end
"""

SEND_BODY = b'{"to": "+79201234567", "text": "Your code is 493021. It expires in 5 minutes."}'


@dataclass(frozen=True)
class Load:
    rate: float  # successful answers per second
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    path = wrk_path()
    if not path:
        return "-"
    out = subprocess.run([path, "-v"], check=False, capture_output=True, text=True, timeout=10)
    return (out.stdout or out.stderr).split("\n", 1)[0].split(" [", 1)[0].strip()


def run_wrk(port: int, key: str, clients: int, seconds: int) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    try:
        threads = max(1, min(2, clients))
        command = [
            wrk_path() or "wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s",
            "--timeout", "10s", "-s", script.name, f"http://{HOST}:{port}/api/v1/messages",
        ]
        env = {**os.environ, "BENCH_KEY": key, "BENCH_BODY": SEND_BODY.decode()}
        out = subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=seconds + 60)
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout[-1000:]} {out.stderr[-1000:]}")
    requests, duration_us, errors, p50, p99, _ = (int(x) for x in line.split()[1:])
    ok = requests - errors
    return Load(ok / (duration_us / 1e6), p50 / 1000, p99 / 1000, errors, requests)


async def run_asyncio(port: int, key: str, clients: int, seconds: float) -> Load:
    raw = encode("POST", "/api/v1/messages", host=f"{HOST}:{port}", token=key, body=SEND_BODY)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        conn = await connect(HOST, port)
        try:
            while time.perf_counter() < deadline:
                answer, took = await conn.timed(raw)
                if 200 <= answer.status < 300:
                    latencies.append(took)
                else:
                    errors += 1
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))), seconds + 60)
    elapsed = time.perf_counter() - started
    return summarise(latencies, elapsed, errors)


def summarise(latencies: list[float], elapsed: float, errors: int = 0) -> Load:
    if not latencies:
        return Load(0.0, float("nan"), float("nan"), errors, errors)
    ordered = sorted(latencies)
    return Load(len(ordered) / elapsed, percentile(ordered, 50) * 1000, percentile(ordered, 99) * 1000,
                errors, len(ordered) + errors)


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else float("nan")


async def send_load(port: int, key: str, clients: int, seconds: int, generator: str) -> Load:
    if generator == "wrk":
        return await asyncio.to_thread(run_wrk, port, key, clients, seconds)
    return await run_asyncio(port, key, clients, seconds)
