"""Contact lists, contacts and the opt-out list of an account (core/campaigns.py has the rules)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from smsgate.core import campaigns as rules
from smsgate.core import errors, numbers
from smsgate.core.accounts import Account
from smsgate.core.campaigns import Contact, ContactList, NewContact, OptOut
from smsgate.core.messages import Inbound, Page
from smsgate.service.context import Context

MAX_IMPORT = 100_000  # contacts in one call (the CLI imports a file in chunks of this or less)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactInput:
    """A contact as a door or a file gives it: the number as written."""

    phone: str
    name: str | None = None
    fields: Mapping[str, object] = field(default_factory=dict)
    lists: tuple[int, ...] = ()  # lists of this contact alone (beside those of the whole call)


@dataclass(frozen=True, slots=True, kw_only=True)
class Imported:
    contacts: builtins.list[Contact]
    refused: builtins.list[tuple[int, str]]  # (index in the input, why)


class Contacts:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    # --- lists --------------------------------------------------------------------------------

    async def create_list(self, name: str, *, account: Account) -> ContactList:
        return await self._ctx.contacts.add_list(
            account.id, rules.checked_name(name, "list name"), now=self._ctx.clock.now()
        )

    async def list_named(self, name: str, *, account: Account) -> ContactList:
        """The list of this name, made if there is none (an import into a named list)."""
        return await self._ctx.contacts.list_named(
            account.id, rules.checked_name(name, "list name"), now=self._ctx.clock.now()
        )

    async def lists(self, *, account: Account) -> builtins.list[ContactList]:
        return await self._ctx.contacts.lists(account.id)

    async def get_list(self, list_id: int, *, account: Account) -> ContactList:
        return await self._ctx.contacts.get_list(account.id, list_id)

    async def delete_list(self, list_id: int, *, account: Account) -> ContactList:
        return await self._ctx.contacts.delete_list(account.id, list_id)

    async def check_lists(self, list_ids: Sequence[int], *, account: Account) -> None:
        """NotFound naming the first list that is not this account's."""
        known = {lst.id for lst in await self._ctx.contacts.lists(account.id, list(list_ids))}
        for list_id in list_ids:
            if list_id not in known:
                raise errors.NotFound(f"contact list {list_id} not found")

    # --- contacts -----------------------------------------------------------------------------

    def _read(self, item: ContactInput) -> NewContact:
        number = numbers.parse(item.phone, self._ctx.policy.default_region)
        name = item.name.strip() if item.name is not None else None
        if name is not None and len(name) > rules.MAX_NAME:
            raise errors.BadParameter(f"the name has at most {rules.MAX_NAME} characters")
        return NewContact(
            phone=number.e164,
            phone_original=number.original[:64],
            country=number.country,
            name=name,
            fields=rules.checked_fields(item.fields),
        )

    async def add(
        self, item: ContactInput, *, account: Account, lists: Sequence[int] = ()
    ) -> Contact:
        """Adds a contact, or updates the one with this number; puts it in these lists."""
        new = self._read(item)
        lists = tuple(dict.fromkeys((*lists, *item.lists)))
        await self.check_lists(lists, account=account)
        stored = await self._ctx.contacts.upsert(
            account.id, [new], list_ids=lists, now=self._ctx.clock.now()
        )
        return await self._ctx.contacts.get(account.id, stored[0].id)

    async def add_many(
        self,
        items: Sequence[ContactInput],
        *,
        account: Account,
        lists: Sequence[int] = (),
        strict: bool = True,
    ) -> Imported:
        """Many contacts in one transaction. `strict`: one bad entry writes nothing (and the error
        names it); otherwise bad entries are refused and reported, the others written."""
        if len(items) > MAX_IMPORT:
            raise errors.InvalidInput(f"at most {MAX_IMPORT} contacts at once")
        news, refused, own = [], [], []
        for index, item in enumerate(items):
            try:
                news.append(self._read(item))
                own += [(news[-1].phone, list_id) for list_id in item.lists]
            except errors.GatewayError as exc:
                if strict:
                    exc.context.setdefault("index", index)
                    exc.detail = f"contact {index}: {exc.detail}"
                    raise
                refused.append((index, exc.detail))
        await self.check_lists(sorted({*lists, *(list_id for _, list_id in own)}), account=account)
        stored = await self._ctx.contacts.upsert(
            account.id, news, list_ids=lists, now=self._ctx.clock.now(), own_lists=own
        )
        return Imported(contacts=stored, refused=refused)

    async def list(
        self,
        *,
        account: Account,
        list_id: int | None = None,
        phone: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> Page[Contact]:
        if list_id is not None:
            await self.get_list(list_id, account=account)
        e164 = numbers.parse(phone, self._ctx.policy.default_region).e164 if phone else None
        return await self._ctx.contacts.contacts(
            account.id, list_id=list_id, phone=e164, before_id=before_id, limit=limit
        )

    async def get(self, contact_id: int, *, account: Account) -> Contact:
        return await self._ctx.contacts.get(account.id, contact_id)

    async def delete(self, contact_id: int, *, account: Account) -> Contact:
        return await self._ctx.contacts.delete(account.id, contact_id)

    async def add_to_list(self, contact_id: int, list_id: int, *, account: Account) -> Contact:
        await self._ctx.contacts.add_to_list(account.id, contact_id, list_id)
        return await self.get(contact_id, account=account)

    async def remove_from_list(self, contact_id: int, list_id: int, *, account: Account) -> Contact:
        await self._ctx.contacts.remove_from_list(account.id, contact_id, list_id)
        return await self.get(contact_id, account=account)

    async def count_in(self, list_ids: Sequence[int], *, account: Account) -> int:
        return await self._ctx.contacts.count_in(account.id, list_ids)

    # --- the opt-out list ---------------------------------------------------------------------

    async def opt_out(self, phones: Sequence[str], *, account: Account, source: str = "api") -> int:
        """Numbers no campaign will send to; how many were new on the list."""
        region = self._ctx.policy.default_region
        e164 = [numbers.parse(p, region).e164 for p in phones]
        return await self._ctx.contacts.opt_out(
            account.id, e164, source=source, now=self._ctx.clock.now()
        )

    async def opt_in(self, phone: str, *, account: Account) -> None:
        e164 = numbers.parse(phone, self._ctx.policy.default_region).e164
        await self._ctx.contacts.opt_in(account.id, e164)

    async def optouts(
        self, *, account: Account, phone: str | None = None, after: str = "", limit: int = 100
    ) -> builtins.list[OptOut]:
        e164 = numbers.parse(phone, self._ctx.policy.default_region).e164 if phone else None
        return await self._ctx.contacts.optouts(account.id, phone=e164, after=after, limit=limit)

    async def replies(self, stored: Sequence[Inbound]) -> int:
        """Inbound messages that are a stop word put their senders on their account's opt-out list
        (called for every inbound message, whichever door took it in); how many were added."""
        words = self._ctx.policy.stop_words
        by_account: dict[int, builtins.list[str]] = {}
        for message in stored:
            if not rules.is_stop(message.text, words):
                continue
            try:
                number = numbers.parse(message.sender, self._ctx.policy.default_region)
            except errors.GatewayError:
                continue  # an alphanumeric sender cannot be sent to anyway
            by_account.setdefault(message.account_id, []).append(number.e164)
        added = 0
        for account_id, phones in by_account.items():
            added += await self._ctx.contacts.opt_out(
                account_id, phones, source="reply", now=self._ctx.clock.now()
            )
        return added
