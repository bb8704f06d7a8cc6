"""Dispatch: devices pull work and report on it; sweeps move what time moves; streams and wake-ups."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from smsgate.core.devices import Device, Kind
from smsgate.core.messages import Message, Report, ReportResult, State
from smsgate.dispatch.hub import Stream
from smsgate.service.context import Context

OFFLINE_EVERY = timedelta(seconds=5)  # how often a sweep looks for phones gone silent


@dataclass(frozen=True, slots=True, kw_only=True)
class Sweep:
    """What one sweep changed."""

    due: int = 0
    released: int = 0
    expired: int = 0
    lost: int = 0
    retries: int = 0

    @property
    def changed(self) -> int:
        return self.due + self.released + self.expired + self.lost


def _limited(device: Device) -> bool:
    limits = device.limits
    timed = limits.pace or limits.jitter or limits.window_start or limits.quota
    return bool(timed) or any(s.limits for s in device.sims)


class Dispatch:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._seen_max_id = 0
        self._last_sweep_at: datetime | None = None
        self._limits_swept_at: datetime | None = None
        self._offline_checked_at: datetime | None = None
        self._virtual: set[int] = set()  # simulated phones that have pulled

    # --- the device side: pull work, report -----------------------------------------------------

    async def pull(self, device: Device, *, limit: int = 10, wait: float = 0.0) -> list[Message]:
        """Leases up to `limit` messages to the device; waits up to `wait` seconds for work."""
        if not device.can_send:
            return []
        hub, store = self._ctx.hub, self._ctx.store
        if device.kind is Kind.SIMULATOR:
            self._virtual.add(device.id)  # its polls are not a phone waiting (the metrics)
        deadline = time.monotonic() + wait
        while True:
            woken = hub.event(device.account_id, device.id)
            now = self._ctx.clock.now()
            leased = await store.lease(
                device_id=device.id, limit=limit, now=now, until=now + self._ctx.policy.lease_time
            )
            remaining = deadline - time.monotonic()
            if leased:
                hub.served[device.id] = time.monotonic()
            if leased or remaining <= 0:
                return leased
            hub.polls[device.id] += 1
            try:  # a limited device looks again each second: its pace or window may open without a wake-up
                await asyncio.wait_for(
                    woken.wait(), min(remaining, 1.0) if _limited(device) else remaining
                )
            except TimeoutError:
                if time.monotonic() >= deadline:
                    return []
            finally:
                hub.polls[device.id] -= 1

    async def report(self, device: Device, reports: Sequence[Report]) -> list[ReportResult]:
        results = await self._ctx.store.report(
            account_id=device.account_id,
            device_id=device.id,
            reports=reports,
            now=self._ctx.clock.now(),
        )
        for result in results:
            if result.applied and result.state is not None:
                self._ctx.metrics.reports.labels(result.state.value).inc()
        released = [
            (device.account_id, None) for r in results if r.applied and r.state is State.QUEUED
        ]
        self._ctx.hub.notify_many(released)
        return results

    # --- time moves work: the sweep -------------------------------------------------------------

    async def sweep(self) -> Sweep:
        """Scheduled messages fall due, stale leases return, late messages expire, lost work fails,
        retries come due; waiting devices are woken. Also notices messages another process (the
        CLI, another node) added: one cheap indexed query, not one per waiting device."""
        store, hub, now = self._ctx.store, self._ctx.hub, self._ctx.clock.now()
        due = await store.promote_due(now=now)
        released = await store.release_expired_leases(now=now)
        expired = await store.expire(now=now)
        lost = await store.fail_lost(now=now, older_than=now - self._ctx.policy.taken_timeout)
        if self._offline_checked_at is None or now - self._offline_checked_at >= OFFLINE_EVERY:
            self._offline_checked_at = now  # a phone silent past the threshold: device.offline
            await self._ctx.directory.mark_offline(
                silent_since=now - self._ctx.policy.offline_after, now=now
            )
        retries = await store.retries_due(after=self._last_sweep_at or now, now=now)
        await self._ctx.ledger.refund_due(now=now)  # what failed, expired or was cancelled
        if self._limits_swept_at is None or now - self._limits_swept_at > timedelta(minutes=1):
            self._limits_swept_at = now
            await self._ctx.limiter.sweep(now=now)  # ended request-limit windows
        self._last_sweep_at = now
        hub.notify_many(due + released + retries)
        max_id = await store.max_id()
        if max_id > self._seen_max_id:
            if self._seen_max_id:
                hub.notify_all()
            self._seen_max_id = max_id
        return Sweep(
            due=len(due),
            released=len(released),
            expired=len(expired),
            lost=len(lost),
            retries=len(retries),
        )

    async def drain(self) -> None:
        """Waits for the group commit in progress (before the database closes)."""
        await self._ctx.store.drain()

    # --- wake-ups and event streams ---------------------------------------------------------------

    def wake(self, account_ids: Iterable[int] | None) -> None:
        """Wakes the waiting devices of these accounts (None: of every account)."""
        if account_ids is None:
            self._ctx.hub.notify_all()
            return
        for account_id in account_ids:
            self._ctx.hub.notify(account_id)

    @property
    def waiting(self) -> int:
        """Phones' long-polls waiting for work on this node right now (not the simulated phone's)."""
        polls = self._ctx.hub.polls
        return sum(n for device_id, n in polls.items() if device_id not in self._virtual)

    def open_stream(self, device: Device) -> Stream:
        return self._ctx.hub.streams.open(device.account_id, device.id)

    def close_stream(self, stream: Stream) -> None:
        self._ctx.hub.streams.close(stream)

    def connected(self, device: Device) -> bool:
        """Whether an event stream of the device is open on this node right now."""
        return self._ctx.hub.streams.connected(device.id, device.account_id)

    def push_event(
        self, account_id: int, device_id: int | None, kind: str, data: dict[str, str] | None = None
    ) -> int:
        """An event for the streams of one device (or of every device of the account)."""
        return self._ctx.hub.streams.push(account_id, device_id, kind, data)
