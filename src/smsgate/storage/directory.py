"""Accounts, API keys, devices and inbound messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from smsgate.core import errors, events
from smsgate.core.accounts import Account, ApiKey
from smsgate.core.devices import Device, DeviceChanges, Heartbeat, Kind, Limits
from smsgate.core.events import NewEvent
from smsgate.core.messages import Inbound, MessageFilter, NewInbound, Page
from smsgate.storage import filters, rows
from smsgate.storage.database import Database
from smsgate.storage.sql import accounts, api_keys, devices, inbound


class Directory:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- accounts and keys --------------------------------------------------------------------

    async def add_account(
        self,
        *,
        email: str,
        password_hash: str,
        is_admin: bool,
        now: datetime,
        password_md5_hash: str | None = None,
    ) -> Account:
        statement = insert(accounts).values(
            email=email,
            password_hash=password_hash,
            password_md5_hash=password_md5_hash,
            is_admin=is_admin,
            created_at=now,
        )
        try:
            async with self._db.write() as connection:
                account_id = (
                    await connection.execute(statement.returning(accounts.c.id))
                ).scalar_one()
        except IntegrityError:
            raise errors.Conflict(f"an account with the email {email} exists already") from None
        return Account(id=account_id, email=email, is_admin=is_admin, created_at=now)

    async def find_account_by_email(self, email: str) -> tuple[Account, str, str | None] | None:
        """The account, its password hash and the hash of its password's md5 (None if unset)."""
        async with self._db.read() as connection:
            row = (
                (await connection.execute(select(accounts).where(accounts.c.email == email)))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return rows.account(row), row["password_hash"], row["password_md5_hash"]

    async def get_account(self, account_id: int) -> Account:
        async with self._db.read() as connection:
            row = (
                (await connection.execute(select(accounts).where(accounts.c.id == account_id)))
                .mappings()
                .first()
            )
        if row is None:
            raise errors.NotFound(f"account {account_id} not found")
        return rows.account(row)

    async def list_accounts(self) -> list[Account]:
        async with self._db.read() as connection:
            found = (await connection.execute(select(accounts).order_by(accounts.c.id))).mappings()
            return [rows.account(r) for r in found]

    async def set_password(
        self, account_id: int, password_hash: str, password_md5_hash: str | None = None
    ) -> None:
        async with self._db.write() as connection:
            await connection.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(password_hash=password_hash, password_md5_hash=password_md5_hash)
            )

    async def count_accounts(self) -> int:
        async with self._db.read() as connection:
            return (
                await connection.execute(select(func.count()).select_from(accounts))
            ).scalar_one()

    async def add_key(
        self, *, account_id: int, name: str, prefix: str, key_hash: str, now: datetime
    ) -> ApiKey:
        values = {
            "account_id": account_id,
            "name": name,
            "prefix": prefix,
            "key_hash": key_hash,
            "created_at": now,
        }
        try:
            async with self._db.write() as connection:
                key_id = (
                    await connection.execute(
                        insert(api_keys).values(values).returning(api_keys.c.id)
                    )
                ).scalar_one()
        except IntegrityError:
            raise errors.Conflict("this key exists already") from None
        return ApiKey(id=key_id, account_id=account_id, name=name, prefix=prefix, created_at=now)

    async def list_keys(self, account_id: int) -> list[ApiKey]:
        statement = (
            select(api_keys).where(api_keys.c.account_id == account_id).order_by(api_keys.c.id)
        )
        async with self._db.read() as connection:
            return [rows.api_key(r) for r in (await connection.execute(statement)).mappings()]

    async def revoke_key(self, account_id: int, key_id: int, *, now: datetime) -> ApiKey:
        statement = (
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.account_id == account_id)
            .values(revoked_at=func.coalesce(api_keys.c.revoked_at, now))
            .returning(*api_keys.c)
        )
        async with self._db.write() as connection:
            row = (await connection.execute(statement)).mappings().first()
        if row is None:
            raise errors.NotFound(f"API key {key_id} not found")
        return rows.api_key(row)

    async def find_account_by_key(self, key_hash: str) -> Account | None:
        statement = (
            select(accounts)
            .join(api_keys, api_keys.c.account_id == accounts.c.id)
            .where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
        )
        async with self._db.read() as connection:
            row = (await connection.execute(statement)).mappings().first()
        return rows.account(row) if row else None

    # --- devices ------------------------------------------------------------------------------

    async def add_device(
        self,
        *,
        account_id: int,
        name: str,
        kind: Kind,
        token_hash: str | None,
        limits: Limits,
        now: datetime,
    ) -> Device:
        values = {
            "account_id": account_id,
            "name": name,
            "kind": kind.value,
            "token_hash": token_hash,
            "sims": "[]",
            "created_at": now,
            **rows.limits_values(limits),
        }
        async with self._db.write() as connection:
            row = (
                (await connection.execute(insert(devices).values(values).returning(*devices.c)))
                .mappings()
                .one()
            )
        return rows.device(row)

    async def find_device(self, account_id: int, device_id: int) -> Device | None:
        statement = select(devices).where(
            devices.c.id == device_id, devices.c.account_id == account_id
        )
        async with self._db.read() as connection:
            row = (await connection.execute(statement)).mappings().first()
        return rows.device(row) if row else None

    async def get_device(self, account_id: int, device_id: int) -> Device:
        device = await self.find_device(account_id, device_id)
        if device is None:
            raise errors.NotFound(f"device {device_id} not found")
        return device

    async def find_device_by_token(self, token_hash: str) -> Device | None:
        async with self._db.read() as connection:
            row = (
                (
                    await connection.execute(
                        select(devices).where(devices.c.token_hash == token_hash)
                    )
                )
                .mappings()
                .first()
            )
        return rows.device(row) if row else None

    async def list_devices(
        self,
        account_id: int | None,
        *,
        archived: bool | None = False,
        ids: Sequence[int] | None = None,
        kind: Kind | None = None,
    ) -> list[Device]:
        statement = select(devices).order_by(devices.c.id)
        if account_id is not None:
            statement = statement.where(devices.c.account_id == account_id)
        if archived is not None:
            statement = statement.where(devices.c.archived == archived)
        if ids is not None:
            statement = statement.where(devices.c.id.in_(ids))
        if kind is not None:
            statement = statement.where(devices.c.kind == kind.value)
        async with self._db.read() as connection:
            return [rows.device(r) for r in (await connection.execute(statement)).mappings()]

    async def change_device(
        self, account_id: int, device_id: int, changes: DeviceChanges
    ) -> Device:
        values: dict[str, Any] = {}
        if changes.name is not None:
            values["name"] = changes.name
        if changes.enabled is not None:
            values["enabled"] = changes.enabled
        if changes.limits is not None:
            values.update(rows.limits_values(changes.limits))
        if changes.sim_limits is not None:
            values["sim_limits"] = rows.sim_limits_json(changes.sim_limits)
        if changes.sim_numbers is not None:
            values["sim_numbers"] = rows.sim_numbers_json(changes.sim_numbers)
        return await self._update_device(account_id, device_id, values)

    async def archive_device(self, account_id: int, device_id: int) -> Device:
        return await self._update_device(
            account_id, device_id, {"archived": True, "token_hash": None}
        )

    async def heartbeat(self, device_id: int, beat: Heartbeat, *, now: datetime) -> None:
        """Last seen now; a phone heard from again is online, one whose battery falls low says so
        (events written with the change)."""
        values: dict[str, Any] = {"last_seen_at": now, "reachable": True}
        for name in ("battery", "charging", "app_version", "manufacturer", "model", "os_version"):
            if getattr(beat, name) is not None:
                values[name] = getattr(beat, name)
        if beat.sims is not None:
            values["sims"] = rows.sims_json(beat.sims)
        before = select(
            devices.c.account_id, devices.c.kind, devices.c.reachable, devices.c.battery
        ).where(devices.c.id == device_id)
        async with self._db.write() as connection:
            old = (await connection.execute(before)).first()
            await connection.execute(
                update(devices).where(devices.c.id == device_id).values(values)
            )
            if old is not None:
                found = events.of_heartbeat(
                    account_id=old.account_id,
                    device_id=device_id,
                    phone=old.kind == Kind.ANDROID.value,
                    was_online=old.reachable,
                    battery_before=old.battery,
                    battery=beat.battery,
                    at=now,
                )
                await self._db.outbox.record(connection, found)

    async def mark_offline(self, *, silent_since: datetime, now: datetime) -> int:
        """Phones not heard from since `silent_since` are offline (a device.offline event each)."""
        statement = (
            update(devices)
            .where(
                devices.c.reachable,
                devices.c.kind == Kind.ANDROID.value,
                devices.c.last_seen_at < silent_since,
            )
            .values(reachable=False)
            .returning(devices.c.id, devices.c.account_id)
        )
        async with self._db.write() as connection:
            gone = (await connection.execute(statement)).all()
            await self._db.outbox.record(
                connection,
                (
                    NewEvent(
                        account_id=account_id, kind=events.Kind.DEVICE_OFFLINE, at=now, device_id=i
                    )
                    for i, account_id in gone
                ),
            )
        return len(gone)

    async def _update_device(
        self, account_id: int, device_id: int, values: dict[str, Any]
    ) -> Device:
        if not values:
            return await self.get_device(account_id, device_id)
        statement = (
            update(devices)
            .where(devices.c.id == device_id, devices.c.account_id == account_id)
            .values(values)
            .returning(*devices.c)
        )
        async with self._db.write() as connection:
            row = (await connection.execute(statement)).mappings().first()
        if row is None:
            raise errors.NotFound(f"device {device_id} not found")
        return rows.device(row)

    # --- inbound ------------------------------------------------------------------------------

    async def add_inbound(self, items: Sequence[NewInbound], *, now: datetime) -> list[Inbound]:
        if not items:
            return []
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
        statement = insert(inbound).returning(*inbound.c, sort_by_parameter_order=True)
        async with self._db.write() as connection:
            stored = [
                rows.inbound(r) for r in (await connection.execute(statement, values)).mappings()
            ]
            await self._db.outbox.record(connection, map(events.of_inbound, stored))
        return stored

    def _inbound_where(self, account_id: int, f: MessageFilter) -> list[Any]:
        clauses: list[Any] = filters.common(inbound, inbound.c.received_at, account_id, f)
        if f.phone is not None:
            clauses.append(inbound.c.sender == f.phone)
        if f.phones is not None:
            clauses.append(inbound.c.sender.in_(f.phones))
        if f.sim_slot is not None:
            clauses.append(inbound.c.sim_slot == f.sim_slot)
        return clauses

    async def count_inbound(self, account_id: int, f: MessageFilter) -> int:
        statement = (
            select(func.count()).select_from(inbound).where(*self._inbound_where(account_id, f))
        )
        async with self._db.read() as connection:
            return int((await connection.execute(statement)).scalar_one())

    async def list_inbound(self, account_id: int, f: MessageFilter) -> Page[Inbound]:
        order = inbound.c.id.asc() if f.ascending else inbound.c.id.desc()
        statement = (
            select(inbound)
            .where(*self._inbound_where(account_id, f))
            .order_by(order)
            .limit(f.limit + 1)
        )
        async with self._db.read() as connection:
            found = [rows.inbound(r) for r in (await connection.execute(statement)).mappings()]
        more = len(found) > f.limit
        items = found[: f.limit]
        return Page(items, items[-1].id if more and items else None)

    async def delete_inbound(self, account_id: int, f: MessageFilter) -> list[Inbound]:
        statement = delete(inbound).where(*self._inbound_where(account_id, f)).returning(*inbound.c)
        async with self._db.write() as connection:
            found = [rows.inbound(r) for r in (await connection.execute(statement)).mappings()]
        return sorted(found, key=lambda i: i.id)
