"""The price list and the balances.

A balance is debited inside the transaction that stores the messages it pays for (`debit`, called
by the message store), with one statement per account: `amount = amount - cost ... RETURNING`.
The row lock (PostgreSQL) or the single writer (SQLite) orders concurrent sends, so two sends that
together exceed the balance cannot both pass, on any number of nodes: the second sees the first's
debit, finds the balance short, and its transaction rolls back, writing nothing.

Refunds run as a sweep (`refund_due`): a message that ends failed, cancelled or expired (never
handed to an operator) gets its cost back once, marked by `refunded_at`, whichever path ended it.
A deleted message that never left is refunded in the delete's own transaction (`refund_deleted`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgate.core import errors
from smsgate.core.billing import Balance, Price, shown
from smsgate.core.messages import REFUNDED, Message, NewMessage, Reason
from smsgate.storage.database import Database
from smsgate.storage.sql import REFUND_DUE, balances, prices
from smsgate.storage.sql import messages as t

REFUND_BATCH = 5000  # messages refunded per statement


class Ledger:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- the price list ---------------------------------------------------------------------------

    async def replace_prices(self, found: Sequence[Price], *, now: datetime) -> int:
        """The whole list at once: readers see the old list or the new one, never a mix."""
        async with self._db.write() as connection:
            await connection.execute(delete(prices))
            if found:
                await connection.execute(
                    insert(prices),
                    [
                        {
                            "country": p.country,
                            "prefix": p.prefix,
                            "operator": p.operator,
                            "per_part": p.per_part,
                            "created_at": now,
                        }
                        for p in found
                    ],
                )
        return len(found)

    async def list_prices(self) -> list[Price]:
        statement = select(prices).order_by(prices.c.country, prices.c.prefix, prices.c.operator)
        async with self._db.read() as connection:
            return [
                Price(country=r.country, prefix=r.prefix, operator=r.operator, per_part=r.per_part)
                for r in (await connection.execute(statement)).all()
            ]

    # --- balances ---------------------------------------------------------------------------------

    async def balance(self, account_id: int) -> Balance | None:
        """None: unlimited."""
        statement = select(balances.c.amount, balances.c.credit).where(
            balances.c.account_id == account_id
        )
        async with self._db.read() as connection:
            row = (await connection.execute(statement)).first()
        return Balance(amount=row.amount, credit=row.credit) if row else None

    async def balances(self, account_ids: Iterable[int]) -> dict[int, Balance]:
        wanted = list(account_ids)
        if not wanted:
            return {}
        statement = select(balances).where(balances.c.account_id.in_(wanted))
        async with self._db.read() as connection:
            return {
                r.account_id: Balance(amount=r.amount, credit=r.credit)
                for r in (await connection.execute(statement)).all()
            }

    async def set_balance(
        self, account_id: int, balance: Balance | None, *, now: datetime
    ) -> Balance | None:
        """Sets the amount (and credit); None makes the account unlimited again."""
        async with self._db.write() as connection:
            await connection.execute(delete(balances).where(balances.c.account_id == account_id))
            if balance is not None:
                await connection.execute(
                    insert(balances).values(
                        account_id=account_id,
                        amount=balance.amount,
                        credit=balance.credit,
                        updated_at=now,
                    )
                )
        return balance

    async def top_up(self, account_id: int, amount: int, *, now: datetime) -> Balance:
        """Adds to (or, negative, takes from) a balance; an unlimited account has none to change."""
        statement = (
            update(balances)
            .where(balances.c.account_id == account_id)
            .values(amount=balances.c.amount + amount, updated_at=now)
            .returning(balances.c.amount, balances.c.credit)
        )
        async with self._db.write() as connection:
            row = (await connection.execute(statement)).first()
        if row is None:
            raise errors.Conflict("the account's balance is unlimited: set one first")
        return Balance(amount=row.amount, credit=row.credit)

    async def debit_now(self, account_id: int, amount: int, *, now: datetime) -> None:
        """Takes `amount` from a limited balance in a transaction of its own (a paid lookup)."""
        if amount <= 0:
            return
        async with self._db.write() as connection:
            await _debit(connection, account_id, amount, now)

    # --- refunds ----------------------------------------------------------------------------------

    async def refund_due(self, *, now: datetime) -> int:
        """Gives back the cost of every message that ended without leaving; returns how many."""
        probe = select(t.c.id).where(text(REFUND_DUE)).limit(1)
        async with self._db.read() as connection:  # mostly nothing: no write transaction then
            if (await connection.execute(probe)).first() is None:
                return 0
        done = 0
        while True:
            async with self._db.write() as connection:
                due = (
                    select(t.c.id).where(text(REFUND_DUE)).order_by(t.c.id).limit(REFUND_BATCH)
                ).scalar_subquery()
                statement = (
                    update(t)
                    .where(t.c.id.in_(due), text(REFUND_DUE))
                    .values(refunded_at=now)
                    .returning(t.c.account_id, t.c.cost)
                )
                found = (await connection.execute(statement)).all()
                await credit(connection, ((r.account_id, r.cost) for r in found), now)
            done += len(found)
            if len(found) < REFUND_BATCH:
                return done


async def debit(connection: AsyncConnection, news: Sequence[NewMessage], now: datetime) -> None:
    """Inside the transaction that stores `news`: takes their cost from each limited balance.

    Raises errors.NotEnoughMoney (rolling the whole transaction back) when one cannot pay.
    """
    totals: dict[int, int] = defaultdict(int)
    for new in news:
        if new.cost:
            totals[new.account_id] += new.cost
    for account_id, total in totals.items():
        await _debit(connection, account_id, total, now)


async def _debit(connection: AsyncConnection, account_id: int, total: int, now: datetime) -> None:
    statement = (
        update(balances)
        .where(balances.c.account_id == account_id)
        .values(amount=balances.c.amount - total, updated_at=now)
        .returning(balances.c.amount, balances.c.credit)
    )
    row = (await connection.execute(statement)).first()
    if row is not None and row.amount < -row.credit:
        raise errors.NotEnoughMoney(
            f"the balance cannot pay {shown(total)}: {shown(row.amount + total)} is left",
            cost=total,
        )


async def credit(
    connection: AsyncConnection, refunds: Iterable[tuple[int, int]], now: datetime
) -> None:
    """Gives (account_id, units) back to limited balances (an unlimited account has none)."""
    totals: dict[int, int] = defaultdict(int)
    for account_id, cost in refunds:
        if cost:
            totals[account_id] += cost
    for account_id, total in sorted(totals.items()):  # one order: no deadlock between nodes
        await connection.execute(
            update(balances)
            .where(balances.c.account_id == account_id)
            .values(amount=balances.c.amount + total, updated_at=now)
        )


def never_left(message: Message) -> bool:
    """A message whose cost goes back when it is deleted: it never reached an operator."""
    if message.cost <= 0 or message.refunded_at is not None:
        return False
    if message.state in REFUNDED:
        return message.reason is not Reason.DEVICE_LOST
    return message.sent_at is None and message.delivered_at is None and message.taken_at is None


async def refund_deleted(
    connection: AsyncConnection, deleted: Sequence[Message], now: datetime
) -> None:
    await credit(connection, ((m.account_id, m.cost) for m in deleted if never_left(m)), now)
