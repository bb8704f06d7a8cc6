"""Request limits as a core mechanism: a door names the limits of a kind of request and asks
before doing it; counts live in the database, so they hold across every gateway node."""

from __future__ import annotations

from collections.abc import Sequence

from smsgate.core import limits
from smsgate.core.accounts import Account
from smsgate.core.limits import Limit
from smsgate.service.context import Context


class Limits:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def check(
        self, kind: str, parts: Sequence[object], rules: Sequence[Limit], *, account: Account
    ) -> None:
        """Counts one request of `kind` with these identifying `parts` (its parameters) for the
        account; raises errors.TooManyRequests past any of the rules."""
        key = limits.key(kind, account.id, *parts)
        await self._ctx.limiter.hit(key, rules, now=self._ctx.clock.now())
