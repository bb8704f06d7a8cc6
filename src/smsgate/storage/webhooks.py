"""Webhooks, the fan-out of the outbox into deliveries, and deliveries as queue jobs.

- fan_out: events not yet fanned out get their body (rendered by the caller from the message,
  inbound message or device they tell of) and one delivery per matching webhook; one transaction.
- claim: due deliveries are leased (PostgreSQL: FOR UPDATE SKIP LOCKED, so nodes share the work);
  a node that dies mid-attempt leaves a lease that ends, and the delivery is tried again.
- finish: every attempt's answer is logged and each delivery moves (delivered, back-off, failed)
  in one transaction for a whole batch of answers.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgate.core import errors, events
from smsgate.core.events import (
    Attempt,
    Delivery,
    DeliveryState,
    Job,
    Render,
    RetryPlan,
    Subject,
    Webhook,
)
from smsgate.core.messages import Inbound, Message
from smsgate.storage import rows
from smsgate.storage.database import Database
from smsgate.storage.sql import (
    UTCDateTime,
    deliveries,
    delivery_attempts,
    devices,
    inbound,
    messages,
    webhooks,
)
from smsgate.storage.sql import events as event_rows


def webhook(row: Any) -> Webhook:
    return Webhook(
        id=row["id"],
        account_id=row["account_id"],
        url=row["url"],
        events=events.kinds(row["events"]),
        number=row["number"],
        secret=row["secret"],
        enabled=row["enabled"],
        created_at=row["created_at"],
    )


def delivery(row: Any) -> Delivery:
    return Delivery(
        id=row["id"],
        account_id=row["account_id"],
        event_id=row["event_id"],
        webhook_id=row["webhook_id"],
        kind=events.Kind(row["kind"]),
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        give_up_at=row["give_up_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
        url=row.get("url") or "",
    )


def _peer_spellings(sender: str) -> builtins.list[str]:
    """A reply's sender as the messages' `to` may hold it (E.164): as given, and +digits."""
    digits = "".join(c for c in sender if c.isdigit())
    return list(dict.fromkeys([sender, f"+{digits}"] if digits else [sender]))


class WebhookStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def on_written(self, listener: Callable[[], None]) -> None:
        """`listener()` runs soon after a store of this process wrote events."""
        self._db.outbox.on_written(listener)

    # --- webhooks -------------------------------------------------------------------------------

    async def add(
        self,
        *,
        account_id: int,
        url: str,
        kinds: frozenset[events.Kind],
        number: str | None,
        secret: str,
        now: datetime,
    ) -> Webhook:
        values = {
            "account_id": account_id,
            "url": url,
            "events": events.kinds_text(kinds),
            "number": number,
            "secret": secret,
            "enabled": True,
            "created_at": now,
        }
        async with self._db.write() as connection:
            row = (
                (await connection.execute(insert(webhooks).values(values).returning(*webhooks.c)))
                .mappings()
                .one()
            )
        self._db.outbox.forget()
        return webhook(row)

    async def list(self, account_id: int) -> builtins.list[Webhook]:
        statement = select(webhooks).where(webhooks.c.account_id == account_id)
        async with self._db.read() as connection:
            found = (await connection.execute(statement.order_by(webhooks.c.id))).mappings()
            return [webhook(r) for r in found]

    async def get(self, account_id: int, webhook_id: int) -> Webhook:
        statement = select(webhooks).where(
            webhooks.c.account_id == account_id, webhooks.c.id == webhook_id
        )
        async with self._db.read() as connection:
            row = (await connection.execute(statement)).mappings().first()
        if row is None:
            raise errors.NotFound(f"webhook {webhook_id} not found")
        return webhook(row)

    async def change(self, account_id: int, webhook_id: int, values: dict[str, Any]) -> Webhook:
        statement = (
            update(webhooks)
            .where(webhooks.c.account_id == account_id, webhooks.c.id == webhook_id)
            .values(values)
            .returning(*webhooks.c)
        )
        async with self._db.write() as connection:
            row = (await connection.execute(statement)).mappings().first()
        if row is None:
            raise errors.NotFound(f"webhook {webhook_id} not found")
        self._db.outbox.forget()
        return webhook(row)

    async def delete(self, account_id: int, webhook_id: int) -> Webhook:
        statement = (
            delete(webhooks)
            .where(webhooks.c.account_id == account_id, webhooks.c.id == webhook_id)
            .returning(*webhooks.c)
        )
        async with self._db.write() as connection:
            row = (await connection.execute(statement)).mappings().first()
        if row is None:
            raise errors.NotFound(f"webhook {webhook_id} not found")
        self._db.outbox.forget()
        return webhook(row)

    # --- the fan-out ------------------------------------------------------------------------------

    async def _fan_out(
        self,
        connection: AsyncConnection,
        *,
        now: datetime,
        limit: int,
        give_up_after: timedelta,
        render: Render,
    ) -> int:
        """Events not yet fanned out: rendered once, one delivery per matching webhook."""
        pick = select(event_rows).where(event_rows.c.fanned_at.is_(None))
        pick = pick.order_by(event_rows.c.id).limit(limit)
        if not self._db.is_sqlite:
            pick = pick.with_for_update(skip_locked=True)
        found = list((await connection.execute(pick)).mappings())
        if not found:
            return 0
        subjects = await self._subjects(connection, found)
        hooks = await self._hooks(connection, {s.account_id for s in subjects})
        bodies, jobs = [], []
        for subject in subjects:
            bodies.append({"i": subject.id, "b": render(subject).decode(), "f": now})
            for hook in hooks.get(subject.account_id, ()):
                if hook.wants(subject.kind, subject.number):
                    jobs.append(_job(subject, hook, now, now + give_up_after))
        done = (
            update(event_rows)
            .where(event_rows.c.id == _param("i"))
            .values(body=_param("b"), fanned_at=_param("f", UTCDateTime()))
        )
        await connection.execute(done, bodies)
        if jobs:
            await connection.execute(insert(deliveries), jobs)
        return len(jobs)

    async def _hooks(
        self, connection: AsyncConnection, account_ids: set[int]
    ) -> dict[int, builtins.list[Webhook]]:
        statement = select(webhooks).where(
            webhooks.c.account_id.in_(sorted(account_ids)), webhooks.c.enabled
        )
        found: dict[int, builtins.list[Webhook]] = {}
        for row in (await connection.execute(statement.order_by(webhooks.c.id))).mappings():
            try:
                hook = webhook(row)
            except ValueError:  # a kind this version does not know
                continue
            found.setdefault(hook.account_id, []).append(hook)
        return found

    async def _subjects(
        self, connection: AsyncConnection, found: builtins.list[Any]
    ) -> builtins.list[Subject]:
        message_ids = {r["message_id"] for r in found if r["message_id"] is not None}
        inbound_ids = {r["inbound_id"] for r in found if r["inbound_id"] is not None}
        device_ids = {r["device_id"] for r in found if r["device_id"] is not None}
        sent = await self._by_id(connection, messages, message_ids, rows.message)
        got = await self._by_id(connection, inbound, inbound_ids, rows.inbound)
        phones = await self._by_id(connection, devices, device_ids, rows.device)
        subjects = []
        for r in found:
            message = sent.get(r["message_id"])
            received = got.get(r["inbound_id"])
            device = phones.get(r["device_id"])
            number = message.sender if message is not None else None
            conversation = None
            if received is not None and device is not None:
                number = device.number_of(received.sim_slot)
                if number is not None:
                    conversation = await self._conversation(connection, received, number)
            try:
                kind = events.Kind(r["kind"])
            except ValueError:
                continue
            subjects.append(
                Subject(
                    id=r["id"],
                    account_id=r["account_id"],
                    kind=kind,
                    at=r["at"],
                    detail=r["detail"],
                    message=message,
                    inbound=received,
                    device=device,
                    number=number,
                    conversation=conversation,
                )
            )
        return subjects

    async def _by_id(
        self, connection: AsyncConnection, table: Any, ids: set[int], convert: Any
    ) -> dict[int, Any]:
        if not ids:
            return {}
        statement = select(table).where(table.c.id.in_(sorted(ids)))
        return {r["id"]: convert(r) for r in (await connection.execute(statement)).mappings()}

    async def _conversation(
        self, connection: AsyncConnection, reply: Inbound, number: str
    ) -> Message | None:
        """The last message sent from the two-way number to the reply's sender."""
        statement = (
            select(messages)
            .where(
                messages.c.account_id == reply.account_id,
                messages.c.sender == number,
                messages.c.to.in_(_peer_spellings(reply.sender)),
            )
            .order_by(messages.c.id.desc())
            .limit(1)
        )
        row = (await connection.execute(statement)).mappings().first()
        return rows.message(row) if row else None

    # --- deliveries as jobs -------------------------------------------------------------------

    async def _claim(
        self,
        connection: AsyncConnection,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        per_webhook: int,
        inflight: Mapping[int, int],
    ) -> builtins.list[Job]:
        """Leases up to `limit` due deliveries, oldest first, at most `per_webhook` to one webhook
        counting the `inflight` ones (a slow receiver cannot take every slot)."""
        d = deliveries
        due = and_(
            d.c.state == DeliveryState.PENDING.value,
            d.c.next_attempt_at <= now,
            or_(d.c.lease_until.is_(None), d.c.lease_until <= now),
        )
        full = [w for w, n in inflight.items() if n >= per_webhook]
        which: Select[Any] = select(d.c.webhook_id).where(due).distinct().limit(100)
        if full:
            which = which.where(d.c.webhook_id.not_in(full))
        ids: builtins.list[int] = []
        for webhook_id in sorted((await connection.execute(which)).scalars()):
            room = min(per_webhook - inflight.get(webhook_id, 0), limit - len(ids))
            if room <= 0:
                continue
            pick: Select[Any] = (
                select(d.c.id)
                .where(due, d.c.webhook_id == webhook_id)
                .order_by(d.c.next_attempt_at, d.c.id)
                .limit(room)
            )
            if not self._db.is_sqlite:
                pick = pick.with_for_update(skip_locked=True)
            ids += list((await connection.execute(pick)).scalars())
        if not ids:
            return []
        await connection.execute(update(d).where(d.c.id.in_(ids)).values(lease_until=now + lease))
        statement = (
            select(
                d.c.id,
                d.c.event_id,
                d.c.webhook_id,
                d.c.kind,
                d.c.attempts,
                d.c.give_up_at,
                webhooks.c.url,
                webhooks.c.secret,
                event_rows.c.body,
            )
            .join(webhooks, webhooks.c.id == d.c.webhook_id)
            .join(event_rows, event_rows.c.id == d.c.event_id)
            .where(d.c.id.in_(ids))
            .order_by(d.c.id)
        )
        found = (await connection.execute(statement)).mappings().all()
        return [
            Job(
                delivery_id=r["id"],
                event_id=r["event_id"],
                webhook_id=r["webhook_id"],
                kind=events.Kind(r["kind"]),
                url=r["url"],
                secret=r["secret"],
                body=(r["body"] or "{}").encode(),
                attempts=r["attempts"],
                give_up_at=r["give_up_at"],
            )
            for r in found
        ]

    async def _finish(
        self,
        connection: AsyncConnection,
        results: Sequence[tuple[Job, Attempt]],
        *,
        now: datetime,
        plan: RetryPlan,
    ) -> None:
        """Logs each attempt and moves its delivery: delivered, retried later, or failed."""
        if not results:
            return
        d = deliveries
        log = [
            {
                "delivery_id": a.delivery_id,
                "at": a.at,
                "status": a.status,
                "error": (a.error or "")[:200] or None,
                "response": (a.response or "")[:500] or None,
                "duration_ms": a.duration_ms,
            }
            for _, a in results
        ]
        moves = []
        for job, attempt in results:
            tries = job.attempts + 1
            if attempt.ok:
                state, next_at = DeliveryState.DELIVERED, None
            else:
                next_at = plan.next_attempt(tries, now, job.give_up_at)
                state = DeliveryState.PENDING if next_at else DeliveryState.FAILED
            moves.append(
                {
                    "i": job.delivery_id,
                    "s": state.value,
                    "n": tries,
                    "next": next_at,
                    "st": attempt.status,
                    "err": (attempt.error or "")[:200] or None,
                    "at": attempt.at if attempt.ok else None,
                }
            )
        move = (
            update(d)
            .where(d.c.id == _param("i"))
            .values(
                state=_param("s"),
                attempts=_param("n"),
                next_attempt_at=_param("next", UTCDateTime()),
                lease_until=None,
                last_status=_param("st"),
                last_error=_param("err"),
                delivered_at=func.coalesce(_param("at", UTCDateTime()), d.c.delivered_at),
            )
        )
        await connection.execute(insert(delivery_attempts), log)
        await connection.execute(move, moves)

    async def step(
        self,
        results: Sequence[tuple[Job, Attempt]],
        *,
        now: datetime,
        plan: RetryPlan,
        fan_out: int,
        give_up_after: timedelta,
        render: Render,
        claim: int,
        lease: timedelta,
        per_webhook: int,
        inflight: Mapping[int, int],
    ) -> tuple[int, builtins.list[Job]]:
        """One round of the deliverer in one transaction: the answers written, new events fanned
        out, due deliveries claimed. Without answers, a look on the reader first: an idle round
        takes no write lock (on SQLite the send path's)."""
        if not results and not await self._work(now):
            return 0, []
        async with self._db.write() as connection:
            if results:
                await self._finish(connection, results, now=now, plan=plan)
            made = await self._fan_out(
                connection, now=now, limit=fan_out, give_up_after=give_up_after, render=render
            )
            jobs: builtins.list[Job] = []
            if claim > 0:
                jobs = await self._claim(
                    connection,
                    now=now,
                    limit=claim,
                    lease=lease,
                    per_webhook=per_webhook,
                    inflight=inflight,
                )
        return made, jobs

    async def _work(self, now: datetime) -> bool:
        d = deliveries
        unfanned = select(event_rows.c.id).where(event_rows.c.fanned_at.is_(None)).limit(1)
        due = (
            select(d.c.id)
            .where(
                d.c.state == DeliveryState.PENDING.value,
                d.c.next_attempt_at <= now,
                or_(d.c.lease_until.is_(None), d.c.lease_until <= now),
            )
            .limit(1)
        )
        async with self._db.read() as connection:
            if (await connection.execute(unfanned)).first() is not None:
                return True
            return (await connection.execute(due)).first() is not None

    # --- the log and replays ------------------------------------------------------------------

    async def list_deliveries(
        self,
        account_id: int,
        *,
        state: DeliveryState | None = None,
        webhook_id: int | None = None,
        event_id: int | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> builtins.list[Delivery]:
        d = deliveries
        statement = (
            select(d, webhooks.c.url)
            .join(webhooks, webhooks.c.id == d.c.webhook_id)
            .where(d.c.account_id == account_id)
        )
        if state is not None:
            statement = statement.where(d.c.state == state.value)
        if webhook_id is not None:
            statement = statement.where(d.c.webhook_id == webhook_id)
        if event_id is not None:
            statement = statement.where(d.c.event_id == event_id)
        if before_id is not None:
            statement = statement.where(d.c.id < before_id)
        statement = statement.order_by(d.c.id.desc()).limit(limit)
        async with self._db.read() as connection:
            return [delivery(r) for r in (await connection.execute(statement)).mappings()]

    async def get_delivery(self, account_id: int, delivery_id: int) -> Delivery:
        found = await self.list_deliveries(account_id, before_id=delivery_id + 1, limit=1)
        if not found or found[0].id != delivery_id:
            raise errors.NotFound(f"delivery {delivery_id} not found")
        return found[0]

    async def attempts(self, delivery_id: int) -> builtins.list[Attempt]:
        a = delivery_attempts
        statement = select(a).where(a.c.delivery_id == delivery_id).order_by(a.c.id)
        async with self._db.read() as connection:
            return [
                Attempt(
                    delivery_id=r["delivery_id"],
                    at=r["at"],
                    status=r["status"],
                    error=r["error"],
                    response=r["response"],
                    duration_ms=r["duration_ms"],
                )
                for r in (await connection.execute(statement)).mappings()
            ]

    async def body(self, event_id: int) -> bytes | None:
        statement = select(event_rows.c.body).where(event_rows.c.id == event_id)
        async with self._db.read() as connection:
            found = (await connection.execute(statement)).scalar()
        return found.encode() if found is not None else None

    async def replay(
        self,
        account_id: int,
        *,
        ids: Sequence[int] | None = None,
        state: DeliveryState | None = None,
        now: datetime,
        give_up_at: datetime,
    ) -> builtins.list[int]:
        """Deliveries sent again from now (those in flight right now are left alone)."""
        d = deliveries
        statement = update(d).where(
            d.c.account_id == account_id,
            or_(d.c.lease_until.is_(None), d.c.lease_until <= now),
        )
        if ids is not None:
            statement = statement.where(d.c.id.in_(list(ids)))
        if state is not None:
            statement = statement.where(d.c.state == state.value)
        statement = statement.values(
            state=DeliveryState.PENDING.value,
            next_attempt_at=now,
            give_up_at=give_up_at,
            lease_until=None,
        ).returning(d.c.id)
        async with self._db.write() as connection:
            return sorted((await connection.execute(statement)).scalars())

    async def counts(self, account_id: int | None = None) -> dict[DeliveryState, int]:
        statement = select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
        if account_id is not None:
            statement = statement.where(deliveries.c.account_id == account_id)
        async with self._db.read() as connection:
            found = (await connection.execute(statement)).all()
        return {DeliveryState(s): n for s, n in found}

    async def unfanned(self) -> int:
        statement = select(func.count()).where(event_rows.c.fanned_at.is_(None))
        async with self._db.read() as connection:
            return int((await connection.execute(statement)).scalar_one())


def _param(name: str, kind: Any = None) -> Any:
    return bindparam(name, type_=kind)


def _job(subject: Subject, hook: Webhook, now: datetime, give_up_at: datetime) -> dict[str, Any]:
    return {
        "account_id": subject.account_id,
        "event_id": subject.id,
        "webhook_id": hook.id,
        "kind": subject.kind.value,
        "state": DeliveryState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "give_up_at": give_up_at,
        "created_at": now,
    }
