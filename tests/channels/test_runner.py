"""The channel runner with a fake channel, on a real store: batching, back-off, a clean stop, and
nothing lost while the store refuses reports. No test here waits on the clock for its verdict."""

from __future__ import annotations

import asyncio

import pytest

from smsgate.channels.runner import DeviceOutlet, Runner
from smsgate.core import errors
from smsgate.core.messages import MessageFilter, Received, State
from tests.api.helpers import eventually
from tests.channels.conftest import FakeChannel, World, stop


async def delivered(world: World, messages: list) -> list[State]:  # type: ignore[type-arg]
    return await eventually(
        lambda: world.states(messages), lambda s: all(x is State.DELIVERED for x in s)
    )


async def test_reports_are_batched_up_to_the_flush_size(world: World) -> None:
    messages = await world.send(25)
    runner = world.runner(FakeChannel(), flush_size=10, flush_every=3600)
    task = asyncio.create_task(runner.run())
    try:
        assert await delivered(world, messages) == [State.DELIVERED] * 25
    finally:
        await stop(task)
    # 25 taken + 25 sent + 25 delivered, ten to a gateway call; the 25 replies likewise
    assert world.dispatcher.report_sizes == [10] * 7 + [5]
    assert world.dispatcher.inbound_sizes == [10, 10, 5]


async def test_a_few_reports_go_together_after_the_interval(world: World) -> None:
    messages = await world.send(3)
    runner = world.runner(FakeChannel(), flush_size=1000, flush_every=0.02)
    task = asyncio.create_task(runner.run())
    try:
        await delivered(world, messages)
    finally:
        await stop(task)
    assert world.dispatcher.report_sizes == [9]  # taken, sent, delivered of all three: one call
    assert world.dispatcher.inbound_sizes == [3]


async def test_a_failing_channel_backs_off_exponentially_up_to_the_cap(world: World) -> None:
    messages = await world.send(2)
    channel = FakeChannel(fail_takes=5)
    task = asyncio.create_task(world.runner(channel).run())
    try:
        await delivered(world, messages)
    finally:
        await stop(task)
    assert world.pauses.delays == [0.1, 0.2, 0.4, 0.5, 0.5]  # then it took them: no more pauses
    assert sorted(channel.taken) == [m.id for m in messages]  # each given back, then taken once


async def test_nothing_is_lost_while_the_store_refuses_reports(world: World) -> None:
    messages = await world.send(5)
    world.dispatcher.refuse_reports = 4  # "database is locked", four times over
    world.dispatcher.refuse_inbound = 3
    task = asyncio.create_task(world.runner(FakeChannel()).run())
    try:
        await delivered(world, messages)
        inbox = await eventually(
            lambda: world.app.gateway.inbound.list(MessageFilter(), account=world.account),
            lambda page: len(page.items) == 5,
        )
    finally:
        await stop(task)
    assert world.dispatcher.refused == 7
    assert sorted(i.text for i in inbox.items) == sorted(f"got {m.id}" for m in messages)
    assert world.pauses.delays == [0.1, 0.2, 0.4, 0.5, 0.1, 0.2, 0.4]


async def test_stop_waits_for_the_channel_and_stores_what_it_reported(world: World) -> None:
    messages = await world.send(4)
    channel = FakeChannel(deliver=False)  # holds its work until closed
    task = asyncio.create_task(world.runner(channel).run())
    await eventually(lambda: world.states(messages), lambda s: all(x is State.TAKEN for x in s))
    world.dispatcher.refuse_reports = 2  # the store is busy just as the gateway stops
    await stop(task)
    assert channel.closed
    assert await world.states(messages) == [State.SENT] * 4  # stored before stop returned


async def test_a_device_registered_while_running_is_served(world: World) -> None:
    channel = FakeChannel()
    task = asyncio.create_task(world.runner(channel).run())
    try:
        gateway = world.app.gateway
        other = await gateway.accounts.create("second@example.com", "password123")
        from smsgate.core.devices import Kind

        await gateway.devices.register("Second upstream", account=other, kind=Kind.UPSTREAM)
        world.account = other
        await delivered(world, await world.send(2))
    finally:
        await stop(task)


async def test_an_inbound_message_needs_a_sender(world: World) -> None:
    runner = world.runner(FakeChannel())
    with pytest.raises(errors.InvalidInput):
        DeviceOutlet(runner, world.device).receive(Received(" ", "hello"))
    assert isinstance(runner, Runner)
