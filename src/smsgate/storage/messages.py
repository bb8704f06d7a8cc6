"""Outbound messages: add (group commit), list, cancel, delete, lease, report, sweeps."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgate.core import clock, errors, events, routing
from smsgate.core.devices import Device, Kind
from smsgate.core.messages import (
    CANCELLABLE,
    IN_FLIGHT,
    RANK,
    SOURCES,
    STAMP,
    TRANSIENT_REASONS,
    Message,
    MessageFilter,
    NewMessage,
    Page,
    Reason,
    Report,
    ReportResult,
    State,
)
from smsgate.core.routing import DeviceQueue as DeviceQueue  # re-exported: callers import it here
from smsgate.storage import billing, bulk, filters, limits, notify, rows
from smsgate.storage.database import Database
from smsgate.storage.leases import Leaser, LeaseRules
from smsgate.storage.sql import messages as t

MAX_GROUP = 2000  # rows per group commit


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryRules:
    max_attempts: int = 3  # tries in all, on any devices, before a transient failure is final
    backoff: timedelta = timedelta(seconds=10)  # doubled after each failed try


def _where(account_id: int, f: MessageFilter) -> list[ColumnElement[bool]]:
    clauses = filters.common(t, t.c.created_at, account_id, f)
    if f.states is not None:
        clauses.append(t.c.state.in_([s.value for s in f.states]))
    if f.phone is not None:
        clauses.append(t.c.to == f.phone)
    if f.phones is not None:
        clauses.append(or_(t.c.to.in_(f.phones), t.c.to_original.in_(f.phones)))
    if f.references is not None:
        clauses.append(t.c.reference.in_(f.references))
    if f.for_devices is not None:
        clauses.append(_for_devices(f.for_devices))
    if f.campaign_id is not None:
        clauses.append(t.c.campaign_id == f.campaign_id)
    if f.reasons is not None:
        named = [r.value for r in f.reasons if r is not None]
        reason = (
            or_(t.c.reason.in_(named), t.c.reason.is_(None))
            if None in f.reasons
            else t.c.reason.in_(named)
        )
        clauses.append(or_(t.c.state != State.FAILED.value, reason))
    if f.reference is not None:
        clauses.append(t.c.reference == f.reference)
    if f.sim_slot is not None:
        clauses.append(func.coalesce(t.c.sim_used, t.c.sim_slot) == f.sim_slot)
    return clauses


def _for_devices(device_ids: tuple[int, ...]) -> ColumnElement[bool]:
    """Messages a device sent or holds, and those waiting for it: named by the client, not leased yet."""
    named = [("," + t.c.devices + ",").like(f"%,{int(d)},%") for d in device_ids]
    waiting = and_(t.c.device_id.is_(None), or_(*named)) if named else false()
    return or_(t.c.device_id.in_(device_ids), waiting)


def listing(account_id: int, f: MessageFilter) -> Select[Any]:
    """The SELECT of a listing, newest (or oldest) first by id.

    With a time range and nothing that bounds the ids, walking the id index from the top would
    read every newer row of the account before the range (PostgreSQL chose that and read 633,000
    rows for one day out of a million): there the range is read from the (account, created_at)
    index instead, only the ids are sorted (`id + 0` keeps the planner off the id index), and the
    page's rows are fetched by id.
    """
    where = _where(account_id, f)
    by_id = t.c.id.asc() if f.ascending else t.c.id.desc()
    timed = (
        (f.since is not None or f.until is not None)
        and f.min_id is None
        and f.max_id is None
        and f.ids is None
    )
    if not timed:
        return select(t).where(*where).order_by(by_id).limit(f.limit + 1)
    key = t.c.id + 0
    page = (
        select(t.c.id)
        .where(*where)
        .order_by(key.asc() if f.ascending else key.desc())
        .limit(f.limit + 1)
    )
    return select(t).where(t.c.id.in_(page.scalar_subquery())).order_by(by_id)


class MessageStore:
    def __init__(
        self, db: Database, *, rules: LeaseRules = LeaseRules(), retry: RetryRules = RetryRules()
    ) -> None:
        self._db = db
        self._leaser = Leaser(is_sqlite=db.is_sqlite, rules=rules)
        self._retry = retry
        self._pending: deque[tuple[Sequence[NewMessage], asyncio.Future[list[Message]]]] = deque()
        self._flusher: asyncio.Task[None] | None = None

    # --- adding -------------------------------------------------------------------------------

    async def add_many(self, news: Sequence[NewMessage]) -> list[Message]:
        """All or nothing, committed before it returns."""
        if not news:
            return []
        async with self._db.write() as connection:
            return await self._insert(connection, news)

    async def _insert(
        self, connection: AsyncConnection, news: Sequence[NewMessage]
    ) -> list[Message]:
        await limits.mark(connection, news)  # a repeated send: TooManyRequests, nothing written
        await billing.debit(connection, news, news[0].created_at)  # NotEnoughMoney: nothing written
        ids = await bulk.insert(connection, news, is_sqlite=self._db.is_sqlite)
        groups = bulk.group_ids(ids, news)
        stored = [rows.stored(n, i, g) for n, i, g in zip(news, ids, groups, strict=True)]
        await self._db.outbox.record(
            connection,
            (
                events.of_message(m.account_id, m.id, State.QUEUED, m.created_at)
                for m in stored
                if m.queued_at is not None
            ),
        )
        if not self._db.is_sqlite:
            await notify.announce(
                connection, (m.account_id for m in stored if m.queued_at is not None)
            )
        return stored

    async def add(self, news: Sequence[NewMessage]) -> list[Message]:
        """Like add_many, but concurrent callers share one transaction (group commit).

        Each caller's rows are still all-or-nothing: a failing group is retried caller by caller.
        """
        future: asyncio.Future[list[Message]] = asyncio.get_running_loop().create_future()
        self._pending.append((news, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await asyncio.shield(future)

    async def drain(self) -> None:
        """Waits for the group commit in progress (before the database is closed)."""
        if self._flusher is not None and not self._flusher.done():
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def _flush(self) -> None:
        while self._pending:
            group, size = [], 0
            while self._pending and size < MAX_GROUP:
                item = self._pending.popleft()
                group.append(item)
                size += len(item[0])
            try:
                async with self._db.write() as connection:
                    stored = await self._insert(connection, [n for news, _ in group for n in news])
            except Exception:
                for news, future in group:  # isolate the failing caller
                    await self._add_alone(news, future)
                continue
            offset = 0
            for news, future in group:
                if not future.done():
                    future.set_result(stored[offset : offset + len(news)])
                offset += len(news)

    async def _add_alone(
        self, news: Sequence[NewMessage], future: asyncio.Future[list[Message]]
    ) -> None:
        try:
            result = await self.add_many(news)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)

    # --- reading ------------------------------------------------------------------------------

    async def find(self, account_id: int, message_id: int) -> Message | None:
        statement = select(t).where(t.c.account_id == account_id, t.c.id == message_id)
        async with self._db.read() as connection:
            row = (await connection.execute(statement)).mappings().first()
        return rows.message(row) if row else None

    async def get(self, account_id: int, message_id: int) -> Message:
        message = await self.find(account_id, message_id)
        if message is None:
            raise errors.NotFound(f"message {message_id} not found")
        return message

    async def list_page(self, account_id: int, f: MessageFilter) -> Page[Message]:
        statement = listing(account_id, f)
        async with self._db.read() as connection:
            found = [rows.message(r) for r in (await connection.execute(statement)).mappings()]
        more = len(found) > f.limit
        items = found[: f.limit]
        return Page(items, items[-1].id if more and items else None)

    async def count_matching(self, account_id: int, f: MessageFilter) -> int:
        """How many messages a listing would find, without its limit or cursor."""
        statement = select(func.count()).select_from(t).where(*_where(account_id, f))
        async with self._db.read() as connection:
            return int((await connection.execute(statement)).scalar_one())

    async def count(self, account_id: int | None = None) -> dict[State, int]:
        statement = select(t.c.state, func.count()).group_by(t.c.state)
        if account_id is not None:
            statement = statement.where(t.c.account_id == account_id)
        async with self._db.read() as connection:
            return {State(s): n for s, n in (await connection.execute(statement)).all()}

    async def max_id(self) -> int:
        async with self._db.read() as connection:
            return (await connection.execute(select(func.max(t.c.id)))).scalar() or 0

    # --- changing -----------------------------------------------------------------------------

    async def cancel(self, account_id: int, message_id: int, *, now: datetime) -> Message:
        done = await self.cancel_matching(account_id, MessageFilter(ids=(message_id,)), now=now)
        if done:
            return done[0]
        current = await self.get(account_id, message_id)
        raise errors.Conflict(
            f"message {message_id} is {current.state}: only scheduled or queued messages can be cancelled"
        )

    async def cancel_matching(
        self, account_id: int, f: MessageFilter, *, now: datetime
    ) -> list[Message]:
        states = CANCELLABLE if f.states is None else CANCELLABLE & f.states
        where = _where(account_id, MessageFilter(**{**_fields(f), "states": frozenset(states)}))
        statement = (
            update(t)
            .where(*where)
            .values(state=State.CANCELLED.value, cancelled_at=now, lease_until=None)
            .returning(*t.c)
        )
        async with self._db.write() as connection:
            done = sorted(
                (rows.message(r) for r in (await connection.execute(statement)).mappings()), key=_id
            )
            await self._db.outbox.record(
                connection,
                (events.of_message(m.account_id, m.id, State.CANCELLED, now) for m in done),
            )
        return done

    async def delete(self, account_id: int, message_id: int) -> Message:
        done = await self.delete_matching(account_id, MessageFilter(ids=(message_id,)))
        if done:
            return done[0]
        current = await self.get(account_id, message_id)
        raise errors.Conflict(
            f"message {message_id} is {current.state} on a device: cancel is not possible, wait for its report"
        )

    async def delete_matching(self, account_id: int, f: MessageFilter) -> list[Message]:
        """Deletes what matches, except messages a device holds right now (their reports would be lost)."""
        where = [*_where(account_id, f), t.c.state.not_in([s.value for s in IN_FLIGHT])]
        statement = delete(t).where(*where).returning(*t.c)
        async with self._db.write() as connection:
            deleted = sorted(
                (rows.message(r) for r in (await connection.execute(statement)).mappings()), key=_id
            )
            await billing.refund_deleted(connection, deleted, clock.utcnow())
        return deleted

    # --- dispatch -----------------------------------------------------------------------------

    async def lease(
        self,
        *,
        device_id: int,
        limit: int,
        now: datetime,
        until: datetime,
        account_id: int | None = None,
    ) -> list[Message]:
        """Hands up to `limit` due messages to one device within its limits; each to exactly one device.

        With `account_id`, a device of another account gets nothing.
        """
        async with self._db.write() as connection:
            return await self._leaser.lease(
                connection,
                device_id=device_id,
                account_id=account_id,
                limit=limit,
                now=now,
                until=until,
            )

    async def report(
        self, *, account_id: int, device_id: int, reports: Sequence[Report], now: datetime
    ) -> list[ReportResult]:
        results: dict[int, ReportResult] = {}  # by the report's place in the batch
        times = {r.message_id: r.at or now for r in reports}
        async with self._db.write() as connection:
            for group in _groups(
                reports
            ):  # a phone's batch is mostly one status: one UPDATE for it
                done = {}
                if len(group) > 1:
                    done = await self._apply_many(
                        connection, account_id, device_id, [r for _, r in group], now
                    )
                for index, report in group:
                    results[index] = done.get(report.message_id) or await self._apply(
                        connection, account_id, device_id, report, now
                    )
            results_in_order = [results[i] for i in range(len(reports))]
            await self._db.outbox.record(
                connection,
                (
                    events.of_message(account_id, r.message_id, r.state, times[r.message_id])
                    for r in results_in_order
                    if r.applied and r.state is not None and r.state is not State.QUEUED
                ),
            )
            if not self._db.is_sqlite and any(
                r.applied and r.state is State.QUEUED for r in results_in_order
            ):
                await notify.announce(connection, [account_id])
        return results_in_order

    async def _apply_many(
        self,
        connection: AsyncConnection,
        account_id: int,
        device_id: int,
        group: list[Report],
        now: datetime,
    ) -> dict[int, ReportResult]:
        """Reports of one status, time and reason at once; the ones it could not apply are left to _apply."""
        first = group[0]
        statement = (
            update(t)
            .where(
                t.c.id.in_([r.message_id for r in group]),
                t.c.account_id == account_id,
                t.c.device_id == device_id,
                t.c.state.in_([s.value for s in SOURCES[first.state]]),
            )
            .values(_report_values(first, first.at or now))
            .returning(t.c.id)
        )
        applied = set((await connection.execute(statement)).scalars())
        return {i: ReportResult(message_id=i, applied=True, state=first.state) for i in applied}

    async def _apply(
        self,
        connection: AsyncConnection,
        account_id: int,
        device_id: int,
        report: Report,
        now: datetime,
    ) -> ReportResult:
        at = report.at or now
        if report.state is State.FAILED and await self._retry_elsewhere(
            connection, account_id, device_id, report, now
        ):
            return ReportResult(
                message_id=report.message_id,
                applied=True,
                state=State.QUEUED,
                detail="will be retried",
            )
        values = _report_values(report, at)
        statement = (
            update(t)
            .where(
                t.c.id == report.message_id,
                t.c.account_id == account_id,
                t.c.device_id == device_id,
                t.c.state.in_([s.value for s in SOURCES[report.state]]),
            )
            .values(values)
        )
        if (await connection.execute(statement)).rowcount == 1:
            return ReportResult(message_id=report.message_id, applied=True, state=report.state)
        return await self._explain(connection, account_id, device_id, report)

    async def _retry_elsewhere(
        self,
        connection: AsyncConnection,
        account_id: int,
        device_id: int,
        report: Report,
        now: datetime,
    ) -> bool:
        """A transient failure goes back to the queue, for another device first, after a back-off."""
        reason = report.reason or Reason.GENERIC
        if reason not in TRANSIENT_REASONS:
            return False
        row = (
            await connection.execute(select(t.c.attempts).where(t.c.id == report.message_id))
        ).first()
        if row is None or row.attempts >= self._retry.max_attempts:
            return False
        statement = (
            update(t)
            .where(
                t.c.id == report.message_id,
                t.c.account_id == account_id,
                t.c.device_id == device_id,
                t.c.state.in_([s.value for s in SOURCES[State.FAILED]]),
            )
            .values(
                state=State.QUEUED.value,
                reason=reason.value,
                queued_at=now,
                leased_at=None,
                taken_at=None,
                lease_until=None,
                device_id=None,
                last_device_id=device_id,
                next_attempt_at=now + routing.backoff(row.attempts, base=self._retry.backoff),
            )
        )
        return (await connection.execute(statement)).rowcount == 1

    async def _explain(
        self, connection: AsyncConnection, account_id: int, device_id: int, report: Report
    ) -> ReportResult:
        statement = select(t.c.state, t.c.device_id).where(
            t.c.id == report.message_id, t.c.account_id == account_id
        )
        row = (await connection.execute(statement)).first()
        if row is None or row.device_id != device_id:
            return ReportResult(
                message_id=report.message_id,
                applied=False,
                state=None,
                detail="no such message on this device",
            )
        current = State(row.state)
        if current is report.state or RANK[current] >= RANK[report.state]:
            return ReportResult(
                message_id=report.message_id,
                applied=False,
                state=current,
                detail=f"already {current}",
            )
        return ReportResult(
            message_id=report.message_id,
            applied=False,
            state=current,
            detail=f"cannot go from {current} to {report.state}",
        )

    async def promote_due(self, *, now: datetime) -> list[tuple[int, int | None]]:
        """Scheduled messages whose time has come join the queue."""
        statement = (
            update(t)
            .where(t.c.state == State.SCHEDULED.value, t.c.send_at <= now)
            .values(state=State.QUEUED.value, queued_at=now)
            .returning(t.c.account_id, t.c.device_id, t.c.id)
        )
        return await self._sweep(statement, announce=True, entered=(State.QUEUED, now))

    async def expire(self, *, now: datetime) -> list[tuple[int, int | None]]:
        statement = (
            update(t)
            .where(
                t.c.state.in_([State.SCHEDULED.value, State.QUEUED.value]), t.c.valid_until <= now
            )
            .values(state=State.EXPIRED.value, expired_at=now)
            .returning(t.c.account_id, t.c.device_id, t.c.id)
        )
        return await self._sweep(statement, entered=(State.EXPIRED, now))

    async def release_expired_leases(self, *, now: datetime) -> list[tuple[int, int | None]]:
        """Leases a device never confirmed go back to the queue, for any eligible device."""
        statement = (
            update(t)
            .where(t.c.state == State.LEASED.value, t.c.lease_until <= now)
            .values(
                state=State.QUEUED.value,
                queued_at=now,
                lease_until=None,
                leased_at=None,
                device_id=None,
            )
            .returning(t.c.account_id, t.c.device_id)
        )
        return await self._sweep(statement, announce=True)

    async def retries_due(self, *, after: datetime, now: datetime) -> list[tuple[int, int | None]]:
        """Accounts whose retries' back-off ended in (after, now]: their devices are woken."""
        statement = (
            select(t.c.account_id)
            .where(
                t.c.state == State.QUEUED.value,
                t.c.next_attempt_at > after,
                t.c.next_attempt_at <= now,
            )
            .distinct()
        )
        async with self._db.read() as connection:
            return [
                (account_id, None) for account_id in (await connection.execute(statement)).scalars()
            ]

    async def device_queue(self, device: Device, *, now: datetime) -> DeviceQueue:
        """What waits for a device, what it holds, and what it used of its limits."""
        mine = f"%,{device.id},%"
        waiting = or_(
            t.c.device_id == device.id,
            (
                t.c.device_id.is_(None)
                & t.c.test.is_(device.kind is Kind.SIMULATOR)  # as leases take them
                & or_(t.c.devices == "", ("," + t.c.devices + ",").like(mine))
            ),
        )
        statement = select(
            func.count().filter(t.c.state == State.QUEUED.value, waiting),
            func.count().filter(t.c.state == State.LEASED.value, t.c.device_id == device.id),
            func.count().filter(t.c.state == State.TAKEN.value, t.c.device_id == device.id),
        ).where(
            t.c.account_id == device.account_id,
            t.c.state.in_([State.QUEUED.value, State.LEASED.value, State.TAKEN.value]),
        )
        async with self._db.read() as connection:
            queued, leased, taken = (await connection.execute(statement)).one()
            usage = await self._leaser.usage(connection, device, now)
        return DeviceQueue(queued=queued, leased=leased, taken=taken, usage=usage)

    async def fail_lost(
        self, *, now: datetime, older_than: datetime
    ) -> list[tuple[int, int | None]]:
        """Taken and never reported: failed as lost, never re-sent blindly (a duplicate SMS is a failure too)."""
        statement = (
            update(t)
            .where(t.c.state == State.TAKEN.value, t.c.taken_at <= older_than)
            .values(state=State.FAILED.value, reason=Reason.DEVICE_LOST.value, failed_at=now)
            .returning(t.c.account_id, t.c.device_id, t.c.id)
        )
        return await self._sweep(statement, entered=(State.FAILED, now))

    async def _sweep(
        self,
        statement: Any,
        *,
        announce: bool = False,
        entered: tuple[State, datetime] | None = None,
    ) -> list[tuple[int, int | None]]:
        async with self._db.write() as connection:
            moved = (await connection.execute(statement)).all()
            found = [(r[0], r[1]) for r in moved]
            if entered is not None and moved:
                state, at = entered
                await self._db.outbox.record(
                    connection, (events.of_message(r[0], r[2], state, at) for r in moved)
                )
            if announce and found and not self._db.is_sqlite:
                await notify.announce(connection, (account_id for account_id, _ in found))
        return found


_EARLIER = {
    State.SENT: ("taken_at",),
    State.DELIVERED: ("taken_at", "sent_at"),
    State.UNDELIVERED: ("taken_at", "sent_at"),
}


def _report_values(report: Report, at: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "state": report.state.value,
        STAMP[report.state]: at,
        "lease_until": None,
    }
    if report.state in (State.FAILED, State.UNDELIVERED):
        values["reason"] = report.reason.value if report.reason else "generic"
    if report.state is State.QUEUED:  # given back: any eligible device may take it again
        values.update(leased_at=None, taken_at=None, device_id=None, queued_at=at)
    for earlier in _EARLIER.get(report.state, ()):
        values[earlier] = func.coalesce(t.c[earlier], at)
    return values


def _groups(reports: Sequence[Report]) -> list[list[tuple[int, Report]]]:
    """Reports in batches of the same status, time and reason, first ones first; duplicates of an id
    stay apart (each is applied in turn). Failures are never grouped: each may be retried elsewhere."""
    groups: dict[tuple[Any, ...], list[tuple[int, Report]]] = {}
    seen: set[int] = set()
    for index, report in enumerate(reports):
        alone = report.state is State.FAILED or report.message_id in seen
        key = (index,) if alone else (report.state, report.at, report.reason)
        groups.setdefault(key, []).append((index, report))
        seen.add(report.message_id)
    return list(groups.values())


def _fields(f: MessageFilter) -> dict[str, Any]:
    return {name: getattr(f, name) for name in f.__slots__}


def _id(message: Message) -> int:
    return message.id
