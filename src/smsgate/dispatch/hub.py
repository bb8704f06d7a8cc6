"""Wakes waiting devices the moment work is queued for them, without polling the database.

A waiter takes its event *before* it looks for work, so nothing queued between the look and the
wait is missed. Other processes' inserts reach this hub through the dispatch worker's sweep (and,
on PostgreSQL with several nodes, through LISTEN/NOTIFY).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterable


class Hub:
    def __init__(self) -> None:
        self._events: dict[int, dict[int, asyncio.Event]] = defaultdict(
            dict
        )  # account -> device -> event
        self.streams = Streams()  # phones listening on an event stream (SSE)
        self.served: dict[int, float] = {}  # device -> when it was last handed work (monotonic)
        self.polls: Counter[int] = (
            Counter()
        )  # device -> its long-polls waiting right now (Gateway.pull counts)

    def event(self, account_id: int, device_id: int) -> asyncio.Event:
        devices = self._events[account_id]
        event = devices.get(device_id)
        if event is None or event.is_set():
            event = devices[device_id] = asyncio.Event()
        return event

    def notify(self, account_id: int, device_id: int | None = None) -> None:
        self.streams.push(account_id, device_id, "MessageEnqueued")
        devices = self._events.get(account_id)
        if not devices:
            return
        if device_id is None:  # least recently served first: the first woken leases first
            for waiting in sorted(devices, key=lambda d: self.served.get(d, 0.0)):
                devices[waiting].set()
            devices.clear()
        else:
            event = devices.pop(device_id, None)
            if event is not None:
                event.set()

    @property
    def waiting(self) -> int:
        """Long-polls waiting right now, of all devices."""
        return sum(self.polls.values())

    def is_waiting(self, device_id: int) -> bool:
        return self.polls[device_id] > 0

    def notify_many(self, targets: Iterable[tuple[int, int | None]]) -> None:
        for account_id, device_id in set(targets):
            self.notify(account_id, device_id)

    def notify_all(self) -> None:
        for account_id in set(self._events) | set(self.streams.accounts()):
            self.notify(account_id)


class Stream:
    """One open event stream of a device: events queue up here until the stream writes them.

    `enqueued` is a flag, not a queue entry, so a burst of sends makes one wake-up, and nothing
    notified while the stream was busy writing is lost (unlike the one-shot events above).
    """

    def __init__(self, account_id: int, device_id: int) -> None:
        self.account_id = account_id
        self.device_id = device_id
        self.enqueued = False
        self.events: list[tuple[str, dict[str, str] | None]] = []
        self.woken = asyncio.Event()

    def push(self, kind: str, data: dict[str, str] | None = None) -> None:
        if kind == "MessageEnqueued":
            self.enqueued = True
        else:
            self.events.append((kind, data))
        self.woken.set()

    def take(self) -> list[tuple[str, dict[str, str] | None]]:
        """What happened since the last take, work first (the phone pulls on it)."""
        self.woken.clear()
        taken: list[tuple[str, dict[str, str] | None]] = (
            [("MessageEnqueued", None)] if self.enqueued else []
        )
        taken.extend(self.events)
        self.enqueued, self.events = False, []
        return taken


class Streams:
    """The event streams open right now, per account and device; in memory, per gateway node."""

    def __init__(self) -> None:
        self._open: dict[int, dict[int, set[Stream]]] = defaultdict(lambda: defaultdict(set))

    def open(self, account_id: int, device_id: int) -> Stream:
        stream = Stream(account_id, device_id)
        self._open[account_id][device_id].add(stream)
        return stream

    def close(self, stream: Stream) -> None:
        devices = self._open.get(stream.account_id)
        if devices is None:
            return
        devices[stream.device_id].discard(stream)
        if not devices[stream.device_id]:
            del devices[stream.device_id]
        if not devices:
            del self._open[stream.account_id]

    def accounts(self) -> list[int]:
        return list(self._open)

    def connected(self, device_id: int, account_id: int) -> bool:
        return bool(self._open.get(account_id, {}).get(device_id))

    def push(
        self, account_id: int, device_id: int | None, kind: str, data: dict[str, str] | None = None
    ) -> int:
        """To one device's streams, or to every stream of the account; returns how many got it."""
        devices = self._open.get(account_id)
        if not devices:
            return 0
        targets = devices.values() if device_id is None else [devices.get(device_id, set())]
        count = 0
        for streams in targets:
            for stream in streams:
                stream.push(kind, data)
                count += 1
        return count

    @property
    def count(self) -> int:
        return sum(len(s) for devices in self._open.values() for s in devices.values())
