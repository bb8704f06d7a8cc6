"""Phones that hold their work (the SMSGate app): links, holds, receipts, sign-in codes, and the
app client API's own webhooks and settings.

A phone of that app does not confirm what it pulled, and may keep a message for hours (its own
limits, a schedule). So what it pulled stays leased to it until the message's validity ends, it is
never handed to another device, and it leaves only through the phone's own report (sent, failed,
or cancelled when asked).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from smsgate.core import events
from smsgate.core.devices import Device
from smsgate.core.messages import Inbound, Message, NewInbound, State
from smsgate.storage import rows
from smsgate.storage.database import Database
from smsgate.storage.sql import (
    app_messages,
    app_settings,
    app_webhooks,
    device_links,
    devices,
    holds,
    inbound,
    messages,
    receipts,
    sign_in_codes,
)

RECEIPTS_KEPT = timedelta(days=14)  # the app retries a webhook ~14 times with back-off from 10 s
ABANDONED = timedelta(minutes=5)  # a client id registered this long ago with no message is free


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    device_id: int
    account_id: int
    hook_secret: str  # in the webhook URLs handed to the phone: unguessable, per device
    signing_key: str  # the phone signs its webhooks with it (provisioned through its settings)
    push_token: str | None
    stream_seen_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AppWebhook:
    id: str
    device_id: int | None
    url: str
    event: str


def _link(row: Any) -> Link:
    return Link(
        device_id=row["device_id"],
        account_id=row["account_id"],
        hook_secret=row["hook_secret"],
        signing_key=row["signing_key"],
        push_token=row["push_token"],
        stream_seen_at=row["stream_seen_at"],
    )


class Links:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _insert(self, table: Any) -> Any:
        return (sqlite_insert if self._db.is_sqlite else pg_insert)(table)

    # --- links --------------------------------------------------------------------------------

    async def link(self, device: Device, *, now: datetime) -> Link:
        """The device's link, made on first use."""
        values = {
            "device_id": device.id,
            "account_id": device.account_id,
            "hook_secret": secrets.token_urlsafe(32),
            "signing_key": secrets.token_urlsafe(24),
            "created_at": now,
        }
        async with self._db.write() as connection:
            await connection.execute(
                self._insert(device_links).values(values).on_conflict_do_nothing()
            )
            row = (
                (
                    await connection.execute(
                        select(device_links).where(device_links.c.device_id == device.id)
                    )
                )
                .mappings()
                .one()
            )
        return _link(row)

    async def find_link(self, device_id: int) -> Link | None:
        async with self._db.read() as connection:
            row = (
                (
                    await connection.execute(
                        select(device_links).where(device_links.c.device_id == device_id)
                    )
                )
                .mappings()
                .first()
            )
        return _link(row) if row else None

    async def list_links(self, account_id: int) -> dict[int, Link]:
        async with self._db.read() as connection:
            found = (
                await connection.execute(
                    select(device_links).where(device_links.c.account_id == account_id)
                )
            ).mappings()
            return {r["device_id"]: _link(r) for r in found}

    async def find_by_hook(self, hook_secret: str) -> tuple[Device, Link] | None:
        statement = (
            select(devices, *[c.label(f"link_{c.name}") for c in device_links.c])
            .join(device_links, device_links.c.device_id == devices.c.id)
            .where(device_links.c.hook_secret == hook_secret)
        )
        async with self._db.read() as connection:
            row = (await connection.execute(statement)).mappings().first()
        if row is None:
            return None
        link = {c.name: row[f"link_{c.name}"] for c in device_links.c}
        return rows.device(row), _link(link)

    async def update_link(self, device_id: int, **values: Any) -> None:
        async with self._db.write() as connection:
            await connection.execute(
                update(device_links).where(device_links.c.device_id == device_id).values(values)
            )

    # --- holds --------------------------------------------------------------------------------

    async def stick(self, device_id: int, message_ids: Sequence[int]) -> None:
        """Leases of a phone that never gives work back last until the message's validity ends."""
        if not message_ids:
            return
        statement = (
            update(messages)
            .where(
                messages.c.id.in_(message_ids),
                messages.c.device_id == device_id,
                messages.c.state == State.LEASED.value,
            )
            .values(lease_until=func.coalesce(messages.c.valid_until, messages.c.lease_until))
        )
        forget = (
            update(holds).where(holds.c.message_id.in_(message_ids)).values(acked_at=None)
        )  # a new lease, a new ack
        async with self._db.write() as connection:
            await connection.execute(statement)
            await connection.execute(forget)

    async def held(
        self, account_id: int, device_id: int, *, limit: int
    ) -> list[tuple[Message, bool]]:
        """Leased to the device and not acknowledged yet, or with a cancel to pass on: (message, cancel?)."""
        statement = (
            select(messages, holds.c.cancel_requested_at.label("hold_cancel"))
            .outerjoin(holds, holds.c.message_id == messages.c.id)
            .where(
                messages.c.account_id == account_id,
                messages.c.device_id == device_id,
                messages.c.state == State.LEASED.value,
                (holds.c.acked_at.is_(None)) | (holds.c.cancel_requested_at.is_not(None)),
            )
            .order_by(messages.c.id)
            .limit(limit)
        )
        async with self._db.read() as connection:
            found = (await connection.execute(statement)).mappings().all()
        return [(rows.message(r), r["hold_cancel"] is not None) for r in found]

    async def acknowledge(
        self, device_id: int, message_ids: Sequence[int], *, now: datetime
    ) -> None:
        if not message_ids:
            return
        values = [{"message_id": i, "device_id": device_id, "acked_at": now} for i in message_ids]
        statement = self._insert(holds)
        statement = statement.on_conflict_do_update(
            index_elements=["message_id"],
            set_={"acked_at": func.coalesce(holds.c.acked_at, statement.excluded.acked_at)},
        )
        owned = select(messages.c.id).where(
            messages.c.id.in_(message_ids), messages.c.device_id == device_id
        )
        async with self._db.write() as connection:
            mine = set((await connection.execute(owned)).scalars())
            if mine:
                await connection.execute(statement, [v for v in values if v["message_id"] in mine])

    async def request_cancel(
        self, account_id: int, message_id: int, *, now: datetime
    ) -> tuple[Message, bool] | None:
        """Asks the linked phone holding a leased message to drop it, with the rest of its message
        group there (the phone holds them as one message); None if no such phone holds it. The flag:
        whether this is news (not asked before)."""
        statement = (
            select(messages)
            .join(device_links, device_links.c.device_id == messages.c.device_id)
            .where(
                messages.c.id == message_id,
                messages.c.account_id == account_id,
                messages.c.state == State.LEASED.value,
            )
        )
        async with self._db.write() as connection:
            row = (await connection.execute(statement)).mappings().first()
            if row is None:
                return None
            ids = [message_id]
            if row["group_id"] is not None:
                together = select(messages.c.id).where(
                    messages.c.group_id == row["group_id"],
                    messages.c.device_id == row["device_id"],
                    messages.c.state == State.LEASED.value,
                )
                ids = sorted(set(ids) | set((await connection.execute(together)).scalars()))
            asked = select(holds.c.message_id).where(
                holds.c.message_id.in_(ids), holds.c.cancel_requested_at.is_not(None)
            )
            before = set((await connection.execute(asked)).scalars())
            upsert = self._insert(holds)
            upsert = upsert.on_conflict_do_update(
                index_elements=["message_id"],
                set_={
                    "cancel_requested_at": func.coalesce(
                        holds.c.cancel_requested_at, upsert.excluded.cancel_requested_at
                    )
                },
            )
            values = [
                {"message_id": i, "device_id": row["device_id"], "cancel_requested_at": now}
                for i in ids
            ]
            await connection.execute(upsert, values)
        return rows.message(row), len(before) < len(ids)

    async def confirm_cancel(
        self, device_id: int, message_id: int, *, at: datetime
    ) -> Message | None:
        """The phone dropped a leased message it was asked to cancel; None if it was not asked (or not its)."""
        asked = select(holds.c.message_id).where(
            holds.c.message_id == message_id, holds.c.cancel_requested_at.is_not(None)
        )
        statement = (
            update(messages)
            .where(
                messages.c.id == message_id,
                messages.c.device_id == device_id,
                messages.c.state == State.LEASED.value,
                messages.c.id.in_(asked.scalar_subquery()),
            )
            .values(state=State.CANCELLED.value, cancelled_at=at, lease_until=None)
            .returning(*messages.c)
        )
        async with self._db.write() as connection:
            row = (await connection.execute(statement)).mappings().first()
        return rows.message(row) if row else None

    async def cancel_requested(self, message_ids: Sequence[int]) -> set[int]:
        if not message_ids:
            return set()
        statement = select(holds.c.message_id).where(
            holds.c.message_id.in_(message_ids), holds.c.cancel_requested_at.is_not(None)
        )
        async with self._db.read() as connection:
            return set((await connection.execute(statement)).scalars())

    async def by_reference(
        self, account_id: int, reference: str, *, limit: int = 1000
    ) -> list[Message]:
        """The members of the client message with this id (the group carrying it as reference);
        else, from before groups, the messages with that reference."""
        m = messages.c
        statement = (
            select(messages)
            .where(m.account_id == account_id, m.reference == reference)
            .order_by(m.group_id.is_(None), m.id)
            .limit(limit)
        )
        async with self._db.read() as connection:
            found = [rows.message(r) for r in (await connection.execute(statement)).mappings()]
        grouped = [g for g in found if g.group_id is not None]
        return grouped or found

    async def on_device(self, account_id: int, device_id: int, phone_id: str) -> list[Message]:
        """What a phone means by a message id it was given: the members of that message on it."""
        m = messages.c
        mine = (m.account_id == account_id, m.device_id == device_id)
        statement = (
            select(messages)
            .where(*mine, m.reference == phone_id, m.group_id.is_not(None))
            .order_by(m.id)
        )
        async with self._db.read() as connection:
            found = [rows.message(r) for r in (await connection.execute(statement)).mappings()]
            if found or not phone_id.isdigit() or len(phone_id) > 18:
                return found
            number = int(phone_id)
            statement = (
                select(messages)
                .where(
                    *mine,
                    or_(
                        m.id == number,
                        and_(m.group_id == number, m.reference.is_(None)),
                    ),
                )
                .order_by(m.id)
            )
            return [rows.message(r) for r in (await connection.execute(statement)).mappings()]

    async def register_id(self, account_id: int, external_id: str, *, now: datetime) -> bool:
        """Takes a client message id for the account; False if it is taken (a message has it, or
        one is being accepted with it right now)."""
        statement = self._insert(app_messages).values(
            account_id=account_id, external_id=external_id, created_at=now
        )
        used = select(messages.c.id).where(
            messages.c.account_id == account_id, messages.c.reference == external_id
        )
        async with self._db.write() as connection:
            if (await connection.execute(statement.on_conflict_do_nothing())).rowcount == 1:
                return True
            if (await connection.execute(used.limit(1))).first() is not None:
                return False
            # registered, never stored (the acceptance failed, or the process died): free again
            freed = (
                update(app_messages)
                .where(
                    app_messages.c.account_id == account_id,
                    app_messages.c.external_id == external_id,
                    app_messages.c.created_at < now - ABANDONED,
                )
                .values(created_at=now)
            )
            return bool((await connection.execute(freed)).rowcount == 1)

    async def unregister_id(self, account_id: int, external_id: str) -> None:
        statement = delete(app_messages).where(
            app_messages.c.account_id == account_id, app_messages.c.external_id == external_id
        )
        async with self._db.write() as connection:
            await connection.execute(statement)

    # --- inbound, once ------------------------------------------------------------------------

    async def receive_once(
        self, device_id: int, key: str, items: Sequence[NewInbound], *, now: datetime
    ) -> list[Inbound] | None:
        """Stores the inbound messages of one delivery; None if that delivery was taken in before."""
        receipt = (
            self._insert(receipts)
            .values(device_id=device_id, key=key[:64], received_at=now)
            .on_conflict_do_nothing()
        )
        values = [
            {
                "account_id": i.account_id,
                "device_id": i.device_id,
                "sender": i.sender,
                "text": i.text,
                "sim_slot": i.sim_slot,
                "received_at": i.received_at,
                "created_at": now,
            }
            for i in items
        ]
        async with self._db.write() as connection:
            if (await connection.execute(receipt)).rowcount != 1:
                return None
            # a phone stops retrying a delivery after days; older receipts are no longer needed
            await connection.execute(
                delete(receipts).where(
                    receipts.c.device_id == device_id, receipts.c.received_at < now - RECEIPTS_KEPT
                )
            )
            if not values:
                return []
            statement = insert(inbound).returning(*inbound.c, sort_by_parameter_order=True)
            stored = [
                rows.inbound(r) for r in (await connection.execute(statement, values)).mappings()
            ]
            await self._db.outbox.record(connection, map(events.of_inbound, stored))
            return stored

    # --- sign-in codes ------------------------------------------------------------------------

    async def add_code(
        self, *, code_hash: str, account_id: int, valid_until: datetime, now: datetime
    ) -> bool:
        """False if the code is taken right now (the caller draws another)."""
        async with self._db.write() as connection:
            await connection.execute(
                delete(sign_in_codes).where(sign_in_codes.c.valid_until <= now)
            )
        try:
            async with self._db.write() as connection:
                await connection.execute(
                    insert(sign_in_codes).values(
                        code_hash=code_hash, account_id=account_id, valid_until=valid_until
                    )
                )
        except IntegrityError:
            return False
        return True

    async def take_code(self, code_hash: str, *, now: datetime) -> int | None:
        """The account of a valid code, which is used up by this."""
        statement = (
            delete(sign_in_codes)
            .where(sign_in_codes.c.code_hash == code_hash, sign_in_codes.c.valid_until > now)
            .returning(sign_in_codes.c.account_id)
        )
        async with self._db.write() as connection:
            return (await connection.execute(statement)).scalar()

    # --- the app client API's webhooks and settings -------------------------------------------

    async def list_webhooks(self, account_id: int) -> list[AppWebhook]:
        statement = (
            select(app_webhooks)
            .where(app_webhooks.c.account_id == account_id)
            .order_by(app_webhooks.c.id)
        )
        async with self._db.read() as connection:
            return [
                AppWebhook(
                    id=r["external_id"], device_id=r["device_id"], url=r["url"], event=r["event"]
                )
                for r in (await connection.execute(statement)).mappings()
            ]

    async def put_webhook(self, account_id: int, hook: AppWebhook, *, now: datetime) -> AppWebhook:
        values = {
            "account_id": account_id,
            "external_id": hook.id,
            "device_id": hook.device_id,
            "url": hook.url,
            "event": hook.event,
            "created_at": now,
        }
        statement = self._insert(app_webhooks).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["account_id", "external_id"],
            set_={"device_id": hook.device_id, "url": hook.url, "event": hook.event},
        )
        async with self._db.write() as connection:
            await connection.execute(statement)
        return hook

    async def delete_webhook(self, account_id: int, external_id: str) -> bool:
        statement = delete(app_webhooks).where(
            app_webhooks.c.account_id == account_id, app_webhooks.c.external_id == external_id
        )
        async with self._db.write() as connection:
            return (await connection.execute(statement)).rowcount > 0

    async def get_settings(self, account_id: int) -> dict[str, Any]:
        statement = select(app_settings.c.settings).where(app_settings.c.account_id == account_id)
        async with self._db.read() as connection:
            found = (await connection.execute(statement)).scalar()
        return json.loads(found) if found else {}

    async def put_settings(
        self, account_id: int, settings: dict[str, Any], *, now: datetime
    ) -> None:
        values = {"account_id": account_id, "settings": json.dumps(settings), "updated_at": now}
        statement = self._insert(app_settings).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["account_id"], set_={"settings": values["settings"], "updated_at": now}
        )
        async with self._db.write() as connection:
            await connection.execute(statement)
