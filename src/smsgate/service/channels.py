"""The gateway's side of a server-side channel: the `Dispatcher` port a channel runner drives.

Its devices come from `devices`, their work and reports go through `dispatch` (the same pull and
report a phone uses, so every limit and rule holds), what they receive through `inbound`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from smsgate.core.devices import Device, Kind
from smsgate.core.messages import Inbound, Message, Received, Report, ReportResult

if TYPE_CHECKING:
    from smsgate.service import Gateway


class ChannelDispatcher:
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    def now(self) -> datetime:
        return self._gateway.now()

    async def devices_of(self, kind: Kind) -> list[Device]:
        """Those that may send now: a disabled or archived device's loop stops at the next look."""
        return [d for d in await self._gateway.devices.of_kind(kind) if d.can_send]

    async def pull(self, device: Device, *, limit: int, wait: float) -> list[Message]:
        return await self._gateway.dispatch.pull(device, limit=limit, wait=wait)

    async def report(self, device: Device, reports: Sequence[Report]) -> list[ReportResult]:
        return await self._gateway.dispatch.report(device, reports)

    async def receive(self, device: Device, items: Sequence[Received]) -> list[Inbound]:
        return await self._gateway.inbound.receive(device, items)
