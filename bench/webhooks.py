"""Webhooks and the VoIP-Communications send, measured against a real `smsgate serve` on loopback.

    python -m bench.webhooks [--db sqlite|postgres] [--seconds 10] [--clients 32] [--messages 1000]

1. sends/s and CPU per message: the native POST /api/v1/messages beside VoIP-Communications'
   POST /api-v2/index.php/sms/send (urlencoded, Basic), the same gateway, no webhooks, intake only
   (the simulated phone archived), interleaved.
2. the native send rate with a webhook for every accepted message (`message.queued`) while the
   receiver is healthy, dead (connection refused) and slow (answers after 10 s); then the receiver
   recovers and the backlog drains: every accepted message's event arrives (none lost).
3. webhook deliveries/s to a loopback receiver: a backlog of deliveries drained, and the events of
   a journey (queued, sent, delivered, reply) through the simulated phone as they happen.

The receiver runs in this process (a bare asyncio HTTP server); the load generator is the lean
asyncio client of bench.client (32 keep-alive connections, closed loop). CPU is the server
process's user+system time from /proc. Prints a table; numbers move with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import quote

import orjson

from bench.client import connect
from bench.server import HOST, Backend, Database, Gateway, free_port, start_gateway

TEXT = "Your code is 493021. It expires in 5 minutes."
CLK = os.sysconf("SC_CLK_TCK")


# --- a loopback receiver with modes ------------------------------------------------------------


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    mode: str = "ok"  # ok, dead (not listening), slow (answers after `delay` s)
    delay: float = 10.0
    events: set[str] = field(default_factory=set)  # event ids received with a 2xx answer
    messages: set[int] = field(default_factory=set)  # message ids of message.queued events
    answered: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hook"

    async def listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, HOST, self.port)

    async def set(self, mode: str) -> None:
        self.mode = mode
        if mode == "dead" and self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1)
            self._server = None
        elif mode != "dead":
            await self.listen()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if self.mode == "slow":
                    await asyncio.sleep(self.delay)
                if self.mode == "dead":
                    return
                self._count(headers, body)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def _count(self, headers: dict[str, str], body: bytes) -> None:
        now = time.perf_counter()
        self.first_at = self.first_at or now
        self.last_at = now
        self.answered += 1
        self.events.add(headers.get("x-smsgate-event-id", ""))
        if headers.get("x-smsgate-event") == "message.queued":
            self.messages.add(orjson.loads(body)["message"]["id"])

    async def until(self, done: int, timeout: float) -> float:
        """Waits until `done` distinct events arrived; answers the seconds it took (or inf)."""
        started = time.perf_counter()
        while len(self.events) < done:
            if time.perf_counter() - started > timeout:
                return float("inf")
            await asyncio.sleep(0.05)
        return time.perf_counter() - started


# --- load --------------------------------------------------------------------------------------


def native_request(port: int, key: str) -> bytes:
    body = orjson.dumps({"to": "+79201234567", "text": TEXT})
    return (
        f"POST /api/v1/messages HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def voip_request(port: int, key: str) -> bytes:
    body = f"to=79201234567&msg={quote(TEXT)}".encode()
    basic = base64.b64encode(f"{key[:10]}:{key}".encode()).decode()
    return (
        f"POST /api-v2/index.php/sms/send HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Basic {basic}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


@dataclass
class Run:
    accepted: int
    seconds: float
    cpu: float
    errors: int
    ids: set[int]

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu / max(self.accepted, 1) * 1000


async def load(gateway: Gateway, raw: bytes, clients: int, seconds: float) -> Run:
    """Closed-loop sends for `seconds`; counts the 200/201 answers and the message ids."""
    ids: set[int] = set()
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        conn = await connect(HOST, gateway.port)
        try:
            while time.perf_counter() < deadline:
                answer, _ = await conn.timed(raw)
                if answer.status not in (200, 201):
                    errors += 1
                    continue
                data = answer.json()
                if "send_log" in data:
                    ids.update(int(e["smsid"]) for e in data["send_log"])
                else:
                    ids.update(m["id"] for m in data["messages"])
        finally:
            await conn.close()

    cpu = cpu_seconds(gateway.pid)
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return Run(len(ids), elapsed, cpu_seconds(gateway.pid) - cpu, errors, ids)


async def api(gateway: Gateway, method: str, path: str, body: object = None) -> object:
    conn = await connect(HOST, gateway.port)
    try:
        answer = await conn.request(method, path, token=gateway.key, body=body)
        return answer.json() if answer.body else None
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def gateway_on(
    backend: Backend, env: dict[str, str], *, keep_simulator: bool = False
) -> AsyncIterator[Gateway]:
    database = Database(backend)
    await database.create()
    try:
        gateway = await start_gateway(database, env=env, keep_simulator=keep_simulator)
        try:
            yield gateway
        finally:
            gateway.process.stop()
    finally:
        await database.drop()


# --- the scenarios -----------------------------------------------------------------------------

QUICK_RETRIES = {
    "SMSGATE_WEBHOOK_BACKOFF": "1",
    "SMSGATE_WEBHOOK_LONGEST_BACKOFF": "2",
    "SMSGATE_WEBHOOK_TIMEOUT": "15",
}


async def doors(backend: Backend, clients: int, seconds: float, rounds: int) -> list[str]:
    rows = []
    async with gateway_on(backend, {}) as gateway:
        runs: dict[str, list[Run]] = {"native": [], "voipcomms": []}
        await load(gateway, native_request(gateway.port, gateway.key), clients, 2)  # warm up
        for _ in range(rounds):
            for name, raw in (
                ("native", native_request(gateway.port, gateway.key)),
                ("voipcomms", voip_request(gateway.port, gateway.key)),
            ):
                runs[name].append(await load(gateway, raw, clients, seconds))
        base = statistics.median(r.rate for r in runs["native"])
        for name, found in runs.items():
            rate = statistics.median(r.rate for r in found)
            cpu = statistics.median(r.cpu_ms for r in found)
            errors = sum(r.errors for r in found)
            rows.append(
                f"| {backend.name} | {name} send | {rate:,.0f}/s ({rate / base:.0%} of native) "
                f"| {cpu:.2f} ms CPU/message | errors {errors} |"
            )
    return rows


async def receivers(backend: Backend, clients: int, seconds: float) -> list[str]:
    rows = []
    receiver = Receiver()
    await receiver.listen()
    async with gateway_on(backend, QUICK_RETRIES) as gateway:
        raw = native_request(gateway.port, gateway.key)
        await load(gateway, raw, clients, 2)  # warm up
        baseline = await load(gateway, raw, clients, seconds)
        rows.append(f"| {backend.name} | no webhook | {baseline.rate:,.0f} sends/s | - | - |")
        made = await api(
            gateway, "POST", "/api/v1/webhooks", {"url": receiver.url, "events": "message.queued"}
        )
        assert isinstance(made, dict) and "id" in made, made
        await asyncio.sleep(0.5)
        accepted: set[int] = set()
        for mode in ("ok", "dead", "slow"):
            await receiver.set(mode)
            run = await load(gateway, raw, clients, seconds)
            accepted |= run.ids
            during = len(receiver.messages & run.ids)
            await receiver.set("ok")  # recovers
            drained = await receiver.until(len(receiver.events) + (len(run.ids) - during), 120)
            lost = len(run.ids - receiver.messages)
            rows.append(
                f"| {backend.name} | receiver {mode} | {run.rate:,.0f} sends/s "
                f"({run.rate / baseline.rate:.0%}) | {during:,} of {len(run.ids):,} events "
                f"delivered during the run, the rest {drained:.1f} s after recovery | "
                f"lost {lost} |"
            )
        rows.append(
            f"| {backend.name} | all runs | {len(accepted):,} accepted | "
            f"{len(receiver.messages & accepted):,} message.queued events received | "
            f"lost {len(accepted - receiver.messages)} |"
        )
    await receiver.set("dead")
    return rows


async def deliveries(backend: Backend, messages: int) -> list[str]:
    rows = []
    receiver = Receiver()
    env = {**QUICK_RETRIES, "SMSGATE_SIM_SENT_AFTER": "0.05", "SMSGATE_SIM_DELIVERED_AFTER": "0.05"}
    env["SMSGATE_SIM_REPLY_AFTER"] = "0.05"
    async with gateway_on(backend, env, keep_simulator=True) as gateway:
        await api(gateway, "POST", "/api/v1/webhooks", {"url": receiver.url, "events": "*"})
        await asyncio.sleep(0.5)
        # a journey: queued, sent, delivered and a reply for each message, delivered as they happen
        await receiver.listen()
        started = time.perf_counter()
        batch = [{"to": f"+7920{i:07d}", "text": TEXT} for i in range(messages)]
        await api(gateway, "POST", "/api/v1/messages/batch", {"messages": batch})
        took = await receiver.until(4 * messages, 300)
        wall = time.perf_counter() - started
        rate = 4 * messages / wall if took != float("inf") else 0.0
        rows.append(
            f"| {backend.name} | journey of {messages:,} messages | {len(receiver.events):,} events "
            f"delivered in {wall:.1f} s: {rate:,.0f} deliveries/s (the phone's pace bounds it) | | |"
        )
        # a backlog: the receiver dead while messages queue, then drained
        await receiver.set("dead")
        before = len(receiver.events)
        await api(gateway, "PATCH", f"/api/v1/devices/{gateway.simulator_id}", {"enabled": False})
        await api(gateway, "POST", "/api/v1/messages/batch", {"messages": batch})
        await asyncio.sleep(3.0)  # fanned out, tried, backing off
        await receiver.set("ok")
        receiver.first_at = 0.0
        took = await receiver.until(before + messages, 300)
        span = receiver.last_at - receiver.first_at if receiver.first_at else float("nan")
        rows.append(
            f"| {backend.name} | backlog of {messages:,} deliveries | drained {took:.1f} s after "
            f"recovery: {messages / span if span else float('nan'):,.0f} deliveries/s once flowing "
            f"| | |"
        )
    await receiver.set("dead")
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--only", choices=["doors", "receivers", "deliveries"], default=None)
    args = parser.parse_args()
    backend = Backend(args.db, pg_url=args.pg_url if args.db == "postgres" else "")
    rows = ["| db | scenario | rate | | |", "|---|---|---|---|---|"]
    if args.only in (None, "doors"):
        rows += await doors(backend, args.clients, args.seconds, args.rounds)
    if args.only in (None, "receivers"):
        rows += await receivers(backend, args.clients, args.seconds)
    if args.only in (None, "deliveries"):
        rows += await deliveries(backend, args.messages)
    print("\n".join(rows))


if __name__ == "__main__":
    asyncio.run(main())
