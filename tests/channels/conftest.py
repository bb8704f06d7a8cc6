"""The channel runner's world: a real gateway (SQLite and PostgreSQL), an account whose one device
is an upstream, a fake channel, and a dispatcher in front of the real one that counts and refuses."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy.exc import OperationalError

from smsgate import app as application
from smsgate.channels.runner import Runner, RunnerSettings
from smsgate.core.accounts import Account
from smsgate.core.devices import Device, Kind
from smsgate.core.messages import Inbound, Message, Received, Report, ReportResult, State
from smsgate.core.ports import Dispatcher, Outlet
from smsgate.core.requests import SendRequest
from smsgate.service.channels import ChannelDispatcher


def locked() -> OperationalError:
    """What SQLite says when another writer holds the database past busy_timeout."""
    return OperationalError(
        "UPDATE messages ...", {}, sqlite3.OperationalError("database is locked")
    )


class Counting:
    """The gateway's dispatcher, counting the batches it is given; refuses the first `refuse_*` calls."""

    def __init__(self, inner: Dispatcher) -> None:
        self.inner = inner
        self.report_sizes: list[int] = []
        self.inbound_sizes: list[int] = []
        self.refuse_reports = 0
        self.refuse_inbound = 0
        self.refused = 0

    def now(self) -> datetime:
        return self.inner.now()

    async def devices_of(self, kind: Kind) -> list[Device]:
        return await self.inner.devices_of(kind)

    async def pull(self, device: Device, *, limit: int, wait: float) -> list[Message]:
        return await self.inner.pull(device, limit=limit, wait=wait)

    async def report(self, device: Device, reports: Sequence[Report]) -> Sequence[ReportResult]:
        if self.refuse_reports > 0:
            self.refuse_reports -= 1
            self.refused += 1
            raise locked()
        self.report_sizes.append(len(reports))
        return await self.inner.report(device, reports)

    async def receive(self, device: Device, items: Sequence[Received]) -> Sequence[Inbound]:
        if self.refuse_inbound > 0:
            self.refuse_inbound -= 1
            self.refused += 1
            raise locked()
        self.inbound_sizes.append(len(items))
        return await self.inner.receive(device, items)


@dataclass
class FakeChannel:
    """An upstream in a few lines: delivers and answers at once, or holds its work until closed."""

    kind: Kind = Kind.UPSTREAM
    deliver: bool = True
    window: int = 1000
    fail_takes: int = 0  # the next takes raise (the upstream refuses)
    taken: list[int] = field(default_factory=list)
    held: list[tuple[Message, Outlet]] = field(default_factory=list)
    closed: bool = False

    def room(self, device: Device) -> int:
        return self.window - len(self.held)

    async def take(self, device: Device, messages: Sequence[Message], outlet: Outlet) -> None:
        if self.fail_takes > 0:
            self.fail_takes -= 1
            raise ConnectionError("the upstream refused the connection")
        for message in messages:
            self.taken.append(message.id)
            if self.deliver:
                outlet.report(Report(message_id=message.id, state=State.SENT))
                outlet.report(Report(message_id=message.id, state=State.DELIVERED))
                outlet.receive(Received(message.to, f"got {message.id}"))
            else:
                self.held.append((message, outlet))

    async def close(self) -> None:
        """What it holds was sent: it says so before the runner stops."""
        self.closed = True
        for message, outlet in self.held:
            outlet.report(Report(message_id=message.id, state=State.SENT))
        self.held.clear()


class Pauses:
    """The runner's back-off, recorded instead of waited."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@dataclass
class World:
    app: application.App
    account: Account
    device: Device
    dispatcher: Counting
    pauses: Pauses

    async def send(self, count: int) -> list[Message]:
        request = SendRequest(to=tuple(f"+7920{i:07d}" for i in range(count)), text="hello")
        return await self.app.gateway.messages.send(request, account=self.account)

    async def states(self, messages: Sequence[Message]) -> list[State]:
        return [
            (await self.app.gateway.messages.get(m.id, account=self.account)).state
            for m in messages
        ]

    def runner(self, channel: FakeChannel, **settings: float) -> Runner:
        quick = RunnerSettings(wait=0.05, rescan=0.05, backoff_first=0.1, backoff_max=0.5)
        from dataclasses import replace

        return Runner(self.dispatcher, channel, replace(quick, **settings), pause=self.pauses)


@pytest.fixture
async def world(gateway_app: application.App) -> AsyncIterator[World]:
    gateway = gateway_app.gateway
    account = await gateway.accounts.create("upstream@example.com", "password123")
    device, _ = await gateway.devices.register("Upstream", account=account, kind=Kind.UPSTREAM)
    yield World(
        app=gateway_app,
        account=account,
        device=device,
        dispatcher=Counting(ChannelDispatcher(gateway)),
        pauses=Pauses(),
    )


async def stop(task: asyncio.Task[None]) -> None:
    """Stops a runner as App.stop does: cancelled, then awaited to its end."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
