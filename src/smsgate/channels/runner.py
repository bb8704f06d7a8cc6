"""The channel runner: drives any server-side channel (the simulated phone, SMPP, HTTP upstream, a modem).

For each live device of the channel's kind it pulls work through the gateway under the
dispatcher's limits (as much as the channel has room for), reports it taken and hands it to the
channel. What the channel reports, and the inbound it hands in, is batched per device (one gateway
call per batch, flushed when `flush_size` wait or `flush_every` seconds after the first) and
retried with a capped exponential back-off until stored: a database that is locked or restarting
delays a report, it never loses it. Errors in a device's loop back off the same way.

Stopping: pulls stop, the channel closes (finishing or giving back its in-flight work), and what it
reported is flushed before `stop` returns, so the database may close right after.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from smsgate.core import errors
from smsgate.core.devices import Device
from smsgate.core.messages import Message, Received, Report, State
from smsgate.core.ports import Channel, Dispatcher

log = logging.getLogger(__name__)

Pause = Callable[[float], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunnerSettings:
    batch: int = 100  # messages pulled at most at once for one device
    wait: float = 5.0  # seconds a pull waits for work
    rescan: float = 2.0  # seconds between looks for new, changed or archived devices
    flush_size: int = 500  # reports (or inbound) waiting that start a flush at once
    flush_every: float = 0.05  # seconds the first waiting report waits for others
    backoff_first: float = 0.1  # seconds after the first error; doubles up to backoff_max
    backoff_max: float = 10.0
    stop_within: float = 10.0  # seconds stop keeps retrying a flush the store refuses


class Backoff:
    """Exponential, capped; `pause` is injectable so tests see the delays without waiting them."""

    def __init__(self, first: float, cap: float, pause: Pause) -> None:
        self._first, self._cap, self._pause = first, cap, pause
        self._failures = 0

    def reset(self) -> None:
        self._failures = 0

    async def wait(self) -> None:
        delay = min(self._cap, self._first * 2 ** min(self._failures, 32))
        self._failures += 1
        await self._pause(delay)


class Batches(Generic[T]):
    """Items waiting per device, in the order they came."""

    def __init__(self) -> None:
        self.devices: dict[int, Device] = {}
        self.items: dict[int, list[T]] = {}
        self.count = 0

    def add(self, device: Device, item: T) -> None:
        self.devices[device.id] = device
        self.items.setdefault(device.id, []).append(item)
        self.count += 1

    def take(self) -> list[tuple[Device, list[T]]]:
        taken = [(self.devices[i], items) for i, items in self.items.items()]
        self.items, self.count = {}, 0
        return taken


class DeviceOutlet:
    """The outlet a channel gets for one device: reports and inbound go into the runner's batches."""

    def __init__(self, runner: Runner, device: Device) -> None:
        self._runner = runner
        self._device = device

    def report(self, report: Report) -> None:
        self._runner.add_report(self._device, report)

    def receive(self, received: Received) -> None:
        if not received.sender or not received.sender.strip():
            raise errors.InvalidInput("an inbound message needs its sender")
        self._runner.add_inbound(self._device, received)


class Runner:
    def __init__(
        self,
        dispatcher: Dispatcher,
        channel: Channel,
        settings: RunnerSettings = RunnerSettings(),
        *,
        pause: Pause = asyncio.sleep,
    ) -> None:
        self._dispatcher = dispatcher
        self._channel = channel
        self._settings = settings
        self._pause = pause
        self._loops: dict[int, asyncio.Task[None]] = {}
        self._retired: set[asyncio.Task[None]] = set()  # cancelled, maybe still unwinding
        self._reports: Batches[Report] = Batches()
        self._inbound: Batches[Received] = Batches()
        self._waiting = asyncio.Event()  # something waits to be flushed
        self._full = asyncio.Event()  # flush_size reached: flush now
        self._room = asyncio.Event()  # a report came: the channel may have room again
        self._flusher: asyncio.Task[None] | None = None
        self._deadline: float | None = None  # set when stopping: flushes give up after it

    @property
    def kind(self) -> str:
        return str(self._channel.kind)

    # --- what channels report -------------------------------------------------------------------

    def add_report(self, device: Device, report: Report) -> None:
        self._reports.add(device, report)
        self._room.set()
        self._queued()

    def add_inbound(self, device: Device, received: Received) -> None:
        self._inbound.add(device, received)
        self._queued()

    def _queued(self) -> None:
        self._waiting.set()
        if self._reports.count + self._inbound.count >= self._settings.flush_size:
            self._full.set()

    # --- running --------------------------------------------------------------------------------

    async def run(self) -> None:
        """Runs until cancelled; then stops cleanly (see `stop`)."""
        self._flusher = asyncio.create_task(self._flushing(), name=f"{self._channel.kind}-flush")
        try:
            while True:
                await self._rescan()
                await asyncio.sleep(self._settings.rescan)
        finally:
            await self._stop()

    async def _rescan(self) -> None:
        try:
            found = await self._dispatcher.devices_of(self._channel.kind)
        except Exception:
            log.exception("%s channel could not list its devices", self._channel.kind)
            return
        live = {d.id: d for d in found}
        for device_id in [i for i in self._loops if i not in live]:  # archived or disabled
            retired = self._loops.pop(device_id)
            retired.cancel()
            self._retired.add(retired)
            retired.add_done_callback(self._retired.discard)
        for device in found:
            loop = self._loops.get(device.id)
            if loop is None or loop.done():
                self._loops[device.id] = asyncio.create_task(
                    self._serve(device), name=f"{self._channel.kind}-{device.id}"
                )

    async def _serve(self, device: Device) -> None:
        """One device's loop: pull what the channel has room for, report it taken, hand it over."""
        s = self._settings
        outlet = DeviceOutlet(self, device)
        backoff = Backoff(s.backoff_first, s.backoff_max, self._pause)
        while True:
            room = self._channel.room(device)
            if room <= 0:
                self._room.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._room.wait(), s.rescan)
                continue
            try:
                messages = await self._dispatcher.pull(
                    device, limit=min(room, s.batch), wait=s.wait
                )
                if messages:
                    await self._hand_over(device, messages, outlet)
                    backoff.reset()  # only work handed over shows the channel is well again
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "%s channel, device %s failed; backing off", self._channel.kind, device.id
                )
                await backoff.wait()

    async def _hand_over(
        self, device: Device, messages: Sequence[Message], outlet: DeviceOutlet
    ) -> None:
        for message in messages:
            self.add_report(device, Report(message_id=message.id, state=State.TAKEN))
        try:
            await self._channel.take(device, messages, outlet)
        except BaseException:  # the channel does not hold them: back to the queue at once
            for message in messages:
                self.add_report(device, Report(message_id=message.id, state=State.QUEUED))
            raise

    # --- flushing -------------------------------------------------------------------------------

    async def _flushing(self) -> None:
        """Never cancelled: a batch taken out of the buffers is stored (or the stop deadline passes)."""
        while True:
            await self._waiting.wait()
            if not self._full.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._settings.flush_every)
            self._waiting.clear()
            self._full.clear()
            await self._flush()
            if self._deadline is not None and not (self._reports.count or self._inbound.count):
                return

    async def _flush(self) -> None:
        """Everything waiting, per device, in batches of at most flush_size."""
        at = (
            self._dispatcher.now()
        )  # one time per batch: the store applies a batch's status at once
        for device, reports in self._reports.take():
            for chunk in _chunks(reports, self._settings.flush_size):
                stamped = [r if r.at is not None else replace(r, at=at) for r in chunk]
                await self._stored(
                    functools.partial(self._dispatcher.report, device, stamped),
                    what=f"{len(chunk)} reports of device {device.id}",
                )
        for device, items in self._inbound.take():
            for inbound in _chunks(items, self._settings.flush_size):
                await self._stored(
                    functools.partial(self._dispatcher.receive, device, inbound),
                    what=f"{len(inbound)} inbound messages of device {device.id}",
                )

    async def _stored(self, call: Callable[[], Awaitable[object]], *, what: str) -> None:
        """Retried until stored: a locked or restarting database delays a batch, never loses it."""
        s = self._settings
        backoff = Backoff(s.backoff_first, s.backoff_max, self._pause)
        while True:
            try:
                await call()
                return
            except errors.Unavailable:  # the store cannot write now (it logs why): wait, retry
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    log.error("%s not stored before the gateway stopped: lost", what)
                    return
                await backoff.wait()
            except errors.GatewayError:  # refused for what it is: it never will be stored
                log.exception("%s refused by the gateway; dropped", what)
                return
            except Exception:
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    log.exception("%s not stored before the gateway stopped: lost", what)
                    return
                log.warning("%s not stored yet; retrying", what, exc_info=True)
                await backoff.wait()

    # --- stopping -------------------------------------------------------------------------------

    async def _stop(self) -> None:
        """Pulls stop, the channel closes, what it reported is stored: then the database may close."""
        loops = [*self._loops.values(), *self._retired]
        self._loops.clear()
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        try:
            await self._channel.close()
        except Exception:
            log.exception("%s channel did not close cleanly", self._channel.kind)
        self._deadline = time.monotonic() + self._settings.stop_within
        if self._flusher is not None:
            self._waiting.set()
            self._full.set()
            await asyncio.gather(self._flusher, return_exceptions=True)


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
