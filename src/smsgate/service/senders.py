"""Sender names: the names and numbers an account may send from, checked at send.

An account with no sender names may send with any name (it is recorded with the message: scripts
written for a vendor send one on every request); once it has some, a send naming another is
refused with errors.SenderNotAllowed.
"""

from __future__ import annotations

import re
import time

from smsgate.core import errors
from smsgate.core.accounts import Account
from smsgate.service.context import Context

_NAME = re.compile(r"[A-Za-z0-9 ._\-+&!']{1,11}|\+?[0-9]{3,15}")
TTL = 10.0  # seconds a node remembers an account's names


class Senders:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._cache: dict[int, tuple[frozenset[str], float]] = {}

    async def add(self, name: str, *, account: Account) -> str:
        name = checked(name)
        await self._ctx.senders.add_sender(account.id, name, now=self._ctx.clock.now())
        self._cache.pop(account.id, None)
        return name

    async def list(self, *, account: Account) -> list[str]:
        return await self._ctx.senders.list_senders(account.id)

    async def remove(self, name: str, *, account: Account) -> None:
        await self._ctx.senders.remove_sender(account.id, name.strip())
        self._cache.pop(account.id, None)

    async def allowed(self, account: Account) -> frozenset[str]:
        cached = self._cache.get(account.id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        names = frozenset(await self._ctx.senders.list_senders(account.id))
        self._cache[account.id] = (names, time.monotonic() + TTL)
        return names

    async def check(self, name: str | None, *, account: Account) -> str:
        """The sender name to record; raises SenderNotAllowed for a name the account lacks."""
        if name is None or not name.strip():
            return ""
        name = name.strip()
        if len(name) > 64:
            raise errors.SenderNotAllowed("a sender name has at most 64 characters")
        names = await self.allowed(account)
        if names and name not in names:
            raise errors.SenderNotAllowed(f"the sender name {name!r} is not one of this account's")
        return name


def checked(name: str) -> str:
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise errors.BadParameter(
            f"{name[:20]!r} is not a sender name (11 Latin letters, digits and . _ - + & ! ' "
            "or a number of 3 to 15 digits)"
        )
    return name
