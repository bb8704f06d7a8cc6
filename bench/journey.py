"""Scenario 7, the journey: what a user's message goes through in the default install, beside Kannel.

A fresh `smsgate serve` keeps its simulated phone (replies on). The peers' load generator
(`../shared/peers/loadgen.py`, the one that measured Kannel and Jasmin) sends N messages over C
keep-alive connections, through the native API (naming the simulated phone, or naming no device)
and through SemySMS's `sms.php?device=N`. Then the database is watched until every accepted
message was sent, delivered and answered (or nothing moved for a while). Figures per run:

- accepted/s, p50/p99 of the answers (the load generator's own);
- sent/s: messages that reached `sent`, over the time from the first request to the last `sent`;
- drain lag: seconds from the last answer to the last `sent`;
- CPU ms per accepted message over the whole journey (sent, delivered, the reply stored): utime +
  stime of the server and all its descendants (/proc/<pid>/stat before and after), and, on
  PostgreSQL, of the database server's processes too (shared with whatever else runs on it).

Kannel 1.4.5 (Debian's package, `apt-get install kannel`) runs in the same suite through the same
load generator, sending SMPP to the peers' fake operator (`smpp_sink.py`); its "sent" is what the
operator received. Its figures are the ceiling column of the journey rows. It is a neighbour in
the benchmark only, never in the tests; without /usr/sbin/bearerbox its column stays empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from bench.server import HOST, ROOT, Backend, Database, Process, free_port, start_gateway

KANNEL = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
SCENARIO = "7 journey"


def peers_dir() -> Path | None:
    """The shared peers harness: $SMSGATE_PEERS_DIR, or ../shared/peers beside the work tree."""
    candidates = [os.environ.get("SMSGATE_PEERS_DIR", "")]
    candidates += [str(p / "shared" / "peers") for p in (ROOT.parent, ROOT.parent.parent)]
    for candidate in candidates:
        if candidate and (Path(candidate) / "loadgen.py").exists():
            return Path(candidate)
    return None


@dataclass(frozen=True)
class JourneyRoute:
    name: str  # the row's label
    url: str  # loadgen URL template; {key} and {device} filled in here, the rest by loadgen
    method: str = "GET"
    body: str | None = None
    bearer: bool = False
    expect: str | None = None


ROUTES = {
    "native": JourneyRoute(
        "native POST naming the phone",
        "/api/v1/messages",
        method="POST",
        body='{{"to": "+{to}", "text": "{text}", "devices": [{device}]}}',
        bearer=True,
        expect='"queued"',
    ),
    "any": JourneyRoute(
        "native POST naming no device",
        "/api/v1/messages",
        method="POST",
        body='{{"to": "+{to}", "text": "{text}"}}',
        bearer=True,
        expect='"queued"',
    ),
    "semysms": JourneyRoute(
        "SemySMS sms.php?device=N",
        "/api/3/sms.php?token={key}&device={device}&phone=%2B{to}&msg={text}",
        expect='"code":"0"',
    ),
}


@dataclass
class Outcome:
    accepted: int
    rate: float
    p50_ms: float
    p99_ms: float
    sent: int
    sent_rate: float | None
    drain_lag_s: float | None
    cpu_ms: float | None
    db_cpu_ms: float | None = None
    delivered: int = 0
    replies: int = 0
    why: str = ""
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)


# --- CPU of a process tree ----------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _comm(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.index("(") + 1 : text.rindex(")")]


def tree_cpu(pids: list[int]) -> float:
    """utime + stime of the processes and all their live descendants, seconds."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                children.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
    todo, seen, total = list(pids), set(), 0
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += sum(int(x) for x in _stat(pid)[11:13])
        todo.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU of every `postgres` process on this machine (the server is shared), seconds."""
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if _comm(int(entry)) == "postgres":
                    total += sum(int(x) for x in _stat(int(entry))[11:13])
    return total / os.sysconf("SC_CLK_TCK")


# --- the load generator -------------------------------------------------------------------------


async def loadgen(
    url: str,
    *,
    requests: int,
    clients: int,
    max_seconds: float,
    start_index: int,
    method: str = "GET",
    body: str | None = None,
    headers: tuple[str, ...] = (),
    expect: str | None = None,
) -> dict[str, Any]:
    peers = peers_dir()
    if peers is None:
        raise RuntimeError("the peers' loadgen.py was not found (set SMSGATE_PEERS_DIR)")
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = Path(out.name)
    command = [
        sys.executable,
        str(peers / "loadgen.py"),
        "-n",
        str(requests),
        "-c",
        str(clients),
        "--max-seconds",
        str(max_seconds),
        "--start-index",
        str(start_index),
        "--method",
        method,
        "--json",
        str(path),
        "--quiet",
        *(["--body", body] if body is not None else []),
        *[x for h in headers for x in ("-H", h)],
        *(["--expect", expect] if expect else []),
        url,
    ]
    try:
        done = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, timeout=max_seconds + 120
        )
        if not path.exists() or not path.stat().st_size:
            raise RuntimeError(f"loadgen failed: {done.stdout[-1000:]} {done.stderr[-2000:]}")
        return dict(json.loads(path.read_text()))
    finally:
        path.unlink(missing_ok=True)


# --- smsgate: watching the journey in its database ---------------------------------------------


class Watch:
    """Counts, past a baseline id, the messages sent/delivered and the replies stored."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def counts(self, after_id: int, after_inbound: int) -> tuple[int, float | None, int, int]:
        """(sent, last sent_at as epoch seconds, delivered, replies)."""
        if self._database.backend.is_sqlite:
            return await asyncio.to_thread(self._sqlite_counts, after_id, after_inbound)
        return await self._pg_counts(after_id, after_inbound)

    async def baseline(self) -> tuple[int, int]:
        if self._database.backend.is_sqlite:
            return await asyncio.to_thread(self._sqlite_baseline)
        import asyncpg

        connection = await self._pg()
        try:
            row = await connection.fetchrow(
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM messages),"
                " (SELECT COALESCE(MAX(id), 0) FROM inbound)"
            )
            assert row is not None
            return int(row[0]), int(row[1])
        finally:
            with contextlib.suppress(asyncpg.PostgresError, OSError):
                await connection.close()

    def _sqlite(self) -> sqlite3.Connection:
        uri = f"file:{self._database.sqlite_path}?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=30)

    def _sqlite_baseline(self) -> tuple[int, int]:
        with contextlib.closing(self._sqlite()) as c:
            row = c.execute(
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM messages),"
                " (SELECT COALESCE(MAX(id), 0) FROM inbound)"
            ).fetchone()
        return int(row[0]), int(row[1])

    def _sqlite_counts(
        self, after_id: int, after_inbound: int
    ) -> tuple[int, float | None, int, int]:
        with contextlib.closing(self._sqlite()) as c:
            sent, last, delivered = c.execute(
                "SELECT COUNT(sent_at), MAX(sent_at), COUNT(delivered_at) FROM messages WHERE id > ?",
                (after_id,),
            ).fetchone()
            replies = c.execute(
                "SELECT COUNT(*) FROM inbound WHERE id > ?", (after_inbound,)
            ).fetchone()[0]
        from datetime import datetime

        stamp = datetime.fromisoformat(last).replace(tzinfo=UTC).timestamp() if last else None
        return int(sent), stamp, int(delivered), int(replies)

    async def _pg(self) -> Any:
        import asyncpg

        url = self._database.backend.pg_url.replace("postgresql://", "postgres://", 1)
        return await asyncpg.connect(
            url, timeout=10, server_settings={"search_path": self._database.schema}
        )

    async def _pg_counts(
        self, after_id: int, after_inbound: int
    ) -> tuple[int, float | None, int, int]:
        connection = await self._pg()
        try:
            row = await connection.fetchrow(
                "SELECT COUNT(sent_at), MAX(sent_at), COUNT(delivered_at) FROM messages WHERE id > $1",
                after_id,
            )
            replies = await connection.fetchval(
                "SELECT COUNT(*) FROM inbound WHERE id > $1", after_inbound
            )
        finally:
            await connection.close()
        assert row is not None
        last = row[1].replace(tzinfo=UTC).timestamp() if row[1] else None
        return int(row[0]), last, int(row[2]), int(replies)


async def wait_journey(
    watch: Watch,
    after: tuple[int, int],
    accepted: int,
    *,
    replies: bool,
    idle: float,
    max_wait: float,
) -> tuple[tuple[int, float | None, int, int], str]:
    """Until every accepted message is sent, delivered and (with replies) answered."""
    start, last_change, last = time.monotonic(), time.monotonic(), None
    while True:
        found = await watch.counts(*after)
        sent, _, delivered, answered = found
        if sent >= accepted and delivered >= accepted and (not replies or answered >= accepted):
            return found, "complete"
        progress = (sent, delivered, answered)
        if progress != last:
            last, last_change = progress, time.monotonic()
        if time.monotonic() - last_change > idle:
            return found, f"stalled: nothing moved for {idle:.0f} s"
        if time.monotonic() - start > max_wait:
            return found, f"gave up after {max_wait:.0f} s"
        await asyncio.sleep(0.25)


def _request_parts(
    route: JourneyRoute, port: int, key: str, device: int
) -> tuple[str, str | None, tuple[str, ...]]:
    url = f"http://{HOST}:{port}" + route.url.replace("{key}", key).replace("{device}", str(device))
    body = route.body.replace("{device}", str(device)) if route.body else None
    headers: tuple[str, ...] = ()
    if route.bearer:
        headers = (f"Authorization: Bearer {key}", "Content-Type: application/json")
    return url, body, headers


async def measure_gateway(
    backend: Backend,
    route: JourneyRoute,
    *,
    requests: int,
    clients: int,
    max_seconds: float,
    warmup: int,
    idle: float,
    workers: int | None,
    env: dict[str, str],
    run: int,
) -> Outcome:
    database = Database(backend)
    await database.create()
    try:
        gw = await start_gateway(database, keep_simulator=True, workers=workers, env=env)
        try:
            if gw.simulator_id is None:
                raise RuntimeError("the fresh gateway has no simulated phone")
            url, body, headers = _request_parts(route, gw.port, gw.key, gw.simulator_id)
            watch = Watch(database)
            common = {"method": route.method, "body": body, "headers": headers}
            if warmup:
                base = await watch.baseline()
                warm = await loadgen(
                    url,
                    requests=warmup,
                    clients=clients,
                    max_seconds=max_seconds,
                    start_index=90_000_000 + run,
                    expect=route.expect,
                    **common,
                )
                await wait_journey(
                    watch, base, warm["ok"], replies=True, idle=idle, max_wait=max_seconds * 4
                )
            after = await watch.baseline()
            pids = [gw.pid]
            cpu0, db0 = tree_cpu(pids), (None if backend.is_sqlite else postgres_cpu())
            result = await loadgen(
                url,
                requests=requests,
                clients=clients,
                max_seconds=max_seconds,
                start_index=run * 1_000_000,
                expect=route.expect,
                **common,
            )
            accepted = int(result["ok"])
            replies = env.get("SMSGATE_SIM_REPLY_RATE", "1") not in ("0", "0.0")
            (sent, last_sent, delivered, answered), why = await wait_journey(
                watch,
                after,
                accepted,
                replies=replies,
                idle=idle,
                max_wait=max(300.0, max_seconds * 6),
            )
            cpu1, db1 = tree_cpu(pids), (None if backend.is_sqlite else postgres_cpu())
        finally:
            gw.process.stop()
    finally:
        await database.drop()
    latency = result["latency_ms"]
    span = (last_sent - result["wall_start"]) if last_sent else None
    return Outcome(
        accepted=accepted,
        rate=float(result["ok_per_s"] or 0.0),
        p50_ms=float(latency["p50"] or 0.0),
        p99_ms=float(latency["p99"] or 0.0),
        sent=sent,
        sent_rate=sent / span if span and span > 0 else None,
        drain_lag_s=(last_sent - result["wall_end"]) if last_sent else None,
        cpu_ms=1000.0 * (cpu1 - cpu0) / accepted if accepted else None,
        db_cpu_ms=1000.0 * (db1 - db0) / accepted
        if accepted and db0 is not None and db1 is not None
        else None,
        delivered=delivered,
        replies=answered,
        why=why,
        errors=int(result["errors"]),
        error_kinds=dict(result.get("errors_by_kind") or {}),
    )


# --- Kannel, the neighbour ----------------------------------------------------------------------


def kannel_available() -> bool:
    return Path(KANNEL).exists() and Path(SMSBOX).exists() and peers_dir() is not None


@dataclass
class Kannel:
    directory: Path
    sink_port: int
    ctl_port: int
    sendsms_port: int
    processes: list[Process]

    @property
    def pids(self) -> list[int]:  # the gateway: bearerbox and smsbox, not the fake operator
        return [p.pid for p in self.processes[1:]]

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://{HOST}:{self.ctl_port}/stats", timeout=5) as r:
            return dict(json.loads(r.read()))

    def reset(self) -> None:
        with urllib.request.urlopen(f"http://{HOST}:{self.ctl_port}/reset", timeout=5) as r:
            r.read()

    def url(self) -> str:
        return (
            f"http://{HOST}:{self.sendsms_port}/cgi-bin/sendsms?username=perf&password=perf"
            "&from=12345&to={to}&text={text}"
        )


def kannel_config(directory: Path, ports: dict[str, int]) -> str:
    """Kannel -> SMPP to the fake operator, as the peers' setup_kannel.sh writes it (own ports)."""
    return f"""group = core
admin-port = {ports["admin"]}
admin-interface = 127.0.0.1
admin-password = perfadmin
status-password = perfstatus
admin-allow-ip = "127.0.0.1"
smsbox-port = {ports["smsbox"]}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "{directory}/bearerbox.log"
log-level = 2

group = smsc
smsc = smpp
smsc-id = perfsink
host = 127.0.0.1
port = {ports["sink"]}
transceiver-mode = true
smsc-username = kannel
smsc-password = kannel
system-type = "perf"
max-pending-submits = 10
enquire-link-interval = 30
reconnect-delay = 2

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {ports["smsbox"]}
sendsms-port = {ports["sendsms"]}
sendsms-interface = 127.0.0.1
global-sender = 12345
log-file = "{directory}/smsbox.log"
log-level = 2
immediate-sendsms-reply = false

group = sendsms-user
username = perf
password = perf
max-messages = 1
concatenation = false

group = sms-service
keyword = default
text = "No service"
"""


async def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection((HOST, port), timeout=1).close()
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout:.0f} s")


@contextlib.asynccontextmanager
async def kannel() -> AsyncIterator[Kannel]:
    peers = peers_dir()
    assert peers is not None
    directory = Path(tempfile.mkdtemp(prefix="smsgate-bench-kannel-"))
    ports = {name: free_port() for name in ("sink", "ctl", "admin", "smsbox", "sendsms")}
    conf = directory / "kannel.conf"
    conf.write_text(kannel_config(directory, ports))
    processes: list[Process] = []
    try:
        sink = [
            sys.executable,
            str(peers / "smpp_sink.py"),
            "--port",
            str(ports["sink"]),
            "--ctl-port",
            str(ports["ctl"]),
            "--max-runtime",
            "3600",
        ]
        processes.append(Process(sink, {}, directory, "sink"))
        await wait_port(ports["ctl"])
        processes.append(Process([KANNEL, "-v", "2", str(conf)], {}, directory, "bearerbox"))
        await wait_port(ports["smsbox"])
        processes.append(Process([SMSBOX, "-v", "2", str(conf)], {}, directory, "smsbox"))
        await wait_port(ports["sendsms"])
        k = Kannel(directory, ports["sink"], ports["ctl"], ports["sendsms"], processes)
        deadline = time.monotonic() + 30
        while k.stats()["binds"] < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("Kannel never bound to the fake operator")
            await asyncio.sleep(0.1)
        yield k
    finally:
        for process in reversed(processes):
            process.stop()
        shutil.rmtree(directory, ignore_errors=True)


async def kannel_drain(
    k: Kannel, accepted: int, idle: float, max_wait: float
) -> tuple[dict[str, Any], str]:
    start, last_change, last = time.monotonic(), time.monotonic(), -1
    while True:
        stats = k.stats()
        n = stats["unique"] if stats["marked"] else stats["submit_sm"]
        if n >= accepted:
            return stats, "complete"
        if n != last:
            last, last_change = n, time.monotonic()
        if time.monotonic() - last_change > idle:
            return stats, f"stalled: nothing moved for {idle:.0f} s"
        if time.monotonic() - start > max_wait:
            return stats, f"gave up after {max_wait:.0f} s"
        await asyncio.sleep(0.2)


async def measure_kannel(
    k: Kannel,
    *,
    requests: int,
    clients: int,
    max_seconds: float,
    warmup: int,
    idle: float,
    run: int,
) -> Outcome:
    if warmup:
        k.reset()
        warm = await loadgen(
            k.url(),
            requests=warmup,
            clients=clients,
            max_seconds=max_seconds,
            start_index=50_000_000 + run,
            expect="Accepted",
        )
        await kannel_drain(k, warm["ok"], idle, max_seconds * 4)
    k.reset()
    cpu0 = tree_cpu(k.pids)
    result = await loadgen(
        k.url(),
        requests=requests,
        clients=clients,
        max_seconds=max_seconds,
        start_index=run * 1_000_000,
        expect="Accepted",
    )
    accepted = int(result["ok"])
    stats, why = await kannel_drain(k, accepted, idle, max(300.0, max_seconds * 6))
    cpu1 = tree_cpu(k.pids)
    delivered = int(stats["unique"] if stats["marked"] else stats["submit_sm"])
    last = stats.get("last_rx")
    span = (last - result["wall_start"]) if last else None
    latency = result["latency_ms"]
    return Outcome(
        accepted=accepted,
        rate=float(result["ok_per_s"] or 0.0),
        p50_ms=float(latency["p50"] or 0.0),
        p99_ms=float(latency["p99"] or 0.0),
        sent=delivered,
        sent_rate=delivered / span if span and span > 0 else None,
        drain_lag_s=(last - result["wall_end"]) if last else None,
        cpu_ms=1000.0 * (cpu1 - cpu0) / delivered if delivered else None,
        delivered=delivered,
        why=why,
        errors=int(result["errors"]),
        error_kinds=dict(result.get("errors_by_kind") or {}),
    )
