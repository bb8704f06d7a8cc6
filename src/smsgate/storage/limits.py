"""Request limits (core/limits.py), counted in the database so every node sharing it sees one count.

`hit` counts a request in each of its limits' current windows with one upsert per limit and
refuses it when a count is over (the refused request still counts: a client that keeps asking
stays refused). `mark` is the send path's form: inside the transaction that stores the messages, a
plain insert of the send's key and window, which the primary key refuses the second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgate.core import errors
from smsgate.core.limits import Limit
from smsgate.core.messages import NewMessage
from smsgate.storage.database import Database
from smsgate.storage.sql import request_counts as t


class Limiter:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def hit(self, key: str, limits: Sequence[Limit], *, now: datetime) -> None:
        """Counts one request; raises errors.TooManyRequests when a limit is exceeded."""
        over: Limit | None = None
        async with self._db.write() as connection:
            for limit in limits:
                start = limit.window(now)
                values = {
                    "key": f"{key}:{int(limit.per.total_seconds())}",
                    "window_start": start,
                    "count": 1,
                    "expires_at": start + limit.per,
                }
                count = (await connection.execute(self._upsert(values))).scalar_one()
                if count > limit.count and over is None:
                    over = limit
        if over is not None:
            raise errors.TooManyRequests(
                f"at most {over.count} such requests in {_span(over)}; wait and try again",
                retry_after=int(over.per.total_seconds()),
            )

    def _upsert(self, values: dict[str, Any]) -> Any:
        dialect = sqlite if self._db.is_sqlite else postgresql
        statement = dialect.insert(t).values(values)
        return statement.on_conflict_do_update(
            index_elements=[t.c.key, t.c.window_start], set_={"count": t.c.count + 1}
        ).returning(t.c.count)

    async def sweep(self, *, now: datetime) -> int:
        """Forgets windows that have ended."""
        async with self._db.write() as connection:
            result = await connection.execute(delete(t).where(t.c.expires_at <= now))
        return int(result.rowcount or 0)


async def mark(connection: AsyncConnection, news: Sequence[NewMessage]) -> None:
    """Inside the transaction that stores `news`: their sends' marks; a repeat is refused
    (errors.TooManyRequests), rolling the whole transaction back."""
    marks = {n.mark[:2]: n.mark for n in news if n.mark is not None}
    if not marks:
        return
    rows = [
        {"key": f"{k}:once", "window_start": start, "count": 1, "expires_at": until}
        for k, start, until in marks.values()
    ]
    try:
        await connection.execute(insert(t), rows)
    except IntegrityError:
        raise errors.TooManyRequests(
            "the same send was asked a moment ago (at most once a minute)"
        ) from None


def _span(limit: Limit) -> str:
    seconds = int(limit.per.total_seconds())
    if seconds % 3600 == 0:
        return "an hour" if seconds == 3600 else f"{seconds // 3600} hours"
    if seconds % 60 == 0:
        return "a minute" if seconds == 60 else f"{seconds // 60} minutes"
    return f"{seconds} seconds"
