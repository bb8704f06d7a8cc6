"""Inbound messages: what devices received, kept per account."""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from smsgate.core import errors
from smsgate.core.accounts import Account
from smsgate.core.devices import Device
from smsgate.core.messages import Inbound, MessageFilter, NewInbound, Page
from smsgate.service.context import Context

Received = tuple[str, str, datetime | None, int | None]  # sender, text, received_at, SIM slot


class InboundMessages:
    def __init__(
        self, ctx: Context, *, replies: Callable[[Sequence[Inbound]], Awaitable[int]] | None = None
    ) -> None:
        self._ctx = ctx
        self._replies = replies  # what reads every inbound message after it is stored (opt-outs)

    def prepare(
        self, device: Device, items: Sequence[Received], *, lenient: bool = False
    ) -> builtins.list[NewInbound]:
        """What a device received, checked; `lenient` drops entries without a sender instead."""
        now = self._ctx.clock.now()
        news = []
        for sender, text, received_at, sim_slot in items:
            if not sender or not sender.strip():
                if lenient:
                    continue
                raise errors.InvalidInput("an inbound message needs its sender")
            news.append(
                NewInbound(
                    account_id=device.account_id,
                    device_id=device.id,
                    sender=sender.strip(),
                    text=text,
                    received_at=received_at or now,
                    sim_slot=sim_slot,
                )
            )
        return news

    async def receive(self, device: Device, items: Sequence[Received]) -> builtins.list[Inbound]:
        """Inbound SMS a device got: (sender, text, received_at, sim_slot)."""
        news = self.prepare(device, items)
        stored = await self._ctx.directory.add_inbound(news, now=self._ctx.clock.now())
        await self.taken_in(stored)
        return stored

    def counted(self, stored: Sequence[Inbound]) -> None:
        """Counts inbound messages a door stored through its own store (the SMSGate app's dedupe)."""
        self._ctx.metrics.inbound.inc(len(stored))

    async def taken_in(self, stored: Sequence[Inbound]) -> None:
        """After inbound messages are stored, by this service or a door's own store: counted, and a
        stop word puts its sender on the opt-out list."""
        self.counted(stored)
        if self._replies is not None and stored:
            await self._replies(stored)

    async def count(self, f: MessageFilter, *, account: Account) -> int:
        return await self._ctx.directory.count_inbound(account.id, f)

    async def list(self, f: MessageFilter, *, account: Account) -> Page[Inbound]:
        return await self._ctx.directory.list_inbound(account.id, f)

    async def delete(self, f: MessageFilter, *, account: Account) -> Sequence[Inbound]:
        return await self._ctx.directory.delete_inbound(account.id, f)
