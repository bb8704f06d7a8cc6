"""Each dispatch rule, on SQLite and on the real PostgreSQL: pace, quotas, windows, priority,
spread over named devices, SIM rotation and requested slot, retries elsewhere, lost devices."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from smsgate import app as application
from smsgate.core.accounts import Account
from smsgate.core.devices import DeviceChanges, Heartbeat, Kind, Limits, Period, Sim
from smsgate.core.messages import Priority, Reason, Report, State
from smsgate.core.requests import SendRequest
from smsgate.core.routing import Waiting

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 12:00 in Moscow
LEASE = timedelta(seconds=30)


@pytest.fixture
async def app(gateway_app: application.App) -> application.App:
    gateway_app.clock.set(T0)  # the test clock built into the app (tests/conftest.py)
    return gateway_app


@pytest.fixture
async def gw(app: application.App):
    return app.gateway


async def owner(gw, email: str = "owner@example.com") -> Account:
    return await gw.accounts.create(email, "password123")


async def phone(
    gw, account: Account, name: str = "phone", limits: Limits = Limits(), sims: tuple[Sim, ...] = ()
) -> int:
    device, _ = await gw.devices.register(name, account=account, kind=Kind.ANDROID, limits=limits)
    if sims:
        await gw.devices.heartbeat(device, Heartbeat(sims=sims))
    return device.id


async def send(gw, account: Account, *to: str, **options) -> list[int]:
    sent = await gw.messages.send(
        SendRequest(to=to or ("+79201234567",), text="hi", **options), account=account
    )
    return [m.id for m in sent]


async def lease(app: application.App, device_id: int, *, at: datetime = T0, limit: int = 10):
    return await app.store.lease(device_id=device_id, limit=limit, now=at, until=at + LEASE)


def numbers(n: int) -> list[str]:
    return [f"+7920123{4000 + i:04d}" for i in range(n)]


async def test_pace_lets_one_message_out_per_interval(app, gw) -> None:
    account = await owner(gw)
    device = await phone(gw, account, limits=Limits(pace=timedelta(seconds=10)))
    await send(gw, account, *numbers(3))
    assert len(await lease(app, device)) == 1
    assert await lease(app, device, at=T0 + timedelta(seconds=5)) == []
    assert len(await lease(app, device, at=T0 + timedelta(seconds=10))) == 1


async def test_urgent_messages_bypass_the_pace(app, gw) -> None:
    account = await owner(gw)
    device = await phone(gw, account, limits=Limits(pace=timedelta(seconds=60)))
    await send(gw, account, *numbers(2))
    assert len(await lease(app, device)) == 1
    [code] = await send(gw, account, "+79209998877", priority=Priority.URGENT)
    assert [m.id for m in await lease(app, device, at=T0 + timedelta(seconds=1))] == [code]
    assert await lease(app, device, at=T0 + timedelta(seconds=2)) == []  # normal work still waits


async def test_quota_of_messages_per_period(app, gw) -> None:
    account = await owner(gw)
    device = await phone(gw, account, limits=Limits(quota=3, period=Period.DAY))
    await send(gw, account, *numbers(5), valid_for=timedelta(days=3))
    assert len(await lease(app, device)) == 3
    assert await lease(app, device, at=T0 + timedelta(hours=1)) == []
    assert len(await lease(app, device, at=T0 + timedelta(days=1))) == 2  # a new day, a new quota


async def test_urgent_messages_never_bypass_the_quota(app, gw) -> None:
    account = await owner(gw)
    device = await phone(gw, account, limits=Limits(quota=1))
    await send(gw, account, *numbers(1))
    assert len(await lease(app, device)) == 1
    await send(gw, account, "+79209998877", priority=Priority.URGENT)
    assert await lease(app, device) == []


async def test_quota_of_distinct_recipients(app, gw) -> None:
    account = await owner(gw)
    device = await phone(gw, account, limits=Limits(quota_recipients=2))
    a, b, c = numbers(3)
    ids = [
        *(await send(gw, account, a)),
        *(await send(gw, account, b)),
        *(await send(gw, account, c)),
        *(await send(gw, account, a)),
    ]
    leased = [m.id for m in await lease(app, device)]
    assert leased == [
        ids[0],
        ids[1],
        ids[3],
    ]  # the third recipient waits; a repeat to a known one goes
    assert await lease(app, device) == []


async def test_send_window_in_the_devices_timezone(app, gw) -> None:
    account = await owner(gw)
    window = Limits(window_start=time(9, 0), window_end=time(17, 0), timezone="Europe/Moscow")
    device = await phone(gw, account, limits=window)
    await send(gw, account, *numbers(1))
    evening = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)  # 20:30 in Moscow
    assert await lease(app, device, at=evening) == []
    await gw.devices.heartbeat(
        await gw.devices.get(device, account=account), Heartbeat()
    )  # seen at T0
    app.clock.set(evening - timedelta(minutes=1))
    [message_id] = [m.id for m in (await gw.messages.list(_all(), account=account)).items]
    assert (await gw.messages.why(message_id, account=account))[
        0
    ] is Waiting.DEVICE_OFFLINE  # silent since 09:00 UTC
    await gw.devices.heartbeat(await gw.devices.get(device, account=account), Heartbeat())
    assert (await gw.messages.why(message_id, account=account))[0] is Waiting.OUTSIDE_WINDOW
    assert len(await lease(app, device, at=T0)) == 1  # 12:00 in Moscow


def _all():
    from smsgate.core.messages import MessageFilter

    return MessageFilter()


async def test_urgent_first_then_first_in_first_out(app, gw) -> None:
    account = await owner(gw)
    device = await phone(gw, account)
    first, second = await send(gw, account, *numbers(2))
    [urgent] = await send(gw, account, "+79209998877", priority=Priority.URGENT)
    assert [m.id for m in await lease(app, device)] == [urgent, first, second]


async def test_named_devices_share_the_work_and_others_get_none(app, gw) -> None:
    account = await owner(gw)
    one, two, other = (
        await phone(gw, account, "one"),
        await phone(gw, account, "two"),
        await phone(gw, account, "other"),
    )
    ids = await send(gw, account, *numbers(10), devices=(one, two))
    assert await lease(app, other) == []
    got_one = [m.id for m in await lease(app, one, limit=5)]
    got_two = [m.id for m in await lease(app, two, limit=10)]
    assert len(got_one) == 5 and len(got_two) == 5
    assert sorted(got_one + got_two) == sorted(ids)


async def test_sims_rotate_unless_a_slot_is_requested(app, gw) -> None:
    account = await owner(gw)
    device = await phone(
        gw, account, sims=(Sim(slot=1, number="+79000000001"), Sim(slot=2, number="+79000000002"))
    )
    await send(gw, account, *numbers(4))
    used = [m.sim_used for m in await lease(app, device)]
    assert sorted(used) == [1, 1, 2, 2]
    await send(gw, account, *numbers(3), sim_slot=2)
    assert [m.sim_used for m in await lease(app, device)] == [2, 2, 2]


async def test_a_sim_at_its_own_quota_leaves_the_work_to_the_other(app, gw) -> None:
    account = await owner(gw)
    device = await phone(gw, account, sims=(Sim(slot=1), Sim(slot=2)))
    owner_account = account
    await gw.devices.change(
        device, DeviceChanges(sim_limits={1: Limits(quota=1)}), account=owner_account
    )
    await send(gw, account, *numbers(4))
    assert sorted(m.sim_used for m in await lease(app, device)) == [1, 2, 2, 2]
    await send(gw, account, *numbers(1), sim_slot=1)
    assert await lease(app, device) == []  # slot 1 is spent for today


async def test_a_transient_failure_is_retried_on_another_device(app, gw) -> None:
    account = await owner(gw)
    one, two = await phone(gw, account, "one"), await phone(gw, account, "two")
    [message_id] = await send(gw, account)
    device_one = await gw.devices.get(one, account=account)
    assert [m.id for m in await lease(app, one)] == [message_id]
    [result] = await gw.dispatch.report(
        device_one, [Report(message_id=message_id, state=State.FAILED, reason=Reason.NO_SERVICE)]
    )
    assert result.applied and result.state is State.QUEUED
    message = await gw.messages.get(message_id, account=account)
    assert message.state is State.QUEUED and message.reason is Reason.NO_SERVICE
    assert await lease(app, two) == []  # back-off first
    later = message.next_attempt_at
    assert await lease(app, one, at=later) == []  # the failing device lets the others go first
    assert [m.id for m in await lease(app, two, at=later)] == [message_id]


async def test_a_permanent_failure_is_final(app, gw) -> None:
    account = await owner(gw)
    device = await phone(gw, account)
    [message_id] = await send(gw, account)
    await lease(app, device)
    await gw.dispatch.report(
        await gw.devices.get(device, account=account),
        [Report(message_id=message_id, state=State.FAILED, reason=Reason.INVALID_NUMBER)],
    )
    message = await gw.messages.get(message_id, account=account)
    assert message.state is State.FAILED and message.reason is Reason.INVALID_NUMBER


async def test_transient_failures_end_after_the_last_attempt(app, gw) -> None:
    account = await owner(gw)
    device = await phone(gw, account)
    [message_id] = await send(gw, account)
    handle = await gw.devices.get(device, account=account)
    at = T0
    for _ in range(app.settings.policy.max_attempts):
        assert [m.id for m in await lease(app, device, at=at)] == [message_id]
        await gw.dispatch.report(
            handle, [Report(message_id=message_id, state=State.FAILED, reason=Reason.GENERIC)]
        )
        at += timedelta(hours=1)
    message = await gw.messages.get(message_id, account=account)
    assert message.state is State.FAILED and message.attempts == app.settings.policy.max_attempts


async def test_a_vanished_device_gives_back_unconfirmed_work_and_fails_confirmed_work(
    app, gw
) -> None:
    account = await owner(gw)
    gone, spare = await phone(gw, account, "gone"), await phone(gw, account, "spare")
    unconfirmed, confirmed = await send(gw, account, *numbers(2))
    assert len(await lease(app, gone)) == 2
    await gw.dispatch.report(
        await gw.devices.get(gone, account=account),
        [Report(message_id=confirmed, state=State.TAKEN, at=T0)],
    )
    assert await app.store.release_expired_leases(now=T0 + LEASE)
    assert [m.id for m in await lease(app, spare, at=T0 + LEASE)] == [unconfirmed]
    assert await app.store.fail_lost(
        now=T0 + timedelta(hours=1), older_than=T0 + timedelta(minutes=1)
    )
    lost = await gw.messages.get(confirmed, account=account)
    assert lost.state is State.FAILED and lost.reason is Reason.DEVICE_LOST


async def test_device_queue_shows_counts_usage_and_readiness(app, gw) -> None:
    account = await owner(gw)
    device = await phone(gw, account, limits=Limits(quota=2))
    await gw.devices.heartbeat(await gw.devices.get(device, account=account), Heartbeat(battery=50))
    await send(gw, account, *numbers(3))
    await lease(app, device)
    state = await gw.devices.state(device, account=account)
    assert (state.queue.queued, state.queue.leased, state.queue.usage[0].messages) == (1, 2, 2)
    assert state.waiting is Waiting.AT_QUOTA
    [waiting_id] = [
        m.id
        for m in (await gw.messages.list(_all(), account=account)).items
        if m.state is State.QUEUED
    ]
    assert (await gw.messages.why(waiting_id, account=account))[0] is Waiting.AT_QUOTA


async def test_waiting_devices_are_woken_least_recently_served_first(app, gw, backend: str) -> None:
    import asyncio

    if backend == "postgres":
        pytest.skip(
            "on PostgreSQL woken leases run side by side in the database: the wake order is a bias there"
        )
    account = await owner(gw)
    busy, idle = await phone(gw, account, "busy"), await phone(gw, account, "idle")
    busy_device, idle_device = (
        await gw.devices.get(busy, account=account),
        await gw.devices.get(idle, account=account),
    )
    await send(gw, account)
    assert len(await gw.dispatch.pull(busy_device, limit=1)) == 1  # busy was served just now
    waits = [
        asyncio.create_task(gw.dispatch.pull(d, limit=1, wait=5))
        for d in (busy_device, idle_device)
    ]
    while not (app.hub.is_waiting(busy) and app.hub.is_waiting(idle)):
        await asyncio.sleep(0.01)
    [message_id] = await send(gw, account)
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    assert [m.id for m in waits[1].result()] == [message_id]  # the idle one took it
    [extra] = await send(gw, account)  # the busy one is still waiting: it takes the next one
    assert [m.id for m in await waits[0]] == [extra]


async def test_a_message_group_is_leased_whole_to_one_device(app, gw) -> None:
    account = await owner(gw)
    a, b = await phone(gw, account, "a"), await phone(gw, account, "b")
    [first] = await send(gw, account, "+79209998877")
    group = await send(gw, account, *numbers(3), together=True)
    [last] = await send(gw, account, "+79209998878")
    got = await lease(app, a, limit=2)  # the group does not fit beside the first: it waits
    assert [m.id for m in got] == [first, last]
    got = await lease(app, b, limit=1)  # alone, a group passes the pull's limit: whole, or none
    assert [m.id for m in got] == group and {m.group_id for m in got} == {group[0]}
    assert {m.device_id for m in got} == {b}
    assert await lease(app, a) == []


async def test_a_group_goes_out_whole_through_a_paced_device_on_one_sim(app, gw) -> None:
    account = await owner(gw)
    device = await phone(
        gw,
        account,
        limits=Limits(pace=timedelta(seconds=60)),
        sims=(Sim(slot=1), Sim(slot=2)),
    )
    group = await send(gw, account, *numbers(3), together=True)
    got = await lease(app, device)
    assert [m.id for m in got] == group and len({m.sim_used for m in got}) == 1


async def test_a_group_never_passes_the_quota(app, gw) -> None:
    account = await owner(gw)
    device = await phone(gw, account, limits=Limits(quota=2, period=Period.DAY))
    await send(gw, account, *numbers(3), together=True)
    assert await lease(app, device) == []
    [lone] = await send(gw, account, "+79209998877")
    assert [m.id for m in await lease(app, device)] == [lone]
