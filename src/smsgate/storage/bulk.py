"""The insert on the send path, straight through the database driver.

Profiles of the send path showed SQLAlchemy's statement compilation and per-value bind
processing at 10-12% of the CPU of a send and most of a batch insert (bench/RESULTS.md). Here the
rows are tuples handed to the driver in one call: sqlite3's executemany (one thread hop through
aiosqlite), or PostgreSQL's COPY. Ids are taken before the insert (SQLite: after MAX(id) under the
write lock this transaction already holds; PostgreSQL: from the table's sequence), so no RETURNING
is needed. It runs inside the caller's SQLAlchemy transaction: commit and rollback stay there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from smsgate.core.messages import NewMessage, State

COLUMNS = (
    "id",
    "account_id",
    "to",
    "to_original",
    "country",
    "text",
    "encoding",
    "segments",
    "state",
    "priority",
    "devices",
    "device_id",
    "sim_slot",
    "reference",
    "attempts",
    "send_at",
    "valid_until",
    "created_at",
    "queued_at",
    "operator",
    "region",
    "number_type",
    "mccmnc",
    "cost",
    "sender",
    "campaign_id",
    "sender_name",
    "group_id",
    "test",
)
_QUOTED = ", ".join(f'"{c}"' for c in COLUMNS)
_SQLITE_INSERT = f"INSERT INTO messages ({_QUOTED}) VALUES ({', '.join('?' for _ in COLUMNS)})"


def sqlite_time(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DATETIME stores (always with microseconds), so they compare."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def pg_time(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None


def _memo(convert: Any) -> Any:
    """A batch shares a handful of distinct times (its created_at, its validity): convert each once."""
    seen: dict[datetime | None, Any] = {}

    def cached(value: datetime | None) -> Any:
        found = seen.get(value, seen)
        if found is seen:
            found = seen[value] = convert(value)
        return found

    return cached


def group_ids(ids: Sequence[int], news: Sequence[NewMessage]) -> list[int | None]:
    """Each grouped message's group id: the id of its group's first message (same insert)."""
    return [
        None if n.group_offset is None else ids[index - n.group_offset]
        for index, n in enumerate(news)
    ]


def _row(message_id: int, new: NewMessage, time: Any, group_id: int | None) -> tuple[Any, ...]:
    queued = new.state is State.QUEUED
    return (
        message_id,
        new.account_id,
        new.to,
        new.to_original,
        new.country,
        new.text,
        new.encoding,
        new.segments,
        new.state.value,
        new.priority,
        ",".join(map(str, new.devices)),
        new.device_id,
        new.sim_slot,
        new.reference,
        0,
        time(new.send_at),
        time(new.valid_until),
        time(new.created_at),
        time(new.created_at) if queued else None,
        new.operator,
        new.region,
        new.number_type,
        new.mccmnc,
        new.cost,
        new.sender,
        new.campaign_id,
        new.sender_name,
        group_id,
        new.test,
    )


async def insert(
    connection: AsyncConnection, news: Sequence[NewMessage], *, is_sqlite: bool
) -> list[int]:
    """Inserts the rows; returns their ids in order."""
    raw: Any = (await connection.get_raw_connection()).driver_connection
    if is_sqlite:
        cursor = await raw.execute("SELECT COALESCE(MAX(id), 0) FROM messages")
        first = (await cursor.fetchone())[0] + 1
        await cursor.close()
        ids = list(range(first, first + len(news)))
        time = _memo(sqlite_time)
        await raw.executemany(
            _SQLITE_INSERT,
            [_row(i, n, time, g) for i, n, g in zip(ids, news, group_ids(ids, news), strict=True)],
        )
        return ids
    found = await raw.fetch(
        "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $1)",
        len(news),
    )
    ids = [r[0] for r in found]
    time = _memo(pg_time)
    groups = group_ids(ids, news)
    records = [_row(i, n, time, g) for i, n, g in zip(ids, news, groups, strict=True)]
    await raw.copy_records_to_table("messages", records=records, columns=list(COLUMNS))
    return ids
