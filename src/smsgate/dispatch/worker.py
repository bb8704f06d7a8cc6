"""The dispatch worker: runs the gateway's sweep on an interval and refreshes the metrics' gauges.

What a sweep does (scheduled messages fall due, stale leases return, late messages expire) is the
service's `dispatch.sweep`; this is only the loop that keeps it going and survives a failed pass.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from smsgate.core import errors

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        sweep: Callable[[], Awaitable[Any]],
        *,
        gauges: Callable[[], Awaitable[None]] | None = None,
        interval: float = 0.5,
        gauges_every: float = 15.0,
    ) -> None:
        self._sweep = sweep
        self._gauges = gauges
        self._interval = interval
        self._gauges_every = gauges_every
        self._gauges_at = 0.0

    async def sweep(self) -> Any:
        """One pass: the sweep, then the gauges when they are due."""
        result = await self._sweep()
        if self._gauges is not None and time.monotonic() >= self._gauges_at:
            self._gauges_at = time.monotonic() + self._gauges_every
            await self._gauges()
        return result

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except errors.Unavailable:  # the store logs its cause once a minute; tried again
                pass
            except Exception:  # a sweep that failed unexpectedly is tried again
                log.exception("dispatch sweep failed")
            await asyncio.sleep(self._interval)
