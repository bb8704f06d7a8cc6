"""The simulated phone: the gateway's "virtual sending", the first channel on the runner.

It walks each message it takes through the real statuses as a phone would: sent after a delay,
then delivered (or failed, at a configurable rate, for a transient reason so the retry rules
apply), and it can answer with an inbound reply. Everything it reports goes through the runner
(batched, retried until stored); stopped mid-walk, what it has not sent goes back to the queue.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from smsgate.core.devices import Device, Kind
from smsgate.core.messages import Message, Reason, Received, Report, State
from smsgate.core.ports import Outlet


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorSettings:
    sent_after: float = 0.5  # seconds from taken to sent
    delivered_after: float = 1.0  # seconds from sent to delivered
    failure_rate: float = 0.0  # share of messages that fail instead of being delivered
    reply_rate: float = 1.0  # share of delivered messages that get an inbound reply
    reply_after: float = 1.0
    batch: int = 100  # its runner: messages pulled at once
    rescan: float = 2.0  # its runner: seconds between looks for new simulator devices
    seed: int | None = None


class SimulatedPhone:
    """The Channel of simulator devices: holds any number of messages, like a phone's queue."""

    kind = Kind.SIMULATOR

    def __init__(self, settings: SimulatorSettings = SimulatorSettings()) -> None:
        self._settings = settings
        self._random = random.Random(settings.seed)
        self._walks: set[asyncio.Task[None]] = set()

    def room(self, device: Device) -> int:
        return self._settings.batch

    async def take(self, device: Device, messages: Sequence[Message], outlet: Outlet) -> None:
        for message in messages:
            self._spawn(self._walk(message, outlet))

    async def close(self) -> None:
        """Walks that have not sent yet give their message back; the others stop where they are."""
        walks = list(self._walks)
        for task in walks:
            task.cancel()
        await asyncio.gather(*walks, return_exceptions=True)

    def _spawn(self, walk: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(walk)
        self._walks.add(task)
        task.add_done_callback(self._walks.discard)

    async def _walk(self, message: Message, outlet: Outlet) -> None:
        s = self._settings
        try:
            await asyncio.sleep(s.sent_after)
        except asyncio.CancelledError:  # stopped before sending: any device may take it again
            outlet.report(Report(message_id=message.id, state=State.QUEUED))
            raise
        if self._random.random() < s.failure_rate:
            reason = self._random.choice([Reason.GENERIC, Reason.NO_SERVICE, Reason.RADIO_OFF])
            outlet.report(Report(message_id=message.id, state=State.FAILED, reason=reason))
            return
        outlet.report(Report(message_id=message.id, state=State.SENT))
        await asyncio.sleep(s.delivered_after)
        outlet.report(Report(message_id=message.id, state=State.DELIVERED))
        if self._random.random() < s.reply_rate:
            await asyncio.sleep(s.reply_after)
            outlet.receive(
                Received(message.to, f"Re: {message.text[:140]}", None, message.sim_slot)
            )
