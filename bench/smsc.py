"""The SMSC dialect's send beside the native send: accepted/s and server CPU per accepted message.

    .venv/bin/python -m bench.smsc [--seconds 10] [--clients 32] [--postgres URL] [--rounds 3]

A fresh `smsgate serve` (its simulated phone archived: intake only), then, interleaved for each
round: the native `POST /api/v1/messages`, SMSC `GET /sys/send.php` with `apikey`, and with
`login` + md5 `psw`. SMSC refuses the same send twice in a minute (error 9), so every request's
text carries a counter (the native one too, for the same work). CPU is the server's utime + stime
(/proc) over the run, divided by the answers that accepted a message. Medians of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import statistics
import time
from collections.abc import Callable
from urllib.parse import quote

import orjson

from bench.client import connect, encode
from bench.server import HOST, Backend, Database, start_gateway

PHONE = "+79201234567"
TEXT = "Your code is {n}. It expires in 5 minutes."


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def native(key: str, host: str) -> Callable[[int], bytes]:
    def build(n: int) -> bytes:
        body = orjson.dumps({"to": PHONE, "text": TEXT.format(n=n)})
        return encode("POST", "/api/v1/messages", host=host, token=key, body=body)

    return build


def smsc(auth: str, host: str) -> Callable[[int], bytes]:
    def build(n: int) -> bytes:
        path = f"/sys/send.php?{auth}&phones=79201234567&fmt=3&mes={quote(TEXT.format(n=n))}"
        return encode("GET", path, host=host)

    return build


async def run(
    port: int, pid: int, build: Callable[[int], bytes], clients: int, seconds: float, ok: bytes
) -> tuple[float, float, int]:
    counter = iter(range(10**9))
    accepted = errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal accepted, errors
        conn = await connect(HOST, port)
        try:
            while time.perf_counter() < deadline:
                answer, _ = await conn.timed(build(next(counter) + int(time.time() * 1000) * 1000))
                if answer.status in (200, 201) and ok in answer.body:
                    accepted += 1
                else:
                    errors += 1
        finally:
            await conn.close()

    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    used = cpu_seconds(pid) - cpu
    return accepted / elapsed, used / max(accepted, 1) * 1000, errors


async def main(args: argparse.Namespace) -> None:
    backend = Backend("postgres", args.postgres) if args.postgres else Backend("sqlite")
    database = Database(backend)
    await database.create()
    gateway = await start_gateway(database)
    try:
        host = f"{HOST}:{gateway.port}"
        first = database.directory / "data" / "first-start.txt"
        text = gateway.process.output() + (first.read_text() if first.exists() else "")
        found = re.search(r"(?:dashboard login|email / password)\s+\S+ / (\S+)", text)
        md5 = hashlib.md5(found.group(1).encode()).hexdigest() if found else None
        routes = {
            "native POST /api/v1/messages": (native(gateway.key, host), b'"id"'),
            "SMSC GET send.php apikey": (smsc(f"apikey={quote(gateway.key)}", host), b'"cnt"'),
            **(
                {
                    "SMSC GET send.php login+md5": (
                        smsc(f"login=admin%40localhost&psw={md5}", host),
                        b'"cnt"',
                    )
                }
                if md5
                else {}
            ),
        }
        for build, _ in routes.values():  # warm up: number data, key and sign-in caches
            await run(gateway.port, gateway.pid, build, 2, 1.0, b"")
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in routes}
        for _ in range(args.rounds):
            for name, (build, ok) in routes.items():
                results[name].append(
                    await run(gateway.port, gateway.pid, build, args.clients, args.seconds, ok)
                )
        print(
            f"{backend.name}, {args.clients} clients, {args.seconds:g} s x {args.rounds} rounds (medians)"
        )
        print("| route | accepted/s | server CPU ms per accepted message | refused |")
        print("|---|---:|---:|---:|")
        for name, runs in results.items():
            rate = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            print(f"| {name} | {rate:,.0f} | {cpu:.2f} | {sum(r[2] for r in runs)} |")
    finally:
        gateway.process.stop()
        await database.drop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default="")
    asyncio.run(main(parser.parse_args()))
