"""python -m bench: the whole suite against a real `smsgate serve` on loopback, then the table.

Every figure is the median of --runs runs; ceilings are measured in the same run and printed
beside each figure with their ratio. See bench/RESULTS.md for a full run and its profile.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from importlib import metadata
from pathlib import Path

from bench import scenarios
from bench.load import median, wrk_path, wrk_version
from bench.scenarios import CEILING, Config, Results, log
from bench.server import ROOT, Backend, pg_reachable, pg_version

PG_URL = os.environ.get("SMSGATE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PACKAGES = [
    "smsgate",
    "fastapi",
    "starlette",
    "pydantic",
    "uvicorn",
    "uvloop",
    "httptools",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "orjson",
]
SCENARIOS = ["sends", "batch", "wake", "dispatch", "listings", "journey"]
QUICK = Config(
    runs=1,
    clients=(1, 16),
    seconds=1,
    batch_sizes=(1_000, 5_000),
    batch_chunk=1_000,
    wake_samples=20,
    dispatch_total=2_000,
    dispatch_phones=5,
    dispatch_pull=100,
    dispatch_timeout=60,
    listing_rows=(20_000,),
    listing_queries=20,
    journey_requests=100,
    journey_clients=8,
    journey_seconds=10,
    journey_routes=("native", "semysms"),
    journey_warmup=0,
    journey_idle=10,
    journey_kannel=False,
    journey_env=(
        ("SMSGATE_SIM_SENT_AFTER", "0.05"),
        ("SMSGATE_SIM_DELIVERED_AFTER", "0.05"),
        ("SMSGATE_SIM_REPLY_AFTER", "0.05"),
    ),
)


def ints(text: str) -> tuple[int, ...]:
    return tuple(int(x.replace("_", "")) for x in text.split(",") if x.strip())


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, Config]:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "--quick", action="store_true", help="tiny sizes, one run (a smoke test, not a measurement)"
    )
    p.add_argument(
        "--db", default="sqlite,postgres", help="comma list of sqlite, postgres (default both)"
    )
    p.add_argument(
        "--only", default=",".join(SCENARIOS), help=f"comma list of {', '.join(SCENARIOS)}"
    )
    p.add_argument("--runs", type=int, help="runs per figure (the median is shown); default 3")
    p.add_argument(
        "--clients", type=ints, help="concurrent clients for single sends; default 1,32,256"
    )
    p.add_argument("--seconds", type=int, help="seconds per single-send run; default 5")
    p.add_argument("--batch-sizes", type=ints, help="default 10000,100000")
    p.add_argument("--batch-chunk", type=int, help="messages per batch request; default 10000")
    p.add_argument("--wake-samples", type=int, help="sends per wake run; default 200")
    p.add_argument(
        "--dispatch-total", type=int, help="queued messages per dispatch run; default 100000"
    )
    p.add_argument("--dispatch-phones", type=int, help="default 50")
    p.add_argument("--dispatch-pull", type=int, help="messages per pull; default 100")
    p.add_argument(
        "--listing-rows", type=ints, help="stored messages for the listings; default 1000000"
    )
    p.add_argument(
        "--ten-million", action="store_true", help="also list at 10,000,000 rows (slow to load)"
    )
    p.add_argument("--listing-queries", type=int, help="queries per filter per run; default 200")
    p.add_argument("--journey-requests", type=int, help="sends per journey run; default 20000")
    p.add_argument("--journey-clients", type=int, help="connections for the journey; default 32")
    p.add_argument(
        "--journey-seconds", type=float, help="the journey's load stops after this; default 30"
    )
    p.add_argument("--journey-routes", help="comma list of native, any, semysms; default all three")
    p.add_argument("--journey-workers", type=int, help="`serve --workers N` for the journey")
    p.add_argument("--no-kannel", action="store_true", help="journey without Kannel beside it")
    p.add_argument("--loadgen", choices=["auto", "wrk", "asyncio"], default="auto")
    p.add_argument(
        "--no-framework-ceiling", action="store_true", help="skip the FastAPI-only reference server"
    )
    p.add_argument("--pg-url", default=PG_URL)
    p.add_argument(
        "--synchronous",
        default=os.environ.get("SMSGATE_SQLITE_SYNCHRONOUS", "FULL").upper(),
        help="SQLite synchronous for the gateway (FULL: durable through power loss)",
    )
    p.add_argument("--out", type=Path, help="also write the table (markdown) to this file")
    args = p.parse_args(argv)
    cfg = QUICK if args.quick else Config()
    changes = {
        name: getattr(args, name)
        for name in (
            "runs",
            "clients",
            "seconds",
            "batch_sizes",
            "batch_chunk",
            "wake_samples",
            "dispatch_total",
            "dispatch_phones",
            "dispatch_pull",
            "listing_rows",
            "listing_queries",
            "journey_requests",
            "journey_clients",
            "journey_seconds",
            "journey_workers",
        )
        if getattr(args, name) is not None
    }
    if args.journey_routes:
        routes = tuple(x.strip() for x in args.journey_routes.split(",") if x.strip())
        if set(routes) - {"native", "any", "semysms"}:
            p.error(f"unknown journey route in {args.journey_routes!r}")
        changes["journey_routes"] = routes
    if args.no_kannel:
        changes["journey_kannel"] = False
    if args.ten_million:
        changes["listing_rows"] = (*changes.get("listing_rows", cfg.listing_rows), 10_000_000)
    generator = args.loadgen if args.loadgen != "auto" else ("wrk" if wrk_path() else "asyncio")
    only = frozenset(x.strip() for x in args.only.split(",") if x.strip())
    unknown = only - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenario {', '.join(sorted(unknown))}")
    cfg = replace(
        cfg,
        generator=generator,
        only=only,
        ceiling_framework=not args.no_framework_ceiling,
        **changes,
    )
    return args, cfg


def versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def commit() -> str:
    """The commit under test, marked dirty when src/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return head + (" + uncommitted changes in src/" if dirty else "")


def header(args: argparse.Namespace, cfg: Config, backends: list[Backend], pg: str) -> list[str]:
    load = os.getloadavg()
    gen = (
        f"wrk ({wrk_version()}, 2 threads)"
        if cfg.generator == "wrk"
        else "raw-asyncio keep-alive client (uvloop)"
    )
    lines = [
        f"smsgate bench, {time.strftime('%Y-%m-%d %H:%M %Z')}, host {platform.node()}, commit {commit()}",
        (
            f"machine: {os.cpu_count()} cores ({cpu_model()}), {platform.system()} {platform.release()}, "
            f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        ),
        (
            f"Python {platform.python_version()}; {versions()}; SQLite {sqlite3.sqlite_version}"
            + (f"; PostgreSQL {pg}" if pg else "")
        ),
        f"load generator: {gen}; runs per figure: {cfg.runs} (median)"
        + (" [--quick: not a measurement]" if args.quick else ""),
        (
            f"databases: {', '.join(b.name for b in backends)}; SQLite synchronous={args.synchronous}, WAL; "
            f"send body {len(scenarios.SEND_BODY)} bytes; single-send runs {cfg.seconds} s each"
        ),
    ]
    return lines


def fmt(value: float, kind: str) -> str:
    if math.isnan(value):
        return "-"
    if kind == "rate" or kind == "info":
        return f"{value:,.0f}"
    if kind == "mb":
        return f"{value:,.0f}"
    if kind == "s":
        return f"{value:.2f}"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def ratio(value: float, ceiling: float, kind: str) -> str:
    if math.isnan(value) or math.isnan(ceiling) or not ceiling or not value:
        return ""
    if kind == "rate":
        return f"{value / ceiling:.0%}"
    if kind == "ms":
        return f"{value / ceiling:,.1f}x"
    return ""


def table(results: Results, backends: list[Backend]) -> list[str]:
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    heads = ["scenario", "figure"]
    for b in backends:
        heads += [names[b.name], "ceiling", "ratio"]
    framework = any("fastapi-only" in r.values for r in results.rows.values())
    if framework:
        heads.append("FastAPI only, no store")
    lines = [
        "| " + " | ".join(heads) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * (len(heads) - 2)) + "|",
    ]
    for row in sorted(results.rows.values(), key=lambda r: (r.scenario[:1], r.scenario)):
        cells = [row.scenario, row.metric]
        for b in backends:
            value = median(row.values.get(b.name, []))
            ceiling = median(
                row.values.get(f"{CEILING}:{b.name}", []) or row.values.get(CEILING, [])
            )
            cells += [fmt(value, row.kind), fmt(ceiling, row.kind), ratio(value, ceiling, row.kind)]
        if framework:
            cells.append(fmt(median(row.values.get("fastapi-only", [])), row.kind))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


LEGEND = (
    "ratio: for msg/s the share of the ceiling reached; for ms how many times the ceiling. Ceilings: 1 = a bare "
    "ASGI app answering a constant on the same uvicorn+uvloop+httptools stack, same load generator (for the "
    "SemySMS rows: the same GET sms.php request); 2 = a raw "
    "executemany of the same rows into the same schema in transactions of the same size, as durable (SQLite "
    "synchronous as the gateway; PostgreSQL asyncpg); 3 = an asyncio.Event set and awaited in-process (uvloop). "
    "4: 'pull' is one long-poll request that came back with work (wait=1) - the time from asking to holding it. "
    "7 = the journey (bench/journey.py): the default install, simulated phone on, replies on, through the peers' "
    "loadgen.py; its ceiling column is Kannel 1.4.5 (SMPP to the peers' fake operator) measured in the same run "
    "through the same load generator, its ratio the share of Kannel's rate (or how many times Kannel's ms)."
)


async def main_async(args: argparse.Namespace, cfg: Config) -> int:
    wanted = [x.strip() for x in args.db.split(",") if x.strip()]
    backends: list[Backend] = []
    results = Results()
    pg = ""
    for name in wanted:
        if name == "sqlite":
            backends.append(Backend("sqlite", synchronous=args.synchronous))
        elif name in ("postgres", "postgresql", "pg"):
            if pg_reachable(args.pg_url):
                pg = await pg_version(args.pg_url)
                backends.append(
                    Backend("postgres", pg_url=args.pg_url, synchronous=args.synchronous)
                )
            else:
                results.note(f"PostgreSQL skipped: {args.pg_url} is unreachable")
        else:
            raise SystemExit(f"unknown database {name!r}")
    top = header(args, cfg, backends, pg)
    print("\n".join(top), flush=True)
    started = time.perf_counter()
    if "wake" in cfg.only:
        await scenarios.event_ceiling(cfg, results)
    steps = [
        ("sends", scenarios.single_sends),
        ("batch", scenarios.batch_ingest),
        ("wake", scenarios.device_wake),
        ("dispatch", scenarios.dispatch),
        ("listings", scenarios.listings),
        ("journey", scenarios.journey_scenario),
    ]
    first = commit()
    for name, step in steps:
        if name not in cfg.only:
            continue
        if name == "journey":
            log("journey: Kannel beside it")
            try:
                await scenarios.kannel_journey(cfg, results)
            except Exception as exc:
                log(f"journey Kannel FAILED: {exc!r}")
                results.note(f"journey Kannel failed: {type(exc).__name__}: {str(exc)[:300]}")
        for backend in backends:
            now = (
                commit()
            )  # each scenario starts a fresh `smsgate serve` from the work tree as it is now
            log(f"{name} on {backend.name} (commit {now})")
            if now != first:
                results.note(
                    f"{name} on {backend.name} ran commit {now} (the header's is from the start)"
                )
            try:
                await step(backend, cfg, results)
            except Exception as exc:
                log(f"{name} on {backend.name} FAILED: {exc!r}")
                results.note(
                    f"{name} on {backend.name} failed: {type(exc).__name__}: {str(exc)[:300]}"
                )
    lines = [*top, "", *table(results, backends), "", LEGEND]
    lines += [f"note: {n}" for n in results.notes]
    lines.append(f"suite took {time.perf_counter() - started:.0f} s")
    print("\n" + "\n".join(lines), flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds: servers stopped, schemas dropped, directories removed


def main(argv: list[str] | None = None) -> int:
    args, cfg = parse(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    signal.signal(signal.SIGTERM, _stop)
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main_async(args, cfg))


if __name__ == "__main__":
    sys.exit(main())
