"""SmsGateway24's send beside the native send, and a newsletter to 100,000 contacts.

    .venv/bin/python -m bench.sgw24 [--backend sqlite|postgres] [--seconds 10] [--clients 32]
                                    [--contacts 100000]

A real `smsgate serve` on a fresh database (bench/server.py), the simulated phone archived (intake
only: messages stay queued). Prints:
1. accepted/s, p50/p99 and the server's CPU per accepted message, for the native POST
   /api/v1/messages and for SmsGateway24's GET /getdata/addsms (both on the hot path), one after
   the other on the same server;
2. a newsletter: the contacts imported from CSV into three overlapping lists with the CLI (seconds),
   then a campaign to the three lists: seconds from its creation (its send time) until every
   message is queued, the server's peak RSS while it expands, and the single-send p99 of 8 other
   clients meanwhile (beside their p99 before).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from bench.client import connect, expect
from bench.load import NATIVE, SEND_TEXT, Load, Route, run_asyncio
from bench.server import HOST, Backend, Database, Gateway, smsgate_command, start_gateway

PG_URL = os.environ.get("SMSGATE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def sg24_route(device_id: int) -> Route:
    return Route(
        "smsgateway24",
        "GET",
        f"/getdata/addsms?token={{key}}&device_id={device_id}&sendto=%2B79201234567"
        f"&body={quote(SEND_TEXT, safe='')}",
        bearer=False,
        expect=b'"error":0',
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(
    gateway: Gateway, route: Route, clients: int, seconds: float
) -> tuple[Load, float]:
    before = cpu_seconds(gateway.pid)
    load = await run_asyncio(gateway.port, gateway.key, clients, seconds, route)
    used = cpu_seconds(gateway.pid) - before
    accepted = load.requests - load.errors
    return load, (used / accepted * 1000) if accepted else float("nan")


async def api(gateway: Gateway, method: str, path: str, body: object = None) -> object:
    conn = await connect(HOST, gateway.port)
    try:
        return expect(
            await conn.request(method, path, token=gateway.key, body=body), 200, 201
        ).json()
    finally:
        await conn.close()


def write_csv(path: Path, rows: range) -> None:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["phone", "name", "city"])
        for i in rows:
            out.writerow([f"+7920{i:07d}", f"Name{i}", "Tver"])


def import_lists(database: Database, contacts: int) -> float:
    """Three overlapping lists (0-60%, 30-90%, 60-100% and 0-10%) through `smsgate contacts import`."""
    tenth = contacts // 10
    parts = {
        "a": range(0, 6 * tenth),
        "b": range(3 * tenth, 9 * tenth),
        "c": [*range(6 * tenth, contacts), *range(0, tenth)],
    }
    started = time.perf_counter()
    for name, rows in parts.items():
        path = database.directory / f"{name}.csv"
        write_csv(path, rows)  # type: ignore[arg-type]
        subprocess.run(
            [*smsgate_command(), "contacts", "import", str(path), "--list", name],
            env={**os.environ, **database.env(), "COLUMNS": "100"},
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - started


async def other_clients_p99(gateway: Gateway, seconds: float) -> Load:
    return await run_asyncio(gateway.port, gateway.key, 8, seconds, NATIVE)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--contacts", type=int, default=100_000)
    args = parser.parse_args()
    backend = Backend(args.backend, pg_url=PG_URL)
    database = Database(backend)
    await database.create()
    try:
        gateway = await start_gateway(database)
        try:
            device = await api(gateway, "POST", "/api/v1/devices", {"name": "bench phone"})
            device_id = device["device"]["id"] if "device" in device else device["id"]  # type: ignore[index, operator]
            print(f"backend {args.backend}, {args.clients} clients, {args.seconds:g} s each")
            named = Route(
                "native+device",
                "POST",
                "/api/v1/messages",
                body=(
                    b'{"to": "+79201234567", "text": "'
                    + SEND_TEXT.encode()
                    + b'", "devices": ['
                    + str(device_id).encode()
                    + b"]}"
                ),
            )
            routes = (NATIVE, named, sg24_route(device_id))
            for route in (*routes, *routes):  # twice, interleaved: the first round warms up
                load, cpu = await measured(gateway, route, args.clients, args.seconds)
                print(
                    f"  {route.name:13} {load.rate:8.0f} accepted/s  p50 {load.p50_ms:6.1f} ms"
                    f"  p99 {load.p99_ms:7.1f} ms  CPU {cpu:.2f} ms/message  errors {load.errors}"
                )
            await expansion(gateway, database, args.contacts)
        finally:
            gateway.process.stop()
    finally:
        await database.drop()


async def expansion(gateway: Gateway, database: Database, contacts: int) -> None:
    imported = import_lists(database, contacts)
    lists = await api(gateway, "GET", "/api/v1/lists")
    ids = [x["id"] for x in lists["lists"]]  # type: ignore[index]
    print(
        f"newsletter: {contacts} contacts in 3 overlapping lists, imported in {imported:.1f} s (CSV, CLI)"
    )
    before = await other_clients_p99(gateway, 3)
    marked = gateway.process.mark_rss()
    made = await api(
        gateway,
        "POST",
        "/api/v1/campaigns",
        {"name": "bench", "text": "Hi {name} from {city}", "lists": ids},
    )
    started = time.perf_counter()
    others = asyncio.create_task(other_clients_p99(gateway, 3))
    while True:
        shown = await api(gateway, "GET", f"/api/v1/campaigns/{made['id']}")  # type: ignore[index]
        if shown["status"] not in ("scheduled", "expanding"):  # type: ignore[index]
            break
        await asyncio.sleep(0.02)
    expanded = time.perf_counter() - started
    during = await others
    peak = gateway.process.peak_rss_mb() if marked else None
    progress = shown["progress"]  # type: ignore[index]
    print(
        f"  {progress['expanded']} messages queued {expanded:.1f} s after its send time"
        f" ({progress['expanded'] / expanded:.0f}/s), server peak RSS while expanding "
        f"{peak if peak is not None else float('nan'):.0f} MB"
    )
    print(
        f"  other clients' single-send p99: {before.p99_ms:.1f} ms before, {during.p99_ms:.1f} ms"
        f" during the expansion ({during.rate:.0f}/s, errors {during.errors})"
    )


if __name__ == "__main__":
    asyncio.run(main())
