"""Wake-ups across gateway nodes: PostgreSQL LISTEN/NOTIFY.

A node that queues work (accepts messages, sees scheduled ones fall due, takes back a lease)
announces the accounts concerned on the channel `smsgate_work` inside the same transaction, so the
note goes out exactly when the rows become visible. Every node listens on a connection of its own
and wakes the devices waiting on it. SQLite runs one node: its hub is woken in-process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)

CHANNEL = "smsgate_work"
MAX_PAYLOAD = 7000  # PostgreSQL allows 8000 bytes


async def announce(connection: AsyncConnection, account_ids: Iterable[int]) -> None:
    """Call inside the transaction that queued the work (PostgreSQL only)."""
    payload = ",".join(str(a) for a in sorted(set(account_ids)))
    if not payload:
        return
    if len(payload) > MAX_PAYLOAD:
        payload = "*"
    await connection.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
    )


def parse(payload: str) -> list[int] | None:
    """The accounts a note names; None = every account."""
    if payload == "*":
        return None
    return [int(part) for part in payload.split(",") if part.isdigit()]


async def listen(
    url: str, on_accounts: Callable[[list[int] | None], None], *, retry: float = 1.0
) -> None:
    """Listens until cancelled; reconnects after a lost connection (and wakes everyone, to be safe)."""
    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    while True:
        connection = None
        try:
            connection = await asyncpg.connect(dsn)
            await connection.add_listener(CHANNEL, lambda *args: on_accounts(parse(args[3])))
            on_accounts(None)
            await asyncio.Future()  # until cancelled
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("LISTEN %s lost its connection; reconnecting", CHANNEL, exc_info=True)
            await asyncio.sleep(retry)
        finally:
            if connection is not None and not connection.is_closed():
                await connection.close()
