"""The sender names each account may send from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from smsgate.core import errors
from smsgate.storage.database import Database
from smsgate.storage.sql import senders as t


class SenderStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_sender(self, account_id: int, name: str, *, now: datetime) -> None:
        try:
            async with self._db.write() as connection:
                await connection.execute(
                    insert(t).values(account_id=account_id, name=name, created_at=now)
                )
        except IntegrityError:
            raise errors.Conflict(f"the sender name {name!r} is there already") from None

    async def list_senders(self, account_id: int) -> list[str]:
        statement = select(t.c.name).where(t.c.account_id == account_id).order_by(t.c.id)
        async with self._db.read() as connection:
            return list((await connection.execute(statement)).scalars())

    async def remove_sender(self, account_id: int, name: str) -> None:
        statement = delete(t).where(t.c.account_id == account_id, t.c.name == name)
        async with self._db.write() as connection:
            if (await connection.execute(statement)).rowcount == 0:
                raise errors.NotFound(f"no sender name {name!r}")
