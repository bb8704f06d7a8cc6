"""The deliverer: fans events out, claims due deliveries, sends them signed, writes the answers.

One task per node, beside dispatch; it never shares a connection or a lock with the send path
except the database itself, which it touches in rounds: one transaction writes the answers of
the attempts that finished, fans out up to a thousand new events and claims what is due; an idle
round only reads (no write lock, which on SQLite is the send path's too). Attempts run
concurrently up to `concurrency`, at most `per_webhook` to one webhook, each bounded by
`timeout` from connect to the last byte: a slow or dead receiver holds a few slots of its own
and a timer, never the send path. httpx with TCP_NODELAY and keep-alive connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import Counter
from typing import Any

import httpx

from smsgate.core.events import Attempt, Job
from smsgate.service import Gateway
from smsgate.webhooks import sign

log = logging.getLogger(__name__)

ROUND_EVERY = 0.05  # seconds between rounds: answers and events of that moment share one write


def client(*, concurrency: int, timeout: float) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        limits=httpx.Limits(
            max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=30
        ),
        retries=0,
    )
    return httpx.AsyncClient(
        transport=transport, timeout=httpx.Timeout(timeout), follow_redirects=False
    )


class Deliverer:
    def __init__(self, gateway: Gateway, *, http: httpx.AsyncClient | None = None) -> None:
        self._gateway = gateway
        self._policy = gateway.webhooks.policy
        self._http = http
        self._wake = asyncio.Event()
        self._inflight: Counter[int] = Counter()  # webhook -> attempts under way
        self._attempts: set[asyncio.Task[None]] = set()
        self._answers: list[tuple[Job, Attempt]] = []
        self.sent = 0  # attempts made by this node (for the benchmark)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        self._gateway.webhooks.on_event(self.wake)
        owned = self._http is None
        seconds = self._policy.timeout.total_seconds()
        http = self._http or client(concurrency=self._policy.concurrency, timeout=seconds)
        try:
            while True:
                try:
                    busy = await self._round(http)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("webhook deliverer failed a round; trying again")
                    busy = False
                    await asyncio.sleep(1.0)
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._policy.poll)
                self._wake.clear()
                await asyncio.sleep(ROUND_EVERY)  # what comes meanwhile joins this round
        finally:
            for task in list(self._attempts):
                task.cancel()
            await asyncio.gather(*self._attempts, return_exceptions=True)
            with contextlib.suppress(Exception):  # what was answered is written; the rest waits
                await self._gateway.webhooks.step(self._answers, claim=0, inflight={})
            if owned:
                await http.aclose()

    async def _round(self, http: httpx.AsyncClient) -> bool:
        """Writes the answers, fans out, starts what is due: one transaction. True when there is
        probably more to do right away."""
        answers, self._answers = self._answers, []
        free = max(self._policy.concurrency - len(self._attempts), 0)
        try:
            made, claimed = await self._gateway.webhooks.step(
                answers, claim=free, inflight=dict(self._inflight)
            )
        except BaseException:
            self._answers[:0] = answers
            raise
        for job in claimed:
            self._inflight[job.webhook_id] += 1
            task = asyncio.create_task(self._attempt(http, job))
            self._attempts.add(task)
            task.add_done_callback(self._attempts.discard)
        return made >= 1000 or (free > 0 and len(claimed) >= free)

    async def _attempt(self, http: httpx.AsyncClient, job: Job) -> None:
        started = time.monotonic()
        at = self._gateway.webhooks.now()
        timestamp = int(time.time())
        headers = sign.headers(
            secret=job.secret,
            timestamp=timestamp,
            body=job.body,
            kind=job.kind.value,
            event_id=job.event_id,
            delivery_id=job.delivery_id,
        )
        status: int | None = None
        error: str | None = None
        response: str | None = None
        try:
            answer = await asyncio.wait_for(
                http.post(job.url, content=job.body, headers=headers),
                self._policy.timeout.total_seconds(),
            )
            status = answer.status_code
            response = answer.text[:500]
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except TimeoutError:
            error = f"no answer within {self._policy.timeout.total_seconds():g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:200] or type(exc).__name__
        except Exception as exc:  # a URL httpx cannot use, say: logged as the attempt's answer
            error = f"{type(exc).__name__}: {exc}"[:200]
        finally:
            self._inflight[job.webhook_id] -= 1
            if self._inflight[job.webhook_id] <= 0:
                del self._inflight[job.webhook_id]
        self.sent += 1
        attempt = Attempt(
            delivery_id=job.delivery_id,
            at=at,
            status=status,
            error=error,
            response=response,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        self._answers.append((job, attempt))
        self._wake.set()  # its answer is written, and a slot is free

    def stats(self) -> dict[str, Any]:
        return {"in_flight": len(self._attempts), "sent": self.sent}
