"""Prices and balances, for every door: the price list an admin loads, what a send costs, and the
balance it is paid from (debited when a message is accepted, refunded when it never leaves)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from smsgate.core import billing, errors, numbers, segments
from smsgate.core.accounts import Account
from smsgate.core.billing import Balance, Price, PriceList, Quote
from smsgate.service.context import Context

PRICES_TTL = 10.0  # seconds a node keeps the price list before it reads it again


@dataclass(frozen=True, slots=True, kw_only=True)
class Priced:
    """One recipient of a send: its number, what is known of it, and what it costs."""

    e164: str
    info: numbers.NumberInfo
    per_part: int
    cost: int


class Billing:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._prices: PriceList | None = None
        self._read_at = 0.0

    @property
    def currency(self) -> str:
        return self._ctx.policy.currency

    # --- the price list ---------------------------------------------------------------------------

    async def price_list(self) -> PriceList:
        """The loaded list (re-read every PRICES_TTL seconds: another node may have loaded one)."""
        if self._prices is None or time.monotonic() - self._read_at > PRICES_TTL:
            self._prices = PriceList(await self._ctx.ledger.list_prices())
            self._read_at = time.monotonic()
        return self._prices

    async def load_prices(self, csv_text: str, *, by: Account | None) -> list[Price]:
        """Replaces the price list with the CSV's rows (an admin's; `by=None` is the CLI)."""
        _admin(by)
        found = billing.parse_csv(csv_text)
        await self._ctx.ledger.replace_prices(found, now=self._ctx.clock.now())
        self._prices, self._read_at = PriceList(found), time.monotonic()
        return found

    async def clear_prices(self, *, by: Account | None) -> None:
        _admin(by)
        await self._ctx.ledger.replace_prices([], now=self._ctx.clock.now())
        self._prices, self._read_at = PriceList(), time.monotonic()

    async def prices(self) -> Sequence[Price]:
        return (await self.price_list()).prices

    def price(self, prices: PriceList, raw: str, parts: int) -> Priced:
        """A number read, described and priced for a message of `parts` parts (no I/O)."""
        number = numbers.parse(raw, self._ctx.policy.default_region)
        info = numbers.intelligence(number.e164, number.country)
        per_part = prices.per_part(number.e164, info.country, info.operator)
        return Priced(e164=number.e164, info=info, per_part=per_part, cost=per_part * parts)

    async def quote(self, to: Sequence[str], text: str) -> Quote:
        """What sending `text` to `to` would cost, without sending (SMSC's cost=1)."""
        if not to:
            raise errors.InvalidNumber("no recipient given")
        _, encoded = segments.checked(text)
        prices = await self.price_list()
        costs = []
        for raw in dict.fromkeys(to):
            priced = self.price(prices, raw, encoded.segments)
            costs.append((priced.e164, priced.cost))
        return Quote(parts=encoded.segments, costs=tuple(costs))

    # --- balances ---------------------------------------------------------------------------------

    async def balance(self, account: Account) -> Balance | None:
        """The account's balance; None = unlimited."""
        return await self._ctx.ledger.balance(account.id)

    async def balance_of(self, account_id: int, *, by: Account | None) -> Balance | None:
        _admin(by)
        await self._ctx.directory.get_account(account_id)
        return await self._ctx.ledger.balance(account_id)

    async def set_balance(
        self, account_id: int, balance: Balance | None, *, by: Account | None
    ) -> Balance | None:
        """Sets an account's balance (None: unlimited again); an admin's, or the CLI's."""
        _admin(by)
        await self._ctx.directory.get_account(account_id)
        if balance is not None and balance.credit < 0:
            raise errors.BadParameter("a credit cannot be negative")
        return await self._ctx.ledger.set_balance(account_id, balance, now=self._ctx.clock.now())

    async def top_up(self, account_id: int, amount: int, *, by: Account | None) -> Balance:
        _admin(by)
        await self._ctx.directory.get_account(account_id)
        return await self._ctx.ledger.top_up(account_id, amount, now=self._ctx.clock.now())

    async def refund_due(self) -> int:
        """The sweep: gives back the cost of messages that ended without leaving."""
        return await self._ctx.ledger.refund_due(now=self._ctx.clock.now())


def _admin(by: Account | None) -> None:
    if by is not None and not by.is_admin:
        raise errors.Forbidden("only an admin may do this")
