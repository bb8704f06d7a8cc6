"""The outbox: events written in the transaction of the change they tell of, one INSERT per batch.

Every write path that changes a message, stores inbound messages or hears from a device hands
its events to `record(connection, events)` inside its own transaction: they commit (or roll
back) with the change. Only the kinds an account has an enabled webhook for are written; which
those are is kept in memory, read again every TTL seconds (and at once on this node when a
webhook changes), so a webhook registered on another node starts receiving within TTL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgate.core import events
from smsgate.core.events import NewEvent
from smsgate.storage import bulk
from smsgate.storage.sql import webhooks

TTL: Final = 5.0
COLUMNS: Final = ("account_id", "kind", "message_id", "inbound_id", "device_id", "detail", "at")
_SQLITE_INSERT: Final = (
    f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
)


class Outbox:
    def __init__(self, *, is_sqlite: bool) -> None:
        self._is_sqlite = is_sqlite
        self._wanted: dict[int, frozenset[events.Kind]] = {}
        self._until = 0.0  # monotonic time the cache is trusted until
        self._listeners: list[Callable[[], None]] = []
        self.written = 0  # events written by this process (a metric)

    def forget(self) -> None:
        """A webhook changed: read the subscriptions again at the next write."""
        self._until = 0.0

    def on_written(self, listener: Callable[[], None]) -> None:
        """Called (soon after the commit) when events were written: the deliverer wakes."""
        self._listeners.append(listener)

    async def _refresh(self, connection: AsyncConnection) -> None:
        if self._until > time.monotonic():
            return
        statement = select(webhooks.c.account_id, webhooks.c.events).where(webhooks.c.enabled)
        wanted: dict[int, set[events.Kind]] = {}
        for account_id, kinds in (await connection.execute(statement)).all():
            try:
                wanted.setdefault(account_id, set()).update(events.kinds(kinds))
            except ValueError:  # a kind a newer version wrote: not ours to send
                continue
        self._wanted = {a: frozenset(k) for a, k in wanted.items()}
        self._until = time.monotonic() + TTL

    def wants(self, account_id: int, kind: events.Kind) -> bool:
        found = self._wanted.get(account_id)
        return found is not None and kind in found

    async def record(self, connection: AsyncConnection, found: Iterable[NewEvent | None]) -> int:
        """Writes the events an account has a webhook for, in the caller's transaction."""
        await self._refresh(connection)
        if not self._wanted:
            return 0
        kept = [e for e in found if e is not None and self.wants(e.account_id, e.kind)]
        if not kept:
            return 0
        raw: Any = (await connection.get_raw_connection()).driver_connection
        time_of: Any = bulk.sqlite_time if self._is_sqlite else bulk.pg_time
        rows = [
            (
                e.account_id,
                e.kind.value,
                e.message_id,
                e.inbound_id,
                e.device_id,
                e.detail,
                time_of(e.at),
            )
            for e in kept
        ]
        if self._is_sqlite:
            await raw.executemany(_SQLITE_INSERT, rows)
        else:
            await raw.copy_records_to_table("events", records=rows, columns=list(COLUMNS))
        self.written += len(kept)
        loop = asyncio.get_running_loop()
        for listener in self._listeners:  # after this turn: the commit comes first, mostly
            loop.call_soon(listener)
        return len(kept)
