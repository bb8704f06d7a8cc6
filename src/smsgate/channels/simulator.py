"""The simulated phone: takes work like a phone would and walks it through the real statuses.

Every simulator device of every account gets a loop that pulls through the same Gateway.pull a
phone uses, reports taken, sent, then delivered (or failed at a configurable rate) after
configurable delays, and can answer with an inbound reply.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

from smsgate.core.devices import Device, Kind
from smsgate.core.messages import Message, Reason, Report, State
from smsgate.service import Gateway

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorSettings:
    sent_after: float = 0.5  # seconds from taken to sent
    delivered_after: float = 1.0  # seconds from sent to delivered
    failure_rate: float = 0.0  # share of messages that fail instead of being delivered
    reply_rate: float = 1.0  # share of delivered messages that get an inbound reply
    reply_after: float = 1.0
    batch: int = 100
    rescan: float = 2.0  # seconds between looks for new simulator devices
    seed: int | None = None


class Simulator:
    def __init__(self, gateway: Gateway, settings: SimulatorSettings = SimulatorSettings()) -> None:
        self._gateway = gateway
        self._settings = settings
        self._random = random.Random(settings.seed)
        self._loops: dict[int, asyncio.Task[None]] = {}
        self._walks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        try:
            while True:
                await self._rescan()
                await asyncio.sleep(self._settings.rescan)
        finally:  # wait for them: the gateway closes the database right after this returns
            children = [*self._loops.values(), *self._walks]
            for task in children:
                task.cancel()
            await asyncio.gather(*children, return_exceptions=True)

    async def _rescan(self) -> None:
        try:
            found = await self._gateway.devices.of_kind(Kind.SIMULATOR)
        except Exception:
            log.exception("simulator could not list its devices")
            return
        live = {d.id for d in found}
        for device_id in [i for i in self._loops if i not in live]:
            self._loops.pop(device_id).cancel()
        for device in found:
            if device.id not in self._loops or self._loops[device.id].done():
                self._loops[device.id] = asyncio.create_task(self._loop(device))

    async def _loop(self, device: Device) -> None:
        while True:
            try:
                fresh = await self._gateway.devices.refresh(device)
                if fresh is None or not fresh.can_send:
                    await asyncio.sleep(self._settings.rescan)
                    continue
                messages = await self._gateway.dispatch.pull(
                    fresh, limit=self._settings.batch, wait=5.0
                )
                if messages:
                    await self._gateway.dispatch.report(
                        fresh, [Report(message_id=m.id, state=State.TAKEN) for m in messages]
                    )
                    for message in messages:
                        self._spawn(self._walk(fresh, message))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("simulator device %s failed; retrying", device.id)
                await asyncio.sleep(1.0)

    def _spawn(self, coroutine: object) -> None:
        task = asyncio.create_task(coroutine)  # type: ignore[arg-type]
        self._walks.add(task)
        task.add_done_callback(self._walks.discard)

    async def _walk(self, device: Device, message: Message) -> None:
        try:
            await self._walk_through(device, message)
        except asyncio.CancelledError:
            raise
        except Exception:  # the lease expires and the message is queued again
            log.exception("simulator could not finish message %s", message.id)

    async def _walk_through(self, device: Device, message: Message) -> None:
        s = self._settings
        await asyncio.sleep(s.sent_after)
        if self._random.random() < s.failure_rate:
            reason = self._random.choice([Reason.GENERIC, Reason.NO_SERVICE, Reason.RADIO_OFF])
            await self._gateway.dispatch.report(
                device, [Report(message_id=message.id, state=State.FAILED, reason=reason)]
            )
            return
        await self._gateway.dispatch.report(
            device, [Report(message_id=message.id, state=State.SENT)]
        )
        await asyncio.sleep(s.delivered_after)
        await self._gateway.dispatch.report(
            device, [Report(message_id=message.id, state=State.DELIVERED)]
        )
        if self._random.random() < s.reply_rate:
            await asyncio.sleep(s.reply_after)
            reply = f"Re: {message.text[:140]}"
            await self._gateway.inbound.receive(
                device, [(message.to, reply, None, message.sim_slot)]
            )
