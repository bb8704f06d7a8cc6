"""Closed-loop HTTP load: N keep-alive clients sending one message each, back to back, for D seconds.

A `Route` is one way to send: the native `POST /api/v1/messages` (JSON body, Bearer key) or a
vendor dialect's request (SemySMS: `GET /api/3/sms.php?token=...`); a route with `expect` has
every answer's body checked, so a dialect that answers errors with HTTP 200 is not counted as sent.

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
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

from bench.client import connect, encode
from bench.server import HOST

LUA = r"""
wrk.method = os.getenv("BENCH_METHOD")
wrk.path = os.getenv("BENCH_PATH")
local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local key = os.getenv("BENCH_KEY")
if key ~= nil and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end
local expect = os.getenv("BENCH_EXPECT")
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
bad = 0
if expect ~= nil and expect ~= "" then
  -- an answer wrk does not count as an error (status < 400) that is not a 2xx holding `expect`
  function response(status, headers, body)
    if status < 400 and (status < 200 or status > 299 or not string.find(body, expect, 1, true)) then
      bad = bad + 1
    end
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  local wrong = 0
  for _, t in ipairs(threads) do
    wrong = wrong + (t:get("bad") or 0)
  end
  io.write(string.format("BENCH %d %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.status + e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99),
    latency.max, e.status, wrong))
end
"""

SEND_BODY = b'{"to": "+79201234567", "text": "Your code is 493021. It expires in 5 minutes."}'
SEND_TEXT = "Your code is 493021. It expires in 5 minutes."


@dataclass(frozen=True)
class Route:
    """One kind of single send: how the request is written and what a good answer holds."""

    name: str
    method: str
    path: str  # "{key}" is replaced by the URL-quoted API key
    body: bytes | None = None
    bearer: bool = True  # the key goes in an Authorization header
    expect: bytes | None = None  # a good answer's body holds these bytes (checked per answer)

    def path_for(self, key: str) -> str:
        return self.path.replace("{key}", quote(key, safe=""))

    def unchecked(self) -> Route:
        """The same request without the body check (a ceiling answers a constant of its own)."""
        return replace(self, expect=None)


NATIVE = Route("native", "POST", "/api/v1/messages", body=SEND_BODY)
# SemySMS's sms.php: the key as `token`, the same number and text, in the query string of a GET
SEMYSMS = Route(
    "semysms",
    "GET",
    f"/api/3/sms.php?token={{key}}&phone=%2B79201234567&msg={quote(SEND_TEXT, safe='')}",
    bearer=False,
    expect=b'"code":"0"',
)


@dataclass(frozen=True)
class Load:
    rate: float  # successful answers per second
    p50_ms: float
    p99_ms: float
    errors: int  # failed requests: non-2xx answers, socket errors, timeouts, wrong answers
    requests: int
    non_2xx: int = 0  # of errors: answers with a status outside 2xx
    wrong: int = 0  # of errors: 2xx answers without the route's `expect` (e.g. SemySMS code != "0")


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    path = wrk_path()
    if not path:
        return "-"
    out = subprocess.run([path, "-v"], check=False, capture_output=True, text=True, timeout=10)
    return (out.stdout or out.stderr).split("\n", 1)[0].split(" [", 1)[0].strip()


def run_wrk(port: int, key: str, clients: int, seconds: int, route: Route = NATIVE) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    try:
        threads = max(1, min(2, clients))
        path = route.path_for(key)
        command = [
            wrk_path() or "wrk",
            "-t",
            str(threads),
            "-c",
            str(clients),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            script.name,
            f"http://{HOST}:{port}{path}",
        ]
        env = {
            **os.environ,
            "BENCH_METHOD": route.method,
            "BENCH_PATH": path,
            "BENCH_KEY": key if route.bearer else "",
            "BENCH_BODY": (route.body or b"").decode(),
            "BENCH_EXPECT": (route.expect or b"").decode(),
        }
        out = subprocess.run(
            command, check=False, capture_output=True, text=True, env=env, timeout=seconds + 60
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout[-1000:]} {out.stderr[-1000:]}")
    requests, duration_us, errors, p50, p99, _, non_2xx, wrong = (int(x) for x in line.split()[1:])
    # wrk counts answers >= 400 as status errors (non_2xx here); with an `expect` the script counts the
    # other wrong answers (1xx/3xx, or a 2xx without `expect`) apart, and they are not successes either
    errors += wrong
    ok = requests - errors
    return Load(ok / (duration_us / 1e6), p50 / 1000, p99 / 1000, errors, requests, non_2xx, wrong)


async def run_asyncio(
    port: int, key: str, clients: int, seconds: float, route: Route = NATIVE
) -> Load:
    raw = encode(
        route.method,
        route.path_for(key),
        host=f"{HOST}:{port}",
        token=key if route.bearer else None,
        body=route.body,
    )
    expect = route.expect
    latencies: list[float] = []
    non_2xx = wrong = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal non_2xx, wrong
        conn = await connect(HOST, port)
        try:
            while time.perf_counter() < deadline:
                answer, took = await conn.timed(raw)
                if not 200 <= answer.status < 300:
                    non_2xx += 1
                elif expect is not None and expect not in answer.body:
                    wrong += 1
                else:
                    latencies.append(took)
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))), seconds + 60)
    elapsed = time.perf_counter() - started
    load = summarise(latencies, elapsed, non_2xx + wrong)
    return replace(load, non_2xx=non_2xx, wrong=wrong)


def summarise(latencies: list[float], elapsed: float, errors: int = 0) -> Load:
    if not latencies:
        return Load(0.0, float("nan"), float("nan"), errors, errors)
    ordered = sorted(latencies)
    return Load(
        len(ordered) / elapsed,
        percentile(ordered, 50) * 1000,
        percentile(ordered, 99) * 1000,
        errors,
        len(ordered) + errors,
    )


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else float("nan")


async def send_load(
    port: int, key: str, clients: int, seconds: int, generator: str, route: Route = NATIVE
) -> Load:
    if generator == "wrk":
        return await asyncio.to_thread(run_wrk, port, key, clients, seconds, route)
    return await run_asyncio(port, key, clients, seconds, route)
