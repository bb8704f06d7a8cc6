"""Rows straight into the gateway's schema: the storage ceiling (raw executemany) and the bulk
load behind the listings scenario (indexes dropped, rows loaded, indexes rebuilt, ANALYZE).

Times are stored as naive UTC, in SQLAlchemy's SQLite text format, like smsgate stores them.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.server import Database

TEXT = "Your code is {:06d}. It expires in 5 minutes."
SEND_COLUMNS = [
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
    "valid_until",
    "created_at",
    "queued_at",
]
LOAD_COLUMNS = [
    *SEND_COLUMNS[:-1],
    "reason",
    "device_id",
    "attempts",
    "queued_at",
    "leased_at",
    "taken_at",
    "sent_at",
    "delivered_at",
    "failed_at",
    "cancelled_at",
]
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def phone(i: int, spread: int = 10_000_000) -> str:
    return f"+7920{(i * 7919) % spread:07d}"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def send_rows(account_id: int, count: int, *, sqlite: bool) -> list[tuple[Any, ...]]:
    """The rows a batch of `count` sends writes (queued, GSM-7, one segment)."""
    now = _now()
    valid = now + timedelta(days=1)
    stamp: Any = now.strftime(SQLITE_TIME) if sqlite else now
    until: Any = valid.strftime(SQLITE_TIME) if sqlite else valid
    return [
        (
            account_id,
            phone(i),
            phone(i),
            "RU",
            TEXT.format(i % 1_000_000),
            "gsm7",
            1,
            "queued",
            0,
            "",
            until,
            stamp,
            stamp,
        )
        for i in range(count)
    ]


def _quote(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def sqlite_insert(database: Database, rows: list[tuple[Any, ...]], chunk: int) -> float:
    """Raw executemany of `rows` in transactions of `chunk`, as durable as the gateway; seconds."""
    connection = sqlite3.connect(database.sqlite_path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={database.backend.synchronous}")
        statement = f"INSERT INTO messages ({_quote(SEND_COLUMNS)}) VALUES ({', '.join('?' * len(SEND_COLUMNS))})"
        start = time.perf_counter()
        for offset in range(0, len(rows), chunk):
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(statement, rows[offset : offset + chunk])
            connection.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        connection.close()


async def pg_connect(database: Database) -> Any:
    import asyncpg

    url = database.backend.pg_url.replace("postgresql://", "postgres://", 1)
    return await asyncpg.connect(url, server_settings={"search_path": database.schema}, timeout=10)


async def pg_insert(database: Database, rows: list[tuple[Any, ...]], chunk: int) -> float:
    connection = await pg_connect(database)
    try:
        marks = ", ".join(f"${i + 1}" for i in range(len(SEND_COLUMNS)))
        statement = f"INSERT INTO messages ({_quote(SEND_COLUMNS)}) VALUES ({marks})"
        start = time.perf_counter()
        for offset in range(0, len(rows), chunk):
            async with connection.transaction():
                await connection.executemany(statement, rows[offset : offset + chunk])
        return time.perf_counter() - start
    finally:
        await connection.close()


async def raw_insert(database: Database, rows: list[tuple[Any, ...]], chunk: int) -> float:
    if database.backend.is_sqlite:
        return sqlite_insert(database, rows, chunk)
    return await pg_insert(database, rows, chunk)


async def admin_account(database: Database) -> int:
    sql = "SELECT id FROM accounts WHERE is_admin ORDER BY id LIMIT 1"
    if database.backend.is_sqlite:
        connection = sqlite3.connect(database.sqlite_path)
        try:
            return int(connection.execute(sql).fetchone()[0])
        finally:
            connection.close()
    pg = await pg_connect(database)
    try:
        return int(await pg.fetchval(sql))
    finally:
        await pg.close()


# --- the listings data set --------------------------------------------------------------------

STATES = (
    ["delivered"] * 85 + ["failed"] * 5 + ["undelivered"] * 5 + ["sent"] * 3 + ["cancelled"] * 2
)
SPAN = timedelta(days=30)


class DataSet:
    """`count` messages of one account over the last 30 days, ids and times rising together."""

    def __init__(self, account_id: int, count: int) -> None:
        self.account_id = account_id
        self.count = count
        self.phones = max(1000, count // 10)
        self.end = _now().replace(microsecond=0)
        self.start = self.end - SPAN
        self.step = SPAN / max(1, count)

    def phone(self, i: int) -> str:
        return phone(i, self.phones)

    def rows(self, *, sqlite: bool) -> Iterator[tuple[Any, ...]]:
        fmt = (lambda t: t.strftime(SQLITE_TIME)) if sqlite else (lambda t: t)
        second = timedelta(seconds=1)
        for i in range(self.count):
            created = self.start + self.step * i
            state = STATES[i % 100]
            reason = "generic" if state in ("failed", "undelivered") else None
            c = fmt(created)
            later = fmt(created + second)
            latest = fmt(created + 3 * second)
            yield (
                self.account_id,
                self.phone(i),
                self.phone(i),
                "RU",
                TEXT.format(i % 1_000_000),
                "gsm7",
                1,
                state,
                0,
                "",
                fmt(created + timedelta(days=1)),
                c,
                reason,
                None,
                1,
                c,
                c if state != "cancelled" else None,
                later if state != "cancelled" else None,
                later if state in ("sent", "delivered", "undelivered") else None,
                latest if state in ("delivered", "undelivered") else None,
                latest if state == "failed" else None,
                c if state == "cancelled" else None,
            )


def _sqlite_load(database: Database, data: DataSet) -> None:
    connection = sqlite3.connect(database.sqlite_path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")
        indexes = [
            r[0]
            for r in connection.execute(
                "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name='messages' AND sql IS NOT NULL"
            )
        ]
        names = [
            r[0]
            for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='messages' AND sql IS NOT NULL"
            )
        ]
        for name in names:
            connection.execute(f'DROP INDEX "{name}"')
        statement = f"INSERT INTO messages ({_quote(LOAD_COLUMNS)}) VALUES ({', '.join('?' * len(LOAD_COLUMNS))})"
        rows = data.rows(sqlite=True)
        while True:
            chunk = [row for _, row in zip(range(200_000), rows, strict=False)]
            if not chunk:
                break
            connection.execute("BEGIN")
            connection.executemany(statement, chunk)
            connection.execute("COMMIT")
        for sql in indexes:
            connection.execute(sql)
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


async def _pg_load(database: Database, data: DataSet) -> None:
    connection = await pg_connect(database)
    try:
        await connection.execute("SET maintenance_work_mem = '512MB'")
        found = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'messages' "
            "AND indexname NOT LIKE '%pkey'",
            database.schema,
        )
        for row in found:
            await connection.execute(f'DROP INDEX "{database.schema}"."{row["indexname"]}"')
        rows = data.rows(sqlite=False)
        while True:
            chunk = [row for _, row in zip(range(200_000), rows, strict=False)]
            if not chunk:
                break
            await connection.copy_records_to_table(
                "messages", records=chunk, columns=LOAD_COLUMNS, schema_name=database.schema
            )
        for row in found:
            await connection.execute(row["indexdef"])
        await connection.execute("ANALYZE messages")
    finally:
        await connection.close()


async def load(database: Database, data: DataSet) -> float:
    """Loads the data set with the gateway stopped; seconds it took."""
    start = time.perf_counter()
    if database.backend.is_sqlite:
        _sqlite_load(database, data)
    else:
        await _pg_load(database, data)
    return time.perf_counter() - start
