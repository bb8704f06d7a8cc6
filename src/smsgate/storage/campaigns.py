"""Campaigns: the rows, the expansion's batches and claims, and what they do to their messages.

Expansion walks a campaign's contacts in number order from its cursor, so a batch is one index
range read; the messages it makes go through MessageStore.add (the group commit every send
shares), then `advance` records the cursor and the counts. If a node dies between the two, the
next claim starts after the highest number that already has a message of the campaign.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, insert, or_, select, update

from smsgate.core import errors
from smsgate.core.campaigns import LIVE, Campaign, CampaignState, NewCampaign, Recipient
from smsgate.core.messages import State
from smsgate.storage import notify
from smsgate.storage.contacts import member_of
from smsgate.storage.database import Database
from smsgate.storage.rows import Row
from smsgate.storage.sql import campaigns, contacts, messages, optouts

HELD = State.SCHEDULED  # a paused campaign's waiting messages: scheduled without a send time


def _ids(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(",") if p)


def _campaign(row: Row) -> Campaign:
    return Campaign(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        text=row["text"],
        lists=_ids(row["lists"]),
        devices=_ids(row["devices"]),
        sim_slot=row["sim_slot"],
        priority=row["priority"],
        state=CampaignState(row["state"]),
        send_at=row["send_at"],
        created_at=row["created_at"],
        expanded=row["expanded"],
        skipped=row["skipped"],
        invalid=row["invalid"],
        cursor=row["cursor"],
        started_at=row["started_at"],
        expanded_at=row["expanded_at"],
        paused_at=row["paused_at"],
        cancelled_at=row["cancelled_at"],
    )


class CampaignStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, new: NewCampaign) -> Campaign:
        values = {
            "account_id": new.account_id,
            "name": new.name,
            "text": new.text,
            "lists": ",".join(map(str, new.lists)),
            "devices": ",".join(map(str, new.devices)),
            "sim_slot": new.sim_slot,
            "priority": new.priority,
            "state": CampaignState.SCHEDULED.value,
            "send_at": new.send_at,
            "created_at": new.created_at,
        }
        async with self._db.write() as connection:
            row = (
                (await connection.execute(insert(campaigns).values(values).returning(*campaigns.c)))
                .mappings()
                .one()
            )
        return _campaign(row)

    async def find(self, account_id: int | None, campaign_id: int) -> Campaign | None:
        statement = select(campaigns).where(campaigns.c.id == campaign_id)
        if account_id is not None:
            statement = statement.where(campaigns.c.account_id == account_id)
        async with self._db.read() as connection:
            row = (await connection.execute(statement)).mappings().first()
        return _campaign(row) if row else None

    async def get(self, account_id: int, campaign_id: int) -> Campaign:
        found = await self.find(account_id, campaign_id)
        if found is None:
            raise errors.NotFound(f"campaign {campaign_id} not found")
        return found

    async def list(
        self, account_id: int, *, before_id: int | None = None, limit: int = 100
    ) -> builtins.list[Campaign]:
        statement = select(campaigns).where(campaigns.c.account_id == account_id)
        if before_id is not None:
            statement = statement.where(campaigns.c.id < before_id)
        statement = statement.order_by(campaigns.c.id.desc()).limit(limit)
        async with self._db.read() as connection:
            return [_campaign(r) for r in (await connection.execute(statement)).mappings()]

    async def titles(self, campaign_ids: Sequence[int]) -> dict[int, Campaign]:
        """Campaigns by id (for listings that show a message's campaign)."""
        if not campaign_ids:
            return {}
        statement = select(campaigns).where(campaigns.c.id.in_(sorted(set(campaign_ids))))
        async with self._db.read() as connection:
            return {r["id"]: _campaign(r) for r in (await connection.execute(statement)).mappings()}

    # --- expansion ----------------------------------------------------------------------------

    async def due(self, *, now: datetime, limit: int = 10) -> builtins.list[int]:
        """Live campaigns whose send time has come and that no node holds."""
        c = campaigns.c
        statement = (
            select(c.id)
            .where(
                c.state.in_([s.value for s in LIVE]),
                c.send_at <= now,
                or_(c.claimed_until.is_(None), c.claimed_until < now),
            )
            .order_by(c.send_at, c.id)
            .limit(limit)
        )
        async with self._db.read() as connection:
            return list((await connection.execute(statement)).scalars())

    async def claim(self, campaign_id: int, *, now: datetime, until: datetime) -> Campaign | None:
        """Takes a live campaign for this node until `until`; its cursor is set past any number
        that already has a message of it (a node that died between a batch and its record)."""
        c = campaigns.c
        statement = (
            update(campaigns)
            .where(
                c.id == campaign_id,
                c.state.in_([s.value for s in LIVE]),
                or_(c.claimed_until.is_(None), c.claimed_until < now),
            )
            .values(
                claimed_until=until,
                state=CampaignState.EXPANDING.value,
                started_at=func.coalesce(c.started_at, now),
            )
            .returning(*campaigns.c)
        )
        async with self._db.write() as connection:
            row = (await connection.execute(statement)).mappings().first()
            if row is None:
                return None
            last = (
                await connection.execute(
                    select(func.max(messages.c.to)).where(messages.c.campaign_id == campaign_id)
                )
            ).scalar()
            if last is not None and last > row["cursor"]:
                await connection.execute(
                    update(campaigns).where(c.id == campaign_id).values(cursor=last)
                )
                return _campaign({**row, "cursor": last})
        return _campaign(row)

    async def recipients(self, campaign: Campaign, *, limit: int) -> builtins.list[Recipient]:
        """The next contacts of its lists after its cursor, in number order, each number once."""
        c = contacts.c
        opted = (
            select(optouts.c.phone)
            .where(optouts.c.account_id == c.account_id, optouts.c.phone == c.phone)
            .exists()
        )
        statement = (
            select(c.phone, c.phone_original, c.country, c.name, c.fields, opted.label("opted"))
            .where(
                c.account_id == campaign.account_id,
                c.phone > campaign.cursor,
                member_of(campaign.lists),
            )
            .order_by(c.phone)
            .limit(limit)
        )
        async with self._db.read() as connection:
            return [
                Recipient(
                    r.phone,
                    r.phone_original,
                    r.country,
                    r.name,
                    json.loads(r.fields or "{}"),
                    bool(r.opted),
                )
                for r in (await connection.execute(statement)).all()
            ]

    async def advance(
        self,
        campaign_id: int,
        *,
        cursor: str,
        expanded: int,
        skipped: int,
        invalid: int,
        done: bool,
        now: datetime,
        until: datetime,
    ) -> CampaignState:
        """Records a batch; `done` ends the expansion unless it was paused or cancelled meanwhile.
        Returns the campaign's state now."""
        c = campaigns.c
        values: dict[str, Any] = {
            "cursor": cursor,
            "expanded": c.expanded + expanded,
            "skipped": c.skipped + skipped,
            "invalid": c.invalid + invalid,
            "claimed_until": None if done else until,
        }
        if done:
            values["state"] = case(
                (c.state == CampaignState.EXPANDING.value, CampaignState.EXPANDED.value),
                else_=c.state,
            )
            values["expanded_at"] = now
        statement = update(campaigns).where(c.id == campaign_id).values(values).returning(c.state)
        async with self._db.write() as connection:
            return CampaignState((await connection.execute(statement)).scalar_one())

    async def release_claim(self, campaign_id: int) -> None:
        async with self._db.write() as connection:
            await connection.execute(
                update(campaigns).where(campaigns.c.id == campaign_id).values(claimed_until=None)
            )

    # --- pause, resume, cancel ----------------------------------------------------------------

    async def move(
        self,
        account_id: int,
        campaign_id: int,
        *,
        sources: frozenset[CampaignState],
        values: Mapping[str, Any],
    ) -> Campaign:
        """Changes a campaign in one of `sources`; Conflict (or NotFound) otherwise."""
        c = campaigns.c
        statement = (
            update(campaigns)
            .where(
                c.id == campaign_id,
                c.account_id == account_id,
                c.state.in_([s.value for s in sources]),
            )
            .values(dict(values))
            .returning(*campaigns.c)
        )
        async with self._db.write() as connection:
            row = (await connection.execute(statement)).mappings().first()
        if row is None:
            current = await self.get(account_id, campaign_id)
            raise errors.Conflict(f"campaign {campaign_id} is {current.state}")
        return _campaign(row)

    async def hold(self, campaign_id: int) -> int:
        """Its queued messages (no device has them) wait again, without a send time."""
        m = messages.c
        statement = (
            update(messages)
            .where(m.campaign_id == campaign_id, m.state == State.QUEUED.value)
            .values(state=HELD.value, queued_at=None, send_at=None)
        )
        async with self._db.write() as connection:
            return (await connection.execute(statement)).rowcount or 0

    async def release(
        self, campaign_id: int, *, now: datetime, valid_until: datetime
    ) -> builtins.list[tuple[int, int | None]]:
        """Its held messages join the queue again (with a fresh validity)."""
        m = messages.c
        statement = (
            update(messages)
            .where(m.campaign_id == campaign_id, m.state == HELD.value, m.send_at.is_(None))
            .values(state=State.QUEUED.value, queued_at=now, valid_until=valid_until)
            .returning(m.account_id, m.device_id)
        )
        async with self._db.write() as connection:
            found = [(r[0], r[1]) for r in (await connection.execute(statement)).all()]
            if found and not self._db.is_sqlite:
                await notify.announce(connection, {a for a, _ in found})
        return found

    async def counts(self, campaign_id: int) -> dict[State, int]:
        m = messages.c
        statement = (
            select(m.state, func.count()).where(m.campaign_id == campaign_id).group_by(m.state)
        )
        async with self._db.read() as connection:
            return {State(s): n for s, n in (await connection.execute(statement)).all()}
