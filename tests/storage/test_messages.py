"""The message store's contract, on SQLite and on the real PostgreSQL (`backend` is parametrised)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smsgate import app as application
from smsgate.core import errors
from smsgate.core.devices import Device, Kind, Limits
from smsgate.core.messages import MessageFilter, NewMessage, Priority, Report, State
from smsgate.storage.messages import MessageStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def new(
    account_id: int, to: str = "+79201234567", *, at: datetime = T0, **changes: Any
) -> NewMessage:
    values: dict[str, Any] = dict(
        account_id=account_id,
        to=to,
        to_original=to,
        country="RU",
        text="hi",
        encoding="gsm7",
        segments=1,
        created_at=at,
        valid_until=at + timedelta(days=1),
    )
    values.update(changes)
    return NewMessage(**values)


async def account(app: application.App, email: str = "a@example.com") -> int:
    created = await app.directory.add_account(
        email=email, password_hash="x", is_admin=False, now=T0
    )
    return created.id


async def device(app: application.App, account_id: int, name: str = "phone") -> Device:
    return await app.directory.add_device(
        account_id=account_id,
        name=name,
        kind=Kind.ANDROID,
        token_hash=None,
        limits=Limits(),
        now=T0,
    )


@pytest.fixture
def store(gateway_app: application.App) -> MessageStore:
    return gateway_app.store


async def total(store: MessageStore, account_id: int) -> int:
    return sum((await store.count(account_id)).values())


# --- adding: group commit --------------------------------------------------------------------


async def test_concurrent_adds_get_distinct_ids_and_are_all_stored(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    results = await asyncio.gather(
        *(store.add([new(owner, text=f"m{i}"), new(owner, text=f"n{i}")]) for i in range(300))
    )
    ids = [m.id for batch in results for m in batch]
    assert len(ids) == len(set(ids)) == 600
    for i, batch in enumerate(results):  # each caller gets its own rows back, in order
        assert [m.text for m in batch] == [f"m{i}", f"n{i}"]
    page = await store.list_page(owner, MessageFilter(limit=1000))
    assert {m.id: m.text for m in page.items} == {m.id: m.text for batch in results for m in batch}


async def test_one_failing_caller_does_not_sink_the_others(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    good = [store.add([new(owner, text=f"good {i}")]) for i in range(50)]
    bad = store.add([new(owner, text="bad one's partner"), new(10**9, text="no such account")])
    results = await asyncio.gather(*good[:25], bad, *good[25:], return_exceptions=True)
    assert _foreign_key_error(results[25])
    stored = [r for r in results if not isinstance(r, BaseException)]
    assert len(stored) == 50
    texts = {m.text for m in (await store.list_page(owner, MessageFilter(limit=1000))).items}
    assert texts == {
        f"good {i}" for i in range(50)
    }  # the bad caller's partner row is not there either


async def test_add_many_is_all_or_nothing(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    with pytest.raises(Exception) as raised:
        await store.add_many([new(owner)] * 3 + [new(10**9)])
    assert _foreign_key_error(raised.value)
    assert await total(store, owner) == 0
    assert len(await store.add_many([new(owner)] * 2500)) == 2500  # more than one insert chunk
    assert await total(store, owner) == 2500


# --- listing ---------------------------------------------------------------------------------


async def test_listing_filters_each_narrow(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner, other = await account(gateway_app), await account(gateway_app, "b@example.com")
    d1, d2 = await device(gateway_app, owner), await device(gateway_app, owner, "second")
    a = (await store.add([new(owner, "+79201234567", at=T0, devices=(d1.id,), device_id=d1.id)]))[0]
    b = (
        await store.add(
            [
                new(
                    owner,
                    "+79201234568",
                    at=T0 + timedelta(hours=1),
                    devices=(d2.id,),
                    device_id=d2.id,
                )
            ]
        )
    )[0]
    c = (await store.add([new(owner, "+79201234567", at=T0 + timedelta(hours=2))]))[0]
    await store.add([new(other, "+79201234567", at=T0)])
    await store.cancel(owner, c.id, now=T0)

    async def ids(**f: Any) -> list[int]:
        return [m.id for m in (await store.list_page(owner, MessageFilter(**f))).items]

    assert await ids() == [c.id, b.id, a.id]
    assert await ids(ascending=True) == [a.id, b.id, c.id]
    assert await ids(states=frozenset({State.CANCELLED})) == [c.id]
    assert await ids(states=frozenset({State.QUEUED, State.CANCELLED})) == [c.id, b.id, a.id]
    assert await ids(device_ids=(d2.id,)) == [b.id]
    assert await ids(device_ids=(d1.id, d2.id)) == [b.id, a.id]
    assert await ids(phone="+79201234567") == [c.id, a.id]
    assert await ids(since=T0 + timedelta(minutes=30)) == [c.id, b.id]
    assert await ids(until=T0 + timedelta(hours=1)) == [b.id, a.id]
    assert await ids(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=1)) == [b.id]
    assert await ids(min_id=b.id) == [c.id, b.id]
    assert await ids(max_id=b.id) == [b.id, a.id]
    assert await ids(ids=(a.id, c.id)) == [c.id, a.id]
    assert await ids(before_id=c.id) == [b.id, a.id]
    assert await ids(before_id=a.id, ascending=True) == [b.id, c.id]
    assert await ids(phone="+79201234567", states=frozenset({State.QUEUED})) == [a.id]


async def test_cursor_pagination_walks_every_message_once(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner, other = await account(gateway_app), await account(gateway_app, "b@example.com")
    added = await store.add_many([new(owner, text=str(i)) for i in range(53)])
    await store.add_many([new(other) for _ in range(10)])
    seen: list[int] = []
    cursor: int | None = None
    while True:
        page = await store.list_page(owner, MessageFilter(limit=10, before_id=cursor))
        seen.extend(m.id for m in page.items)
        if page.next_before_id is None:
            break
        cursor = page.next_before_id
    assert seen == sorted((m.id for m in added), reverse=True)
    exact = await store.list_page(owner, MessageFilter(limit=53))
    assert len(exact.items) == 53 and exact.next_before_id is None


async def test_get_is_scoped_by_account(gateway_app: application.App, store: MessageStore) -> None:
    owner, other = await account(gateway_app), await account(gateway_app, "b@example.com")
    message = (await store.add([new(owner)]))[0]
    assert (await store.get(owner, message.id)).id == message.id
    with pytest.raises(errors.NotFound):
        await store.get(other, message.id)
    assert (await store.list_page(other, MessageFilter())).items == []


# --- leasing ---------------------------------------------------------------------------------


async def lease(
    app: application.App, phone: Device, *, now: datetime = T0, limit: int = 10
) -> list[int]:
    """Leases through Gateway.pull (the one caller of the store's lease), at a chosen time."""
    app.clock.set(now)
    return [m.id for m in await app.gateway.dispatch.pull(phone, limit=limit)]


async def test_concurrent_leases_hand_each_message_to_exactly_one_device(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    phones = [await device(gateway_app, owner, f"p{i}") for i in range(4)]
    added = {m.id for m in await store.add_many([new(owner, text=str(i)) for i in range(500)])}
    got: dict[int, list[int]] = {p.id: [] for p in phones}

    async def puller(phone: Device) -> None:
        while ids := await lease(gateway_app, phone, limit=7):
            got[phone.id].extend(ids)

    await asyncio.gather(*(puller(phones[i % 4]) for i in range(20)))
    everything = [i for ids in got.values() for i in ids]
    assert sorted(everything) == sorted(added)  # every message leased, none twice
    for phone, ids in got.items():
        for m in (await store.list_page(owner, MessageFilter(ids=tuple(ids), limit=1000))).items:
            assert (m.state, m.device_id, m.attempts) == (State.LEASED, phone, 1)


async def test_an_expired_lease_returns_to_the_queue_and_is_taken_once(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    first, second, third = [await device(gateway_app, owner, n) for n in "abc"]
    message = (await store.add([new(owner)]))[0]
    assert await lease(gateway_app, first) == [message.id]
    assert await store.release_expired_leases(now=T0 + LEASE - timedelta(seconds=1)) == []
    assert await lease(gateway_app, second) == []
    assert await store.release_expired_leases(now=T0 + LEASE) == [(owner, None)]
    back = await store.get(owner, message.id)
    assert (back.state, back.device_id, back.lease_until) == (State.QUEUED, None, None)
    later = T0 + LEASE + timedelta(seconds=1)
    results = await asyncio.gather(
        *(lease(gateway_app, d, now=later) for d in (second, third, second, third))
    )
    assert sorted(i for ids in results for i in ids) == [message.id]
    again = await store.get(owner, message.id)
    assert again.attempts == 2 and again.device_id in (second.id, third.id)
    # the first device's late word about it is refused: it is no longer that device's
    late = await store.report(
        account_id=owner,
        device_id=first.id,
        reports=[Report(message_id=message.id, state=State.SENT)],
        now=later,
    )
    assert not late[0].applied
    assert (await store.get(owner, message.id)).state is State.LEASED


async def test_an_expired_lease_of_named_devices_stays_among_them(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    first, second, stranger = [
        await device(gateway_app, owner, n) for n in ("first", "second", "not named")
    ]
    message = (await store.add([new(owner, devices=(first.id, second.id))]))[0]
    assert await lease(gateway_app, stranger) == []
    assert await lease(gateway_app, first) == [message.id]
    assert [account_id for account_id, _ in await store.release_expired_leases(now=T0 + LEASE)] == [
        owner
    ]
    later = T0 + LEASE + timedelta(minutes=5)
    assert await lease(gateway_app, stranger, now=later) == []
    assert await lease(gateway_app, second, now=later) == [message.id]


async def test_urgent_before_normal_then_first_in_first_out(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    phone = await device(gateway_app, owner)
    normal = [m.id for m in await store.add_many([new(owner, text=f"n{i}") for i in range(3)])]
    urgent = [
        m.id for m in await store.add_many([new(owner, priority=Priority.URGENT) for _ in range(2)])
    ]
    more = [m.id for m in await store.add_many([new(owner) for _ in range(2)])]
    assert await lease(gateway_app, phone, limit=3) == [*urgent, normal[0]]
    assert await lease(gateway_app, phone, limit=10) == [*normal[1:], *more]


async def test_leases_stay_inside_the_account(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner, other = await account(gateway_app), await account(gateway_app, "b@example.com")
    mine, theirs = await device(gateway_app, owner), await device(gateway_app, other)
    message = (await store.add([new(owner)]))[0]
    assert await lease(gateway_app, theirs) == []
    assert await lease(gateway_app, mine) == [message.id]


async def test_scheduled_messages_wait_for_their_time(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    phone = await device(gateway_app, owner)
    at = T0 + timedelta(minutes=10)
    message = (await store.add([new(owner, send_at=at, valid_until=at + timedelta(hours=1))]))[0]
    assert message.state is State.SCHEDULED
    assert await lease(gateway_app, phone, now=at) == []
    assert await store.promote_due(now=at - timedelta(seconds=1)) == []
    assert await store.promote_due(now=at) == [(owner, None)]
    assert (await store.get(owner, message.id)).queued_at == at
    assert await lease(gateway_app, phone, now=at) == [message.id]


async def test_scheduled_send_becomes_due_through_the_sweep(gateway_app: application.App) -> None:
    gateway = gateway_app.gateway
    owner = await gateway.accounts.create("s@example.com", "password123")
    phone, _ = await gateway.devices.register("phone", account=owner)
    from smsgate.core.requests import SendRequest

    at = gateway.now() + timedelta(seconds=0.3)
    [message] = await gateway.messages.send(
        SendRequest(to=("+79201234567",), text="later", send_at=at), account=owner
    )
    assert message.state is State.SCHEDULED
    assert await gateway.dispatch.pull(phone) == []
    deadline = asyncio.get_running_loop().time() + 10
    while (await gateway.messages.get(message.id, account=owner)).state is State.SCHEDULED:
        assert asyncio.get_running_loop().time() < deadline, "never became due"
        await gateway_app.worker.sweep()
        await asyncio.sleep(0.02)
    assert [m.id for m in await gateway.dispatch.pull(phone)] == [message.id]


async def test_messages_past_validity_expire_and_are_not_leased(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    phone = await device(gateway_app, owner)
    in_flight = (await store.add([new(owner, valid_until=T0 + timedelta(minutes=1))]))[0]
    assert await lease(gateway_app, phone) == [in_flight.id]
    late = (await store.add([new(owner, valid_until=T0 + timedelta(minutes=1))]))[0]
    scheduled = (
        await store.add(
            [new(owner, send_at=T0 + timedelta(minutes=1), valid_until=T0 + timedelta(minutes=2))]
        )
    )[0]
    fine = (await store.add([new(owner)]))[0]
    now = T0 + timedelta(minutes=5)
    assert await lease(gateway_app, phone, now=now) == [fine.id]  # the late one is not handed out
    assert sorted(await store.expire(now=now)) == [(owner, None), (owner, None)]
    after = {m.id: m for m in (await store.list_page(owner, MessageFilter())).items}
    assert after[late.id].state is State.EXPIRED and after[late.id].expired_at == now
    assert after[scheduled.id].state is State.EXPIRED
    assert after[in_flight.id].state is State.LEASED  # a device has it: its report decides
    assert after[fine.id].state is State.LEASED
    assert await store.expire(now=now) == []


# --- cancel and delete -----------------------------------------------------------------------


async def test_cancel_only_scheduled_or_queued(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner, other = await account(gateway_app), await account(gateway_app, "b@example.com")
    phone = await device(gateway_app, owner)
    leased = (await store.add([new(owner)]))[0]
    assert await lease(gateway_app, phone) == [leased.id]
    queued = (await store.add([new(owner)]))[0]
    scheduled = (await store.add([new(owner, send_at=T0 + timedelta(hours=1))]))[0]
    with pytest.raises(errors.NotFound):
        await store.cancel(other, queued.id, now=T0)
    assert (await store.get(owner, queued.id)).state is State.QUEUED
    for message in (queued, scheduled):
        cancelled = await store.cancel(owner, message.id, now=T0 + timedelta(seconds=5))
        assert (cancelled.state, cancelled.cancelled_at) == (
            State.CANCELLED,
            T0 + timedelta(seconds=5),
        )
    for message in (leased, queued):  # a device has it / it is cancelled already
        with pytest.raises(errors.Conflict, match="only scheduled or queued"):
            await store.cancel(owner, message.id, now=T0)
    assert (await store.get(owner, leased.id)).state is State.LEASED
    with pytest.raises(errors.NotFound):
        await store.cancel(owner, 10**6, now=T0)


async def test_cancel_matching_leaves_what_a_device_holds(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    phone = await device(gateway_app, owner)
    added = await store.add_many([new(owner) for _ in range(5)])
    taken = await lease(gateway_app, phone, limit=2)
    cancelled = await store.cancel_matching(owner, MessageFilter(), now=T0)
    assert sorted(m.id for m in cancelled) == sorted(m.id for m in added if m.id not in taken)
    assert {
        m.state for m in (await store.list_page(owner, MessageFilter(ids=tuple(taken)))).items
    } == {State.LEASED}


async def test_delete_refuses_messages_in_flight(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner, other = await account(gateway_app), await account(gateway_app, "b@example.com")
    phone = await device(gateway_app, owner)
    leased, taken = await store.add_many([new(owner), new(owner)])
    assert await lease(gateway_app, phone) == [leased.id, taken.id]
    await gateway_app.gateway.dispatch.report(
        phone, [Report(message_id=taken.id, state=State.TAKEN)]
    )
    queued = (await store.add([new(owner)]))[0]
    for message in (leased, taken):
        with pytest.raises(errors.Conflict, match="on a device"):
            await store.delete(owner, message.id)
    with pytest.raises(errors.NotFound):
        await store.delete(other, queued.id)
    assert (await store.delete(owner, queued.id)).id == queued.id
    with pytest.raises(errors.NotFound):
        await store.get(owner, queued.id)
    assert await store.delete_matching(owner, MessageFilter()) == []
    assert await total(store, owner) == 2


# --- reports ---------------------------------------------------------------------------------


async def test_reports_move_forward_and_repeats_are_harmless(
    gateway_app: application.App, store: MessageStore
) -> None:
    gateway = gateway_app.gateway
    owner = await account(gateway_app)
    phone = await device(gateway_app, owner)
    message = (await store.add([new(owner)]))[0]
    assert await lease(gateway_app, phone) == [message.id]

    async def say(state: State) -> tuple[bool, State | None]:
        [result] = await gateway.dispatch.report(
            phone, [Report(message_id=message.id, state=state)]
        )
        return result.applied, result.state

    assert await say(State.TAKEN) == (True, State.TAKEN)
    assert await say(State.TAKEN) == (False, State.TAKEN)
    assert await say(State.SENT) == (True, State.SENT)
    assert await say(State.TAKEN) == (False, State.SENT)  # late, out of order: ignored
    assert await say(State.DELIVERED) == (True, State.DELIVERED)
    assert await say(State.DELIVERED) == (False, State.DELIVERED)
    assert await say(State.SENT) == (False, State.DELIVERED)
    assert await say(State.FAILED) == (False, State.DELIVERED)  # a final state stays
    done = await store.get(owner, message.id)
    assert done.state is State.DELIVERED and done.taken_at and done.sent_at and done.delivered_at


async def test_a_skipped_step_is_filled_in(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    phone = await device(gateway_app, owner)
    message = (await store.add([new(owner)]))[0]
    await lease(gateway_app, phone)
    at = T0 + timedelta(seconds=9)
    [result] = await gateway_app.gateway.dispatch.report(
        phone, [Report(message_id=message.id, state=State.DELIVERED, at=at)]
    )
    assert result.applied
    done = await store.get(owner, message.id)
    assert (done.taken_at, done.sent_at, done.delivered_at) == (at, at, at)


async def test_a_final_failure_keeps_its_reason(
    gateway_app: application.App, store: MessageStore
) -> None:
    from smsgate.core.messages import Reason

    owner = await account(gateway_app)
    phone = await device(gateway_app, owner)
    message = (await store.add([new(owner)]))[0]
    await lease(gateway_app, phone)
    report = Report(message_id=message.id, state=State.FAILED, reason=Reason.NOT_ALLOWED)
    [result] = await gateway_app.gateway.dispatch.report(phone, [report])
    assert result.applied
    failed = await store.get(owner, message.id)
    assert (failed.state, failed.reason) == (State.FAILED, Reason.NOT_ALLOWED)


async def test_another_devices_report_is_refused(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner, other = await account(gateway_app), await account(gateway_app, "b@example.com")
    mine, second, stranger = (
        await device(gateway_app, owner),
        await device(gateway_app, owner, "2"),
        await device(gateway_app, other),
    )
    message = (await store.add([new(owner)]))[0]
    await lease(gateway_app, mine)
    for intruder in (second, stranger):
        [result] = await gateway_app.gateway.dispatch.report(
            intruder, [Report(message_id=message.id, state=State.DELIVERED)]
        )
        assert (result.applied, result.state) == (False, None)
    [result] = await gateway_app.gateway.dispatch.report(
        mine, [Report(message_id=10**6, state=State.SENT)]
    )
    assert (result.applied, result.state) == (False, None)
    assert (await store.get(owner, message.id)).state is State.LEASED


async def test_a_returned_message_can_go_to_any_device(
    gateway_app: application.App, store: MessageStore
) -> None:
    owner = await account(gateway_app)
    first, second = await device(gateway_app, owner, "1"), await device(gateway_app, owner, "2")
    message = (await store.add([new(owner)]))[0]
    assert await lease(gateway_app, first) == [message.id]
    [result] = await gateway_app.gateway.dispatch.report(
        first, [Report(message_id=message.id, state=State.QUEUED)]
    )
    assert (result.applied, result.state) == (True, State.QUEUED)
    back = await store.get(owner, message.id)
    assert (back.state, back.leased_at, back.lease_until) == (State.QUEUED, None, None)
    assert await lease(gateway_app, second, now=T0 + timedelta(minutes=5)) == [message.id]


def _foreign_key_error(error: object) -> bool:
    """The driver's own error (the send path inserts through it: sqlite3 or asyncpg)."""
    return isinstance(error, Exception) and "foreign key" in str(error).lower()
