"""Wakes waiting devices the moment work is queued for them, without polling the database.

A waiter takes its event *before* it looks for work, so nothing queued between the look and the
wait is missed. Other processes' inserts reach this hub through the dispatch worker's sweep (and,
on PostgreSQL with several nodes, through LISTEN/NOTIFY).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable


class Hub:
    def __init__(self) -> None:
        self._events: dict[int, dict[int, asyncio.Event]] = defaultdict(dict)  # account -> device -> event

    def event(self, account_id: int, device_id: int) -> asyncio.Event:
        devices = self._events[account_id]
        event = devices.get(device_id)
        if event is None or event.is_set():
            event = devices[device_id] = asyncio.Event()
        return event

    def notify(self, account_id: int, device_id: int | None = None) -> None:
        devices = self._events.get(account_id)
        if not devices:
            return
        if device_id is None:
            for event in devices.values():
                event.set()
            devices.clear()
        else:
            event = devices.pop(device_id, None)
            if event is not None:
                event.set()

    def notify_many(self, targets: Iterable[tuple[int, int | None]]) -> None:
        for account_id, device_id in set(targets):
            self.notify(account_id, device_id)

    def notify_all(self) -> None:
        for account_id in list(self._events):
            self.notify(account_id)

    @property
    def waiting(self) -> int:
        return sum(len(devices) for devices in self._events.values())
