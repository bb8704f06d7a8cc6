"""Contact lists, contacts (one row per number of an account) and the opt-out list."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgate.core import errors
from smsgate.core.campaigns import Contact, ContactList, NewContact, OptOut
from smsgate.core.messages import Page
from smsgate.storage.database import Database
from smsgate.storage.rows import Row
from smsgate.storage.sql import contact_lists, contacts, list_members, optouts

CHUNK = 500  # contacts per statement on import


def _list(row: Row, size: int = 0) -> ContactList:
    return ContactList(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        created_at=row["created_at"],
        size=size,
    )


def _contact(row: Row, lists: Sequence[int] = ()) -> Contact:
    return Contact(
        id=row["id"],
        account_id=row["account_id"],
        phone=row["phone"],
        phone_original=row["phone_original"],
        country=row["country"],
        name=row["name"],
        fields=json.loads(row["fields"] or "{}"),
        created_at=row["created_at"],
        lists=tuple(lists),
    )


def member_of(list_ids: Sequence[int]) -> Any:
    """Contacts in any of these lists (each contact once, however many of them it is in)."""
    return exists().where(
        list_members.c.contact_id == contacts.c.id, list_members.c.list_id.in_(list_ids)
    )


class ContactStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _insert(self, table: Any) -> Any:
        return (sqlite.insert if self._db.is_sqlite else postgresql.insert)(table)

    # --- lists --------------------------------------------------------------------------------

    async def add_list(self, account_id: int, name: str, *, now: datetime) -> ContactList:
        statement = insert(contact_lists).values(account_id=account_id, name=name, created_at=now)
        try:
            async with self._db.write() as connection:
                row = (
                    (await connection.execute(statement.returning(*contact_lists.c)))
                    .mappings()
                    .one()
                )
        except IntegrityError:
            raise errors.Conflict(f"a list named {name!r} exists already") from None
        return _list(row)

    async def list_named(self, account_id: int, name: str, *, now: datetime) -> ContactList:
        """The list of that name, made if there is none yet."""
        statement = (
            self._insert(contact_lists)
            .values(account_id=account_id, name=name, created_at=now)
            .on_conflict_do_nothing(index_elements=["account_id", "name"])
        )
        async with self._db.write() as connection:
            await connection.execute(statement)
            row = (
                (
                    await connection.execute(
                        select(contact_lists).where(
                            contact_lists.c.account_id == account_id, contact_lists.c.name == name
                        )
                    )
                )
                .mappings()
                .one()
            )
        return _list(row)

    async def lists(self, account_id: int, ids: Sequence[int] | None = None) -> list[ContactList]:
        size = (
            select(func.count())
            .where(list_members.c.list_id == contact_lists.c.id)
            .scalar_subquery()
        )
        statement = select(contact_lists, size.label("size")).where(
            contact_lists.c.account_id == account_id
        )
        if ids is not None:
            statement = statement.where(contact_lists.c.id.in_(ids))
        async with self._db.read() as connection:
            found = (await connection.execute(statement.order_by(contact_lists.c.id))).mappings()
            return [_list(r, r["size"]) for r in found]

    async def get_list(self, account_id: int, list_id: int) -> ContactList:
        found = await self.lists(account_id, [list_id])
        if not found:
            raise errors.NotFound(f"contact list {list_id} not found")
        return found[0]

    async def delete_list(self, account_id: int, list_id: int) -> ContactList:
        found = await self.get_list(account_id, list_id)
        async with self._db.write() as connection:
            await connection.execute(delete(list_members).where(list_members.c.list_id == list_id))
            await connection.execute(
                delete(contact_lists).where(
                    contact_lists.c.id == list_id, contact_lists.c.account_id == account_id
                )
            )
        return found

    # --- contacts -----------------------------------------------------------------------------

    async def upsert(
        self,
        account_id: int,
        news: Sequence[NewContact],
        *,
        list_ids: Sequence[int] = (),
        now: datetime,
        own_lists: Sequence[tuple[str, int]] = (),
    ) -> list[Contact]:
        """Adds or updates contacts by number (name and fields given are written over the stored
        ones) and puts them in these lists (and each number in its `own_lists`: (phone, list));
        one transaction. A number given twice is one contact."""
        merged: dict[str, NewContact] = {}
        for new in news:
            before = merged.get(new.phone)
            if before is not None:
                new = NewContact(
                    phone=new.phone,
                    phone_original=new.phone_original,
                    country=new.country,
                    name=new.name if new.name is not None else before.name,
                    fields={**before.fields, **new.fields},
                )
            merged[new.phone] = new
        found: list[Contact] = []
        items = list(merged.values())
        async with self._db.write() as connection:
            for start in range(0, len(items), CHUNK):
                found += await self._upsert_chunk(
                    connection, account_id, items[start : start + CHUNK], list_ids, now
                )
            ids = {c.phone: c.id for c in found}
            members = [{"list_id": lst, "contact_id": ids[phone]} for phone, lst in own_lists]
            for start in range(0, len(members), CHUNK):
                await connection.execute(
                    self._insert(list_members)
                    .values(members[start : start + CHUNK])
                    .on_conflict_do_nothing()
                )
        return found

    async def _upsert_chunk(
        self,
        connection: AsyncConnection,
        account_id: int,
        chunk: Sequence[NewContact],
        list_ids: Sequence[int],
        now: datetime,
    ) -> list[Contact]:
        c = contacts.c
        stored = {
            r["phone"]: r
            for r in (
                await connection.execute(
                    select(c.phone, c.name, c.fields).where(
                        c.account_id == account_id, c.phone.in_([n.phone for n in chunk])
                    )
                )
            ).mappings()
        }
        values = []
        for new in chunk:
            old = stored.get(new.phone)
            fields = {**(json.loads(old["fields"] or "{}") if old else {}), **new.fields}
            name = new.name if new.name is not None else (old["name"] if old else "")
            values.append(
                {
                    "account_id": account_id,
                    "phone": new.phone,
                    "phone_original": new.phone_original,
                    "country": new.country,
                    "name": name,
                    "fields": json.dumps(fields, ensure_ascii=False),
                    "created_at": now,
                }
            )
        statement = self._insert(contacts).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["account_id", "phone"],
            set_={"name": statement.excluded.name, "fields": statement.excluded.fields},
        ).returning(*contacts.c)
        rows = list((await connection.execute(statement)).mappings())
        if list_ids:
            members = [{"list_id": lst, "contact_id": r["id"]} for r in rows for lst in list_ids]
            await connection.execute(
                self._insert(list_members).values(members).on_conflict_do_nothing()
            )
        return [_contact(r, list_ids) for r in rows]

    async def contacts(
        self,
        account_id: int,
        *,
        list_id: int | None = None,
        phone: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> Page[Contact]:
        c = contacts.c
        statement = select(contacts).where(c.account_id == account_id)
        if list_id is not None:
            statement = statement.where(member_of([list_id]))
        if phone is not None:
            statement = statement.where(c.phone == phone)
        if before_id is not None:
            statement = statement.where(c.id < before_id)
        statement = statement.order_by(c.id.desc()).limit(limit + 1)
        async with self._db.read() as connection:
            rows = list((await connection.execute(statement)).mappings())
            memberships = await self._memberships(connection, [r["id"] for r in rows[:limit]])
        items = [_contact(r, memberships.get(r["id"], ())) for r in rows[:limit]]
        return Page(items, items[-1].id if len(rows) > limit and items else None)

    async def _memberships(
        self, connection: AsyncConnection, contact_ids: Sequence[int]
    ) -> dict[int, list[int]]:
        if not contact_ids:
            return {}
        found: dict[int, list[int]] = {}
        statement = (
            select(list_members.c.contact_id, list_members.c.list_id)
            .where(list_members.c.contact_id.in_(contact_ids))
            .order_by(list_members.c.list_id)
        )
        for contact_id, list_id in (await connection.execute(statement)).all():
            found.setdefault(contact_id, []).append(list_id)
        return found

    async def get(self, account_id: int, contact_id: int) -> Contact:
        statement = select(contacts).where(
            contacts.c.account_id == account_id, contacts.c.id == contact_id
        )
        async with self._db.read() as connection:
            row = (await connection.execute(statement)).mappings().first()
            if row is None:
                raise errors.NotFound(f"contact {contact_id} not found")
            memberships = await self._memberships(connection, [contact_id])
        return _contact(row, memberships.get(contact_id, ()))

    async def delete(self, account_id: int, contact_id: int) -> Contact:
        found = await self.get(account_id, contact_id)
        async with self._db.write() as connection:
            await connection.execute(
                delete(list_members).where(list_members.c.contact_id == contact_id)
            )
            await connection.execute(
                delete(contacts).where(
                    contacts.c.id == contact_id, contacts.c.account_id == account_id
                )
            )
        return found

    async def add_to_list(self, account_id: int, contact_id: int, list_id: int) -> None:
        await self.get(account_id, contact_id)
        await self.get_list(account_id, list_id)
        async with self._db.write() as connection:
            await connection.execute(
                self._insert(list_members)
                .values(list_id=list_id, contact_id=contact_id)
                .on_conflict_do_nothing()
            )

    async def remove_from_list(self, account_id: int, contact_id: int, list_id: int) -> None:
        await self.get_list(account_id, list_id)
        async with self._db.write() as connection:
            done = await connection.execute(
                delete(list_members).where(
                    list_members.c.list_id == list_id, list_members.c.contact_id == contact_id
                )
            )
        if done.rowcount == 0:
            raise errors.NotFound(f"contact {contact_id} is not in list {list_id}")

    async def count_in(self, account_id: int, list_ids: Sequence[int]) -> int:
        """Distinct numbers in any of these lists."""
        statement = (
            select(func.count())
            .select_from(contacts)
            .where(contacts.c.account_id == account_id, member_of(list_ids))
        )
        async with self._db.read() as connection:
            return int((await connection.execute(statement)).scalar_one())

    # --- the opt-out list ---------------------------------------------------------------------

    async def opt_out(
        self, account_id: int, phones: Sequence[str], *, source: str, now: datetime
    ) -> int:
        """Adds numbers to the account's opt-out list; how many were not on it yet."""
        if not phones:
            return 0
        values = [
            {"account_id": account_id, "phone": p, "source": source[:20], "created_at": now}
            for p in dict.fromkeys(phones)
        ]
        statement = self._insert(optouts).values(values).on_conflict_do_nothing()
        async with self._db.write() as connection:
            return max(0, (await connection.execute(statement)).rowcount or 0)

    async def opt_in(self, account_id: int, phone: str) -> None:
        async with self._db.write() as connection:
            done = await connection.execute(
                delete(optouts).where(optouts.c.account_id == account_id, optouts.c.phone == phone)
            )
        if done.rowcount == 0:
            raise errors.NotFound(f"{phone} is not on the opt-out list")

    async def optouts(
        self, account_id: int, *, phone: str | None = None, after: str = "", limit: int = 100
    ) -> list[OptOut]:
        statement = select(optouts).where(optouts.c.account_id == account_id)
        if phone is not None:
            statement = statement.where(optouts.c.phone == phone)
        statement = statement.where(optouts.c.phone > after).order_by(optouts.c.phone).limit(limit)
        async with self._db.read() as connection:
            return [
                OptOut(
                    account_id=r["account_id"],
                    phone=r["phone"],
                    source=r["source"],
                    created_at=r["created_at"],
                )
                for r in (await connection.execute(statement)).mappings()
            ]
