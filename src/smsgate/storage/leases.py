"""Handing work to one device, inside one transaction that also keeps its limits.

The device's row is locked (PostgreSQL: FOR UPDATE; SQLite: the single writer) while its pace,
quota, window and SIMs are checked and the chosen messages are marked leased, so the limits hold
across several gateway nodes, and candidate rows are claimed with FOR UPDATE SKIP LOCKED so two
nodes never hand one message to two devices.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgate.core import routing
from smsgate.core.devices import Device, Kind, Limits
from smsgate.core.messages import Message, Priority, State
from smsgate.core.routing import WHOLE_DEVICE, Usage
from smsgate.storage import rows
from smsgate.storage.sql import device_recipients, device_usage, devices
from smsgate.storage.sql import messages as t

MAX_GROUP = 10_000  # a message group is at most one request's recipients


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaseRules:
    urgent_bypasses_pace: bool = True
    retry_elsewhere_for: timedelta = timedelta(
        seconds=30
    )  # the failing device waits this much longer


class Leaser:
    def __init__(
        self, *, is_sqlite: bool, rules: LeaseRules = LeaseRules(), rng: random.Random | None = None
    ) -> None:
        self._is_sqlite = is_sqlite
        self._rules = rules
        self._rng = rng or random.Random()

    async def lease(
        self,
        connection: AsyncConnection,
        *,
        device_id: int,
        account_id: int | None,
        limit: int,
        now: datetime,
        until: datetime,
    ) -> list[Message]:
        device = await self._locked_device(connection, device_id)
        if device is None or not device.can_send or not routing.in_window(device.limits, now):
            return []
        if account_id is not None and device.account_id != account_id:
            return []
        usage = await self.usage(connection, device, now)
        whole = usage[WHOLE_DEVICE]
        room = whole.room(device.limits)
        if room == 0:
            return []
        paced = whole.paced(device.limits, now)
        if paced and not self._rules.urgent_bypasses_pace:
            return []
        one_at_a_time = device.limits.pace is not None or device.limits.jitter is not None
        capacity = min(
            limit, room if room is not None else limit, 1 if one_at_a_time and not paced else limit
        )
        whole_room = room if room is not None else MAX_GROUP
        chosen: list[tuple[int, str, int | None]] = []
        seen: list[int] = []
        for _ in range(3):  # a group that does not fit leaves room: look a little further
            candidates = await self._candidates(
                connection, device, capacity, now, urgent_only=paced, besides=seen
            )
            units = await self._units(connection, device, candidates, now, urgent_only=paced)
            seen.extend(c.id for c in candidates)
            seen.extend(m.id for unit in units for m in unit)
            self._choose(device, units, usage, capacity, whole_room, now, chosen)
            if len(chosen) >= capacity or not any(c.group_id for c in candidates):
                break
        if not chosen:
            return []
        leased = await self._mark(connection, device, chosen, now, until)
        await self._count(connection, device, usage, chosen, now, urgent_only=paced)
        return sorted(leased, key=lambda m: (-m.priority, m.id))

    async def _locked_device(self, connection: AsyncConnection, device_id: int) -> Device | None:
        statement = select(devices).where(devices.c.id == device_id)
        if not self._is_sqlite:
            statement = statement.with_for_update()
        row = (await connection.execute(statement)).mappings().first()
        return rows.device(row) if row else None

    async def usage(
        self, connection: AsyncConnection, device: Device, now: datetime
    ) -> dict[int, Usage]:
        """Slot 0 = the device, others = its SIMs; counts of an earlier period are read as zero."""
        found = {
            r["slot"]: r
            for r in (
                await connection.execute(
                    select(device_usage).where(device_usage.c.device_id == device.id)
                )
            ).mappings()
        }
        usage: dict[int, Usage] = {}
        for slot, limits in self._limited(device):
            start = self._period(device, limits, now)
            row = found.get(slot)
            current = row is not None and row["period_start"] == start
            usage[slot] = Usage(
                messages=row["messages"] if current and row else 0,
                next_send_at=row["next_send_at"] if row else None,
                recipients=await self._recipients(connection, device.id, slot, start)
                if limits and limits.quota_recipients
                else None,
            )
        return usage

    @staticmethod
    def _period(device: Device, limits: Limits | None, now: datetime) -> datetime:
        """SIMs without limits of their own count in the device's period (for rotation)."""
        lim = limits or device.limits
        return routing.period_start(lim.period, now, lim.timezone)

    def _limited(self, device: Device) -> list[tuple[int, Limits | None]]:
        return [(WHOLE_DEVICE, device.limits), *((s.slot, s.limits) for s in device.sims)]

    async def _recipients(
        self, connection: AsyncConnection, device_id: int, slot: int, start: datetime
    ) -> set[str]:
        r = device_recipients.c
        statement = select(r.phone).where(
            r.device_id == device_id, r.slot == slot, r.period_start == start
        )
        return set((await connection.execute(statement)).scalars())

    async def _candidates(
        self,
        connection: AsyncConnection,
        device: Device,
        capacity: int,
        now: datetime,
        *,
        urgent_only: bool,
        besides: Sequence[int] = (),
    ) -> list[Any]:
        conditions = self._eligible(device, now, urgent_only=urgent_only)
        if besides:
            conditions.append(t.c.id.not_in(besides))
        picky = bool(device.sims) or device.limits.quota_recipients is not None
        statement = (
            select(t.c.id, t.c.to, t.c.sim_slot, t.c.group_id)
            .where(*conditions)
            .order_by(t.c.priority.desc(), t.c.id)
            .limit(capacity * 4 if picky else capacity)
        )
        if not self._is_sqlite:
            statement = statement.with_for_update(skip_locked=True)
        return list((await connection.execute(statement)).all())

    def _eligible(
        self, device: Device, now: datetime, *, urgent_only: bool
    ) -> list[ColumnElement[bool]]:
        """What makes a queued message one this device may take now."""
        mine = f"%,{device.id},%"
        retry_ok = now - self._rules.retry_elsewhere_for
        conditions = [
            t.c.account_id == device.account_id,
            t.c.state == State.QUEUED.value,
            t.c.test.is_(device.kind is Kind.SIMULATOR),  # test traffic: the simulator's alone
            or_(
                t.c.device_id == device.id,
                and_(
                    t.c.device_id.is_(None),
                    or_(t.c.devices == "", ("," + t.c.devices + ",").like(mine)),
                ),
            ),
            or_(t.c.valid_until.is_(None), t.c.valid_until > now),
            or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now),
            or_(
                t.c.last_device_id.is_(None),
                t.c.last_device_id != device.id,
                t.c.next_attempt_at <= retry_ok,
            ),
        ]
        if urgent_only:
            conditions.append(t.c.priority >= Priority.URGENT)
        return conditions

    async def _units(
        self,
        connection: AsyncConnection,
        device: Device,
        candidates: list[Any],
        now: datetime,
        *,
        urgent_only: bool,
    ) -> list[list[Any]]:
        """The candidates as units that are leased whole: a lone message, or every member of its
        message group this device may take (a group some of whose members another node holds
        locked right now is left for later: one device gets all of it, never a part)."""
        groups = sorted({c.group_id for c in candidates if c.group_id is not None})
        members: dict[int, list[Any]] = {}
        if groups:
            conditions = [*self._eligible(device, now, urgent_only=urgent_only)]
            conditions.append(t.c.group_id.in_(groups))
            statement = (
                select(t.c.id, t.c.to, t.c.sim_slot, t.c.group_id)
                .where(*conditions)
                .order_by(t.c.id)
            )
            if not self._is_sqlite:
                statement = statement.with_for_update(skip_locked=True)
            for row in (await connection.execute(statement)).all():
                members.setdefault(row.group_id, []).append(row)
            if not self._is_sqlite:
                counted = (
                    select(t.c.group_id, func.count()).where(*conditions).group_by(t.c.group_id)
                )
                for group_id, count in (await connection.execute(counted)).all():
                    if len(members.get(group_id, ())) != count:
                        members.pop(group_id, None)
        units: list[list[Any]] = []
        for candidate in candidates:
            if candidate.group_id is None:
                units.append([candidate])
            elif candidate.group_id in members:
                units.append(members.pop(candidate.group_id))
        return units

    def _choose(
        self,
        device: Device,
        units: Sequence[list[Any]],
        usage: dict[int, Usage],
        capacity: int,
        whole_room: int,
        now: datetime,
        chosen: list[tuple[int, str, int | None]],
    ) -> None:
        """Adds to `chosen`. A message group is taken whole on one SIM, or not at all; alone it may
        pass the pull's limit and the pace's one-at-a-time (a device that takes a group paces its
        own sends), never the quota's room."""
        whole = usage[WHOLE_DEVICE]
        for unit in units:
            if len(chosen) >= capacity:
                break
            fits = len(chosen) + len(unit) <= capacity or (not chosen and len(unit) <= whole_room)
            if not fits or not all(whole.takes_recipient(device.limits, m.to) for m in unit):
                continue
            lead = unit[0]
            sim = routing.choose_sim(device, lead.sim_slot, usage, now, lead.to)
            if sim is False:
                continue
            slot = sim if isinstance(sim, int) else None
            for member in unit:
                chosen.append((member.id, member.to, slot))
                self._use(whole, member.to)
                if slot is not None and slot in usage:
                    self._use(usage[slot], member.to)
            if slot is not None and slot in usage:
                sim_limits = next((s.limits for s in device.sims if s.slot == slot), None)
                usage[slot].next_send_at = (
                    routing.next_pace(sim_limits, now, self._rng) if sim_limits else None
                )

    @staticmethod
    def _use(usage: Usage, phone: str) -> None:
        usage.messages += 1
        if usage.recipients is not None:
            usage.recipients.add(phone)

    async def _mark(
        self,
        connection: AsyncConnection,
        device: Device,
        chosen: list[tuple[int, str, int | None]],
        now: datetime,
        until: datetime,
    ) -> list[Message]:
        by_sim: dict[int | None, list[int]] = {}
        for message_id, _, slot in chosen:
            by_sim.setdefault(slot, []).append(message_id)
        leased: list[Message] = []
        for slot, ids in by_sim.items():
            statement = (
                update(t)
                .where(t.c.id.in_(ids), t.c.state == State.QUEUED.value)
                .values(
                    state=State.LEASED.value,
                    device_id=device.id,
                    sim_used=slot,
                    leased_at=now,
                    lease_until=until,
                    attempts=t.c.attempts + 1,
                )
                .returning(*t.c)
            )
            leased.extend(rows.message(r) for r in (await connection.execute(statement)).mappings())
        return leased

    async def _count(
        self,
        connection: AsyncConnection,
        device: Device,
        usage: dict[int, Usage],
        chosen: list[tuple[int, str, int | None]],
        now: datetime,
        *,
        urgent_only: bool,
    ) -> None:
        used_slots = {WHOLE_DEVICE} | {
            slot for _, _, slot in chosen if slot is not None and slot in usage
        }
        limits = dict(self._limited(device))
        for slot in used_slots:
            lim = limits.get(slot)
            start = self._period(device, lim, now)
            state = usage[slot]
            if slot == WHOLE_DEVICE and not urgent_only:
                state.next_send_at = routing.next_pace(device.limits, now, self._rng)
            await self._upsert_usage(connection, device.id, slot, start, state)
            if state.recipients is not None and lim is not None:
                phones = {phone for _, phone, s in chosen if slot in (WHOLE_DEVICE, s)}
                await self._add_recipients(connection, device.id, slot, start, phones)

    async def _upsert_usage(
        self, connection: AsyncConnection, device_id: int, slot: int, start: datetime, state: Usage
    ) -> None:
        insert = sqlite_insert if self._is_sqlite else pg_insert
        values = {
            "device_id": device_id,
            "slot": slot,
            "period_start": start,
            "messages": state.messages,
            "next_send_at": state.next_send_at,
        }
        statement = insert(device_usage).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["device_id", "slot"],
            set_={
                "period_start": start,
                "messages": state.messages,
                "next_send_at": state.next_send_at,
            },
        )
        await connection.execute(statement)

    async def _add_recipients(
        self,
        connection: AsyncConnection,
        device_id: int,
        slot: int,
        start: datetime,
        phones: set[str],
    ) -> None:
        if not phones:
            return
        insert = sqlite_insert if self._is_sqlite else pg_insert
        values = [
            {"device_id": device_id, "slot": slot, "period_start": start, "phone": p}
            for p in phones
        ]
        await connection.execute(insert(device_recipients).on_conflict_do_nothing(), values)
