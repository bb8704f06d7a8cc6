"""The scenarios of issue 6 and their ceilings. Each appends one value per run to `Results`."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

import orjson

from bench import bulk, journey
from bench.client import Answer, Connection, connect, encode, expect
from bench.load import NATIVE, SEMYSMS, SEND_BODY, Route, percentile, send_load, summarise
from bench.server import HOST, Backend, Database, ceiling_server, fresh_gateway, start_gateway

CEILING = "ceiling"


@dataclass
class Config:
    runs: int = 3
    clients: tuple[int, ...] = (1, 32, 256)
    seconds: int = 5
    generator: str = "wrk"
    batch_sizes: tuple[int, ...] = (10_000, 100_000)
    batch_chunk: int = 10_000
    wake_samples: int = 200
    wake_settle: float = 0.02  # seconds the device waits before each send
    dispatch_total: int = 100_000
    dispatch_phones: int = 50
    dispatch_pull: int = 100
    dispatch_timeout: float = 600.0
    listing_rows: tuple[int, ...] = (1_000_000,)
    listing_queries: int = 200
    ceiling_framework: bool = True
    journey_requests: int = 20_000
    journey_clients: int = 32
    journey_seconds: float = 30.0  # the load generator stops here even if not all were sent
    journey_routes: tuple[str, ...] = ("native", "any", "semysms")
    journey_warmup: int = 200
    journey_idle: float = 20.0  # the drain gives up when nothing moved for this long
    journey_workers: int | None = None  # `serve --workers N`; None = serve's default
    journey_kannel: bool = True
    journey_env: tuple[tuple[str, str], ...] = ()  # extra SMSGATE_* for the server
    only: frozenset[str] = frozenset({"sends", "batch", "wake", "dispatch", "listings", "journey"})


@dataclass
class Row:
    scenario: str
    metric: str
    kind: str  # "rate" (higher is better), "ms" (lower is better), "mb", "info"
    values: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class Results:
    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, scenario: str, metric: str, kind: str, column: str, value: float | None) -> None:
        row = self.rows.setdefault((scenario, metric), Row(scenario, metric, kind))
        if value is not None:
            row.values[column].append(value)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def log(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- 1. single sends ------------------------------------------------------------------------------

SEMYSMS_SCENARIO = "1 single sends, SemySMS GET sms.php"


async def check_route(port: int, key: str, route: Route) -> None:
    """One request of the route before the load: it must be accepted, or the figures would be of errors."""
    conn = await connect(HOST, port)
    try:
        answer = await conn.request(
            route.method, route.path_for(key), token=key if route.bearer else None, body=route.body
        )
    finally:
        await conn.close()
    if not 200 <= answer.status < 300 or (
        route.expect is not None and route.expect not in answer.body
    ):
        raise RuntimeError(
            f"{route.name} send refused before the load: HTTP {answer.status} {answer.body[:300]!r}"
        )


async def single_sends(backend: Backend, cfg: Config, out: Results) -> None:
    """Each run of the gateway is followed by a run of each ceiling server at the same concurrency,
    so a ratio compares runs a few seconds apart on a shared, noisy machine. The native send, then
    the same message through SemySMS's sms.php (a GET, key in the query) and the bare ceiling on it."""
    async with contextlib.AsyncExitStack() as stack:
        # (scenario, column, port, key, route)
        targets: list[tuple[str, str, int, str, Route]] = []
        gw, _ = await stack.enter_async_context(fresh_gateway(backend))
        native = "1 single sends"
        targets.append((native, backend.name, gw.port, gw.key, NATIVE))
        apps = [("bare", f"{CEILING}:{backend.name}")] + (
            [("framework", "fastapi-only")] if cfg.ceiling_framework else []
        )
        bare_port = 0
        for app, column in apps:
            _, port = await stack.enter_async_context(ceiling_server(app))
            targets.append((native, column, port, "sg_ceiling", NATIVE))
            if app == "bare":
                bare_port = port
        targets.append((SEMYSMS_SCENARIO, backend.name, gw.port, gw.key, SEMYSMS))
        targets.append(
            (
                SEMYSMS_SCENARIO,
                f"{CEILING}:{backend.name}",
                bare_port,
                "sg_ceiling",
                SEMYSMS.unchecked(),
            )
        )
        await check_route(gw.port, gw.key, NATIVE)
        await check_route(gw.port, gw.key, SEMYSMS)
        for _, _, port, key, route in targets:
            await send_load(
                port, key, 4, 1, cfg.generator, route
            )  # warm up: key cache, pools, statements
        for clients in cfg.clients:
            label = f"{clients} client{'s' if clients > 1 else ''}"
            for run in range(cfg.runs):
                for scenario, column, port, key, route in targets:
                    load = await send_load(port, key, clients, cfg.seconds, cfg.generator, route)
                    name = column if route.name == "native" else f"{column} {route.name}"
                    log(
                        f"{name} sends c={clients} run {run + 1}: {load.rate:.0f}/s p50 {load.p50_ms:.2f} "
                        f"p99 {load.p99_ms:.2f} ms, {load.errors} errors of {load.requests} "
                        f"({load.non_2xx} non-2xx, {load.wrong} 2xx refused)"
                    )
                    if load.errors:
                        out.note(
                            f"{name}: {load.errors} of {load.requests} sends failed at {clients} clients (run "
                            f"{run + 1}): {load.non_2xx} non-2xx answers, {load.wrong} answers without "
                            f"{(route.expect or b'a 2xx').decode()}, the rest socket errors or timeouts"
                        )
                    elif route.expect is not None:
                        out.note(
                            f"{name}: every answer checked ({route.expect.decode()} in a 2xx), none refused"
                        )
                    out.add(scenario, f"{label}: accepted msg/s", "rate", column, load.rate)
                    out.add(scenario, f"{label}: p50 ms", "ms", column, load.p50_ms)
                    out.add(scenario, f"{label}: p99 ms", "ms", column, load.p99_ms)


# --- 2. batch ingest -------------------------------------------------------------------------------


def batch_requests(key: str, port: int, count: int, chunk: int, offset: int = 0) -> list[bytes]:
    out = []
    for start in range(0, count, chunk):
        messages = [
            {"to": bulk.phone(offset + i), "text": bulk.TEXT.format((offset + i) % 1_000_000)}
            for i in range(start, min(count, start + chunk))
        ]
        out.append(
            encode(
                "POST",
                "/api/v1/messages/batch",
                host=f"{HOST}:{port}",
                token=key,
                body=orjson.dumps({"messages": messages}),
            )
        )
    return out


async def post_all(conn: Connection, requests: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in requests:
        answer, _ = await conn.timed(raw)
        expect(answer, 201)
    return time.perf_counter() - start


async def batch_ingest(backend: Backend, cfg: Config, out: Results) -> None:
    async with fresh_gateway(backend) as (gw, database):
        conn = await gw.connect()
        try:
            await post_all(
                conn, batch_requests(gw.key, gw.port, min(1000, cfg.batch_chunk), cfg.batch_chunk)
            )
            for size in cfg.batch_sizes:
                requests = batch_requests(gw.key, gw.port, size, cfg.batch_chunk)
                for run in range(cfg.runs):
                    took = await post_all(conn, requests)
                    log(f"{backend.name} batch {size} run {run + 1}: {size / took:.0f} msg/s")
                    out.add(
                        "2 batch ingest",
                        f"{size:,} msgs, requests of {cfg.batch_chunk:,}: msg/s",
                        "rate",
                        backend.name,
                        size / took,
                    )
        finally:
            await conn.close()
        gw.process.stop()
        account_id = await bulk.admin_account(database)
        for size in cfg.batch_sizes:
            rows = bulk.send_rows(account_id, size, sqlite=backend.is_sqlite)
            for _ in range(cfg.runs):
                took = await bulk.raw_insert(database, rows, cfg.batch_chunk)
                out.add(
                    "2 batch ingest",
                    f"{size:,} msgs, requests of {cfg.batch_chunk:,}: msg/s",
                    "rate",
                    f"{CEILING}:{backend.name}",
                    size / took,
                )
            log(f"{backend.name} raw executemany {size}: {size / took:.0f} rows/s")


# --- 3. device wake --------------------------------------------------------------------------------


async def add_phone(conn: Connection, key: str, name: str) -> tuple[int, str]:
    device = expect(
        await conn.request(
            "POST", "/api/v1/devices", token=key, body={"name": name, "kind": "android"}
        ),
        201,
    ).json()
    return int(device["id"]), str(device["token"])


async def _received(conn: Connection) -> tuple[Answer, float]:
    answer = await conn.receive()
    return answer, time.perf_counter()


async def report_taken(conn: Connection, token: str, ids: list[int]) -> None:
    body = {"reports": [{"id": i, "status": "taken"} for i in ids]}
    expect(await conn.request("POST", "/device/v1/reports", token=token, body=body), 200)


async def device_wake(backend: Backend, cfg: Config, out: Results) -> None:
    async with fresh_gateway(backend) as (gw, _):
        api, poll = await gw.connect(), await gw.connect()
        try:
            _, token = await add_phone(api, gw.key, "bench phone")
            send_raw = encode(
                "POST", "/api/v1/messages", host=f"{HOST}:{gw.port}", token=gw.key, body=SEND_BODY
            )
            poll_raw = encode(
                "GET", "/device/v1/messages?wait=10&limit=1", host=f"{HOST}:{gw.port}", token=token
            )
            marked = gw.process.mark_rss()
            early = 0
            for run in range(cfg.runs):
                latencies = []
                for _ in range(cfg.wake_samples):
                    await poll.reopen_if_closed()
                    poll.send(poll_raw)
                    got = asyncio.ensure_future(_received(poll))
                    await asyncio.sleep(cfg.wake_settle)
                    if got.done():
                        raise RuntimeError(
                            f"the long-poll returned before any send: {got.result()[0].body[:200]!r}"
                        )
                    answer, _ = await api.timed(send_raw)
                    sent_at = time.perf_counter()
                    expect(answer, 201)
                    work, woke_at = await asyncio.wait_for(got, 15)
                    ids = [m["id"] for m in expect(work, 200).json()["messages"]]
                    if not ids:
                        raise RuntimeError("the long-poll woke without the message")
                    early += woke_at < sent_at
                    latencies.append(max(0.0, woke_at - sent_at))
                    await report_taken(poll, token, ids)
                load = summarise(latencies, 1.0)
                log(
                    f"{backend.name} wake run {run + 1}: p50 {load.p50_ms:.2f} p99 {load.p99_ms:.2f} ms"
                )
                out.add(
                    "3 device wake",
                    "201 answer -> long-poll has it: p50 ms",
                    "ms",
                    backend.name,
                    load.p50_ms,
                )
                out.add(
                    "3 device wake",
                    "201 answer -> long-poll has it: p99 ms",
                    "ms",
                    backend.name,
                    load.p99_ms,
                )
            if early:
                out.note(
                    f"{backend.name} wake: {early} long-polls completed before the client had read the 201 (counted as 0 ms)"
                )
            rss = gw.process.peak_rss_mb()
            out.add("6 memory", "server peak RSS during 3 (wake), MB", "mb", backend.name, rss)
            if not marked:
                out.note(
                    "peak RSS is since the server started (could not reset /proc/PID/clear_refs)"
                )
        finally:
            await api.close()
            await poll.close()


async def event_ceiling(cfg: Config, out: Results) -> None:
    """An asyncio.Event set and awaited in this (uvloop) process: the wake ceiling."""
    for _ in range(cfg.runs):
        latencies = []
        for _ in range(max(cfg.wake_samples, 1000)):
            event, woke = asyncio.Event(), [0.0]

            async def waiter(event: asyncio.Event = event, woke: list[float] = woke) -> None:
                await event.wait()
                woke[0] = time.perf_counter()

            task = asyncio.ensure_future(waiter())
            await asyncio.sleep(0)
            start = time.perf_counter()
            event.set()
            await task
            latencies.append(woke[0] - start)
        ordered = sorted(latencies)
        out.add(
            "3 device wake",
            "201 answer -> long-poll has it: p50 ms",
            "ms",
            CEILING,
            percentile(ordered, 50) * 1000,
        )
        out.add(
            "3 device wake",
            "201 answer -> long-poll has it: p99 ms",
            "ms",
            CEILING,
            percentile(ordered, 99) * 1000,
        )


# --- 4. dispatch -------------------------------------------------------------------------------------


async def dispatch(backend: Backend, cfg: Config, out: Results) -> None:
    async with fresh_gateway(backend) as (gw, _):
        api = await gw.connect()
        phones: list[tuple[Connection, str]] = []
        try:
            for i in range(cfg.dispatch_phones):
                _, token = await add_phone(api, gw.key, f"phone {i}")
                phones.append((await gw.connect(), token))
            for run in range(cfg.runs):
                await post_all(
                    api,
                    batch_requests(
                        gw.key, gw.port, cfg.dispatch_total, cfg.batch_chunk, offset=run
                    ),
                )
                rate, p50, p99, leased = await _drain(gw.port, phones, cfg)
                log(
                    f"{backend.name} dispatch run {run + 1}: {leased} leased, {rate:.0f}/s, pull p99 {p99:.1f} ms"
                )
                if leased < cfg.dispatch_total:
                    out.note(
                        f"{backend.name} dispatch run {run + 1}: only {leased} of {cfg.dispatch_total} handed out in time"
                    )
                label = f"{cfg.dispatch_total:,} queued -> {cfg.dispatch_phones} phones"
                out.add("4 dispatch", f"{label}: leased msg/s", "rate", backend.name, rate)
                out.add(
                    "4 dispatch",
                    f"pull of {cfg.dispatch_pull} with work: p50 ms",
                    "ms",
                    backend.name,
                    p50,
                )
                out.add(
                    "4 dispatch",
                    f"pull of {cfg.dispatch_pull} with work: p99 ms",
                    "ms",
                    backend.name,
                    p99,
                )
        finally:
            await api.close()
            for conn, _ in phones:
                await conn.close()


async def _drain(
    port: int, phones: list[tuple[Connection, str]], cfg: Config
) -> tuple[float, float, float, int]:
    leased, latencies, finished = 0, [], [0.0]
    start = time.perf_counter()
    deadline = start + cfg.dispatch_timeout

    async def phone(conn: Connection, token: str) -> None:
        nonlocal leased
        pull = encode(
            "GET",
            f"/device/v1/messages?wait=1&limit={cfg.dispatch_pull}",
            host=f"{HOST}:{port}",
            token=token,
        )
        while leased < cfg.dispatch_total and time.perf_counter() < deadline:
            answer, took = await conn.timed(pull)
            ids = [m["id"] for m in expect(answer, 200).json()["messages"]]
            if not ids:
                continue
            latencies.append(took)
            leased += len(ids)
            if leased >= cfg.dispatch_total and not finished[0]:
                finished[0] = time.perf_counter()
            await report_taken(conn, token, ids)

    await asyncio.gather(*(phone(c, t) for c, t in phones))
    elapsed = (finished[0] or time.perf_counter()) - start
    ordered = sorted(latencies)
    return leased / elapsed, percentile(ordered, 50) * 1000, percentile(ordered, 99) * 1000, leased


# --- 5. listings at scale ---------------------------------------------------------------------------


def listing_paths(data: bulk.DataSet, queries: int, seed: int) -> dict[str, list[str]]:
    rnd = random.Random(seed)
    days = max(1, (data.end - data.start).days - 1)
    paths: dict[str, list[str]] = defaultdict(list)
    for _ in range(queries):
        since = data.start + timedelta(days=rnd.randrange(days), seconds=rnd.randrange(86400))
        until = since + timedelta(days=1)
        paths["account + 1-day range"].append(
            f"/api/v1/messages?since={since.isoformat()}Z&until={until.isoformat()}Z"
        )
        paths["phone"].append(
            f"/api/v1/messages?phone={quote(data.phone(rnd.randrange(data.count)))}"
        )
        low = rnd.randrange(1, max(2, data.count - 1000))
        paths["id range (1,000 ids)"].append(f"/api/v1/messages?min_id={low}&max_id={low + 999}")
        paths["status=failed"].append("/api/v1/messages?status=failed")
        paths["status=sent + 1-day range"].append(
            f"/api/v1/messages?status=sent&since={since.isoformat()}Z&until={until.isoformat()}Z"
        )
    return paths


async def listings(backend: Backend, cfg: Config, out: Results) -> None:
    for count in cfg.listing_rows:
        database = Database(backend)
        await database.create()
        try:
            gw = await start_gateway(database)
            key = gw.key
            gw.process.stop()
            data = bulk.DataSet(await bulk.admin_account(database), count)
            took = await bulk.load(database, data)
            log(f"{backend.name} loaded {count:,} messages in {took:.1f} s")
            out.add(
                "5 listings",
                f"{count:,} rows: bulk load (fixture) rows/s",
                "info",
                backend.name,
                count / took,
            )
            gw = await start_gateway(database, fresh=False)
            marked = gw.process.mark_rss()
            conn = await gw.connect()
            try:
                for run in range(cfg.runs):
                    for name, paths in listing_paths(data, cfg.listing_queries, seed=run).items():
                        latencies = []
                        for path in paths:
                            answer, seconds = await conn.timed(
                                encode("GET", path, host=f"{HOST}:{gw.port}", token=key)
                            )
                            if (
                                not expect(answer, 200).json()["messages"]
                                and name == "status=failed"
                            ):
                                raise RuntimeError(
                                    "the listing found nothing: the data set did not load"
                                )
                            latencies.append(seconds)
                        ordered = sorted(latencies)
                        out.add(
                            "5 listings",
                            f"{count:,} rows, {name}: p99 ms",
                            "ms",
                            backend.name,
                            percentile(ordered, 99) * 1000,
                        )
                        out.add(
                            "5 listings",
                            f"{count:,} rows, {name}: p50 ms",
                            "ms",
                            backend.name,
                            percentile(ordered, 50) * 1000,
                        )
                    log(f"{backend.name} listings {count:,} run {run + 1} done")
                out.add(
                    "6 memory",
                    f"server peak RSS during 5 ({count:,} rows), MB",
                    "mb",
                    backend.name,
                    gw.process.peak_rss_mb(),
                )
                if not marked:
                    out.note(
                        "peak RSS is since the server started (could not reset /proc/PID/clear_refs)"
                    )
            finally:
                await conn.close()
                gw.process.stop()
        finally:
            await database.drop()


# --- 7. the journey ---------------------------------------------------------------------------------


def _journey_rows(out: Results, scenario: str, column: str, o: journey.Outcome) -> None:
    out.add(scenario, "accepted msg/s", "rate", column, o.rate)
    out.add(scenario, "p50 ms", "ms", column, o.p50_ms)
    out.add(scenario, "p99 ms", "ms", column, o.p99_ms)
    out.add(scenario, "reached sent, msg/s", "rate", column, o.sent_rate)
    out.add(scenario, "last answer -> last sent, s", "s", column, o.drain_lag_s)
    out.add(scenario, "CPU ms per message, whole journey", "ms", column, o.cpu_ms)
    if o.db_cpu_ms is not None:
        out.add(scenario, "+ PostgreSQL server CPU ms per message", "ms", column, o.db_cpu_ms)


def _journey_log(name: str, run: int, o: journey.Outcome) -> None:
    log(
        f"{name} journey run {run}: {o.accepted} accepted at {o.rate:.0f}/s p50 {o.p50_ms:.1f} "
        f"p99 {o.p99_ms:.1f} ms; {o.sent} sent ({o.sent_rate or 0:.0f}/s, last {o.drain_lag_s or 0:.2f} s "
        f"after the last answer), {o.delivered} delivered, {o.replies} replies ({o.why}); "
        f"CPU {o.cpu_ms or 0:.2f} ms/msg"
        + (f" + PostgreSQL {o.db_cpu_ms:.2f}" if o.db_cpu_ms else "")
        + (f"; {o.errors} errors {o.error_kinds}" if o.errors else "")
    )


def _journey_notes(out: Results, name: str, o: journey.Outcome, seconds: float) -> None:
    if o.errors:
        out.note(f"{name} journey: {o.errors} requests failed {o.error_kinds}")
    if o.why != "complete":
        out.note(
            f"{name} journey: {o.why} ({o.sent} sent, {o.delivered} delivered of {o.accepted})"
        )


async def kannel_journey(cfg: Config, out: Results) -> None:
    """Kannel through the same load generator: the ceiling column of every journey row."""
    if not cfg.journey_kannel:
        return
    if not journey.kannel_available():
        out.note("journey: Kannel not measured (/usr/sbin/bearerbox or the peers' harness missing)")
        return
    async with journey.kannel() as k:
        for run in range(1, cfg.runs + 1):
            o = await journey.measure_kannel(
                k,
                requests=cfg.journey_requests,
                clients=cfg.journey_clients,
                max_seconds=cfg.journey_seconds,
                warmup=1000 if run == 1 else 0,
                idle=cfg.journey_idle,
                run=run,
            )
            _journey_log("Kannel", run, o)
            _journey_notes(out, "Kannel", o, cfg.journey_seconds)
            for route in cfg.journey_routes:
                _journey_rows(out, f"{SCENARIO_PREFIX}, {journey.ROUTES[route].name}", CEILING, o)


SCENARIO_PREFIX = journey.SCENARIO


async def journey_scenario(backend: Backend, cfg: Config, out: Results) -> None:
    if journey.peers_dir() is None:
        out.note("journey skipped: the peers' loadgen.py was not found (set SMSGATE_PEERS_DIR)")
        return
    for run in range(1, cfg.runs + 1):
        for name in cfg.journey_routes:
            route = journey.ROUTES[name]
            o = await journey.measure_gateway(
                backend,
                route,
                requests=cfg.journey_requests,
                clients=cfg.journey_clients,
                max_seconds=cfg.journey_seconds,
                warmup=cfg.journey_warmup,
                idle=cfg.journey_idle,
                workers=cfg.journey_workers,
                env=dict(cfg.journey_env),
                run=run,
            )
            label = f"{backend.name} {name}"
            _journey_log(label, run, o)
            _journey_notes(out, label, o, cfg.journey_seconds)
            _journey_rows(out, f"{SCENARIO_PREFIX}, {route.name}", backend.name, o)
