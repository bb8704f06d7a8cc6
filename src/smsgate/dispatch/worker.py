"""The dispatch sweep: scheduled messages fall due, stale leases return, late messages expire.

It also notices messages another process (the CLI, another node) added, and wakes the devices
waiting here; one cheap indexed query per sweep, not one per waiting device.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from smsgate.metrics import Metrics
from smsgate.service import Gateway

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        gateway: Gateway,
        *,
        interval: float = 0.5,
        metrics: Metrics | None = None,
        gauges_every: float = 15.0,
    ) -> None:
        self._gateway = gateway
        self._metrics = metrics
        self._gauges_every = gauges_every
        self._gauges_at = 0.0
        self._interval = interval
        self._seen_max_id = 0
        self._last_sweep_at: datetime | None = None

    async def sweep(self) -> int:
        """One pass; returns how many messages changed state."""
        store, hub, now = self._gateway.store, self._gateway.hub, self._gateway.clock.now()
        due = await store.promote_due(now=now)
        released = await store.release_expired_leases(now=now)
        expired = await store.expire(now=now)
        lost = await store.fail_lost(now=now, older_than=now - self._gateway.policy.taken_timeout)
        retries = await store.retries_due(after=self._last_sweep_at or now, now=now)
        self._last_sweep_at = now
        hub.notify_many(due + released + retries)
        max_id = await store.max_id()
        if max_id > self._seen_max_id:
            if self._seen_max_id:
                hub.notify_all()
            self._seen_max_id = max_id
        await self._refresh_gauges()
        return len(due) + len(released) + len(expired) + len(lost)

    async def _refresh_gauges(self) -> None:
        if self._metrics is None or time.monotonic() < self._gauges_at:
            return
        self._gauges_at = time.monotonic() + self._gauges_every
        counts = await self._gateway.store.count()
        for state, n in counts.items():
            self._metrics.messages.labels(state.value).set(n)
        m = self._metrics
        for gauge in (
            m.device_queued,
            m.device_leased,
            m.device_taken,
            m.device_used,
            m.device_quota,
            m.device_ready,
        ):
            gauge.clear()
        for state in await self._gateway.device_states():
            labels = (str(state.device.account_id), str(state.device.id))
            m.device_queued.labels(*labels).set(state.queue.queued)
            m.device_leased.labels(*labels).set(state.queue.leased)
            m.device_taken.labels(*labels).set(state.queue.taken)
            m.device_ready.labels(*labels, state.waiting.value).set(
                1 if state.waiting.value == "ready" else 0
            )
            limits = {0: state.device.limits, **{s.slot: s.limits for s in state.device.sims}}
            for slot, usage in state.queue.usage.items():
                m.device_used.labels(*labels, str(slot)).set(usage.messages)
                quota = limits.get(slot)
                if quota is not None and quota.quota is not None:
                    m.device_quota.labels(*labels, str(slot)).set(quota.quota)

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:  # a sweep that failed (database restarting, say) is tried again
                log.exception("dispatch sweep failed")
            await asyncio.sleep(self._interval)
