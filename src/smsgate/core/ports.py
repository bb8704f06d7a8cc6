"""Ports: the small protocols the core asks of the world, so the service never names a concrete class.

Storage implements the stores, `core.clock` the clock, and every server-side channel (the
simulated phone, SMPP, an HTTP upstream, a modem) implements `Channel`; the channel runner
(`smsgate.channels.runner`) drives a channel through the gateway's `Dispatcher` operations.
Each protocol holds exactly what its callers use today: nothing speculative.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from smsgate.core import events
from smsgate.core.accounts import Account, ApiKey
from smsgate.core.billing import Balance, Price
from smsgate.core.campaigns import (
    Campaign,
    CampaignState,
    Contact,
    ContactList,
    NewCampaign,
    NewContact,
    OptOut,
    Recipient,
)
from smsgate.core.devices import Device, DeviceChanges, Heartbeat, Kind, Limits
from smsgate.core.limits import Limit
from smsgate.core.messages import (
    Inbound,
    Message,
    MessageFilter,
    NewInbound,
    NewMessage,
    Page,
    Received,
    Report,
    ReportResult,
    State,
)
from smsgate.core.routing import DeviceQueue


class Clock(Protocol):
    def now(self) -> datetime:
        """Tz-aware UTC."""
        ...


class MessageStore(Protocol):
    """Outbound messages: accepted durably, listed, changed, leased to devices, reported, swept."""

    async def add(self, news: Sequence[NewMessage]) -> builtins.list[Message]:
        """Committed before it returns; concurrent callers may share one transaction."""
        ...

    async def add_many(self, news: Sequence[NewMessage]) -> builtins.list[Message]: ...
    async def drain(self) -> None:
        """Waits for writes in progress (before the database closes)."""
        ...

    async def get(self, account_id: int, message_id: int) -> Message: ...
    async def list_page(self, account_id: int, f: MessageFilter) -> Page[Message]: ...
    async def count_matching(self, account_id: int, f: MessageFilter) -> int: ...
    async def count(self, account_id: int | None = None) -> dict[State, int]: ...
    async def max_id(self) -> int: ...
    async def cancel(self, account_id: int, message_id: int, *, now: datetime) -> Message: ...
    async def cancel_matching(
        self, account_id: int, f: MessageFilter, *, now: datetime
    ) -> builtins.list[Message]: ...
    async def delete(self, account_id: int, message_id: int) -> Message: ...
    async def delete_matching(
        self, account_id: int, f: MessageFilter
    ) -> builtins.list[Message]: ...

    async def lease(
        self,
        *,
        device_id: int,
        limit: int,
        now: datetime,
        until: datetime,
        account_id: int | None = None,
    ) -> builtins.list[Message]:
        """Up to `limit` due messages for one device within its limits; each to exactly one device."""
        ...

    async def report(
        self, *, account_id: int, device_id: int, reports: Sequence[Report], now: datetime
    ) -> builtins.list[ReportResult]:
        """A device's batch of statuses, in one transaction; results in the batch's order."""
        ...

    async def device_queue(self, device: Device, *, now: datetime) -> DeviceQueue: ...

    # the dispatch sweep; each returns the (account, device) pairs to wake
    async def promote_due(self, *, now: datetime) -> builtins.list[tuple[int, int | None]]: ...
    async def release_expired_leases(
        self, *, now: datetime
    ) -> builtins.list[tuple[int, int | None]]: ...
    async def expire(self, *, now: datetime) -> builtins.list[tuple[int, int | None]]: ...
    async def fail_lost(
        self, *, now: datetime, older_than: datetime
    ) -> builtins.list[tuple[int, int | None]]: ...
    async def retries_due(
        self, *, after: datetime, now: datetime
    ) -> builtins.list[tuple[int, int | None]]: ...


class Directory(Protocol):
    """Accounts and their keys, devices, and inbound messages."""

    async def add_account(
        self,
        *,
        email: str,
        password_hash: str,
        is_admin: bool,
        now: datetime,
        password_md5_hash: str | None = None,
    ) -> Account: ...
    async def get_account(self, account_id: int) -> Account: ...
    async def find_account_by_email(self, email: str) -> tuple[Account, str, str | None] | None: ...
    async def list_accounts(self) -> list[Account]: ...
    async def count_accounts(self) -> int: ...
    async def set_password(
        self, account_id: int, password_hash: str, password_md5_hash: str | None = None
    ) -> None: ...

    async def add_key(
        self, *, account_id: int, name: str, prefix: str, key_hash: str, now: datetime
    ) -> ApiKey: ...
    async def list_keys(self, account_id: int) -> list[ApiKey]: ...
    async def revoke_key(self, account_id: int, key_id: int, *, now: datetime) -> ApiKey: ...
    async def find_account_by_key(self, key_hash: str) -> Account | None: ...

    async def add_device(
        self,
        *,
        account_id: int,
        name: str,
        kind: Kind,
        token_hash: str | None,
        limits: Limits,
        now: datetime,
    ) -> Device: ...
    async def find_device(self, account_id: int, device_id: int) -> Device | None: ...
    async def get_device(self, account_id: int, device_id: int) -> Device: ...
    async def find_device_by_token(self, token_hash: str) -> Device | None: ...
    async def list_devices(
        self,
        account_id: int | None,
        *,
        archived: bool | None = False,
        ids: Sequence[int] | None = None,
        kind: Kind | None = None,
    ) -> list[Device]: ...
    async def change_device(
        self, account_id: int, device_id: int, changes: DeviceChanges
    ) -> Device: ...
    async def archive_device(self, account_id: int, device_id: int) -> Device: ...
    async def heartbeat(self, device_id: int, beat: Heartbeat, *, now: datetime) -> None: ...
    async def mark_offline(self, *, silent_since: datetime, now: datetime) -> int: ...

    async def add_inbound(self, items: Sequence[NewInbound], *, now: datetime) -> list[Inbound]: ...
    async def list_inbound(self, account_id: int, f: MessageFilter) -> Page[Inbound]: ...
    async def count_inbound(self, account_id: int, f: MessageFilter) -> int: ...
    async def delete_inbound(self, account_id: int, f: MessageFilter) -> list[Inbound]: ...


class Ledger(Protocol):
    """The price list and the balances. A balance is debited by the message store itself, in the
    transaction that accepts the messages it pays for; refunds are swept."""

    async def replace_prices(self, found: Sequence[Price], *, now: datetime) -> int: ...
    async def list_prices(self) -> builtins.list[Price]: ...
    async def balance(self, account_id: int) -> Balance | None: ...
    async def balances(self, account_ids: Iterable[int]) -> dict[int, Balance]: ...
    async def set_balance(
        self, account_id: int, balance: Balance | None, *, now: datetime
    ) -> Balance | None: ...
    async def top_up(self, account_id: int, amount: int, *, now: datetime) -> Balance: ...
    async def debit_now(self, account_id: int, amount: int, *, now: datetime) -> None: ...
    async def refund_due(self, *, now: datetime) -> int: ...


class Limiter(Protocol):
    """Request limits counted where every node sees them (core/limits.py)."""

    async def hit(self, key: str, limits: Sequence[Limit], *, now: datetime) -> None:
        """Counts one request; raises errors.TooManyRequests when a limit is exceeded."""
        ...

    async def sweep(self, *, now: datetime) -> int: ...


class Telegram(Protocol):
    """A Telegram bot that sends notifications (the Bot API's sendMessage)."""

    async def send(self, chat_id: str, text: str) -> None:
        """Raises errors.Unavailable when the API cannot be reached or refuses."""
        ...


class WebhookStore(Protocol):
    """Webhooks, the fan-out of the events outbox, deliveries as jobs, their log."""

    def on_written(self, listener: Callable[[], None]) -> None: ...
    async def add(
        self,
        *,
        account_id: int,
        url: str,
        kinds: frozenset[events.Kind],
        number: str | None,
        secret: str,
        now: datetime,
    ) -> events.Webhook: ...
    async def list(self, account_id: int) -> builtins.list[events.Webhook]: ...
    async def get(self, account_id: int, webhook_id: int) -> events.Webhook: ...
    async def change(
        self, account_id: int, webhook_id: int, values: dict[str, Any]
    ) -> events.Webhook: ...
    async def delete(self, account_id: int, webhook_id: int) -> events.Webhook: ...
    async def step(
        self,
        results: Sequence[tuple[events.Job, events.Attempt]],
        *,
        now: datetime,
        plan: events.RetryPlan,
        fan_out: int,
        give_up_after: timedelta,
        render: events.Render,
        claim: int,
        lease: timedelta,
        per_webhook: int,
        inflight: Mapping[int, int],
    ) -> tuple[int, builtins.list[events.Job]]: ...
    async def list_deliveries(
        self,
        account_id: int,
        *,
        state: events.DeliveryState | None = None,
        webhook_id: int | None = None,
        event_id: int | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> builtins.list[events.Delivery]: ...
    async def get_delivery(self, account_id: int, delivery_id: int) -> events.Delivery: ...
    async def attempts(self, delivery_id: int) -> builtins.list[events.Attempt]: ...
    async def body(self, event_id: int) -> bytes | None: ...
    async def replay(
        self,
        account_id: int,
        *,
        ids: Sequence[int] | None = None,
        state: events.DeliveryState | None = None,
        now: datetime,
        give_up_at: datetime,
    ) -> builtins.list[int]: ...
    async def counts(self, account_id: int | None = None) -> dict[events.DeliveryState, int]: ...


class ContactStore(Protocol):
    """Contact lists, contacts (one per number of an account) and the opt-out list."""

    async def add_list(self, account_id: int, name: str, *, now: datetime) -> ContactList: ...
    async def list_named(self, account_id: int, name: str, *, now: datetime) -> ContactList: ...
    async def lists(
        self, account_id: int, ids: Sequence[int] | None = None
    ) -> builtins.list[ContactList]: ...
    async def get_list(self, account_id: int, list_id: int) -> ContactList: ...
    async def delete_list(self, account_id: int, list_id: int) -> ContactList: ...
    async def upsert(
        self,
        account_id: int,
        news: Sequence[NewContact],
        *,
        list_ids: Sequence[int] = (),
        now: datetime,
        own_lists: Sequence[tuple[str, int]] = (),
    ) -> builtins.list[Contact]: ...
    async def contacts(
        self,
        account_id: int,
        *,
        list_id: int | None = None,
        phone: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> Page[Contact]: ...
    async def get(self, account_id: int, contact_id: int) -> Contact: ...
    async def delete(self, account_id: int, contact_id: int) -> Contact: ...
    async def add_to_list(self, account_id: int, contact_id: int, list_id: int) -> None: ...
    async def remove_from_list(self, account_id: int, contact_id: int, list_id: int) -> None: ...
    async def count_in(self, account_id: int, list_ids: Sequence[int]) -> int: ...
    async def opt_out(
        self, account_id: int, phones: Sequence[str], *, source: str, now: datetime
    ) -> int: ...
    async def opt_in(self, account_id: int, phone: str) -> None: ...
    async def optouts(
        self, account_id: int, *, phone: str | None = None, after: str = "", limit: int = 100
    ) -> builtins.list[OptOut]: ...


class CampaignStore(Protocol):
    """Campaigns, their expansion's claims and batches, and what they do to their messages."""

    async def add(self, new: NewCampaign) -> Campaign: ...
    async def find(self, account_id: int | None, campaign_id: int) -> Campaign | None: ...
    async def get(self, account_id: int, campaign_id: int) -> Campaign: ...
    async def list(
        self, account_id: int, *, before_id: int | None = None, limit: int = 100
    ) -> builtins.list[Campaign]: ...
    async def titles(self, campaign_ids: Sequence[int]) -> dict[int, Campaign]: ...
    async def due(self, *, now: datetime, limit: int = 10) -> builtins.list[int]: ...
    async def claim(
        self, campaign_id: int, *, now: datetime, until: datetime
    ) -> Campaign | None: ...
    async def recipients(self, campaign: Campaign, *, limit: int) -> builtins.list[Recipient]: ...
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
    ) -> CampaignState: ...
    async def release_claim(self, campaign_id: int) -> None: ...
    async def move(
        self,
        account_id: int,
        campaign_id: int,
        *,
        sources: frozenset[CampaignState],
        values: Mapping[str, Any],
    ) -> Campaign: ...
    async def hold(self, campaign_id: int) -> int: ...
    async def release(
        self, campaign_id: int, *, now: datetime, valid_until: datetime
    ) -> builtins.list[tuple[int, int | None]]: ...
    async def counts(self, campaign_id: int) -> dict[State, int]: ...


class SenderStore(Protocol):
    async def add_sender(self, account_id: int, name: str, *, now: datetime) -> None: ...
    async def list_senders(self, account_id: int) -> builtins.list[str]: ...
    async def remove_sender(self, account_id: int, name: str) -> None: ...


class Dispatcher(Protocol):
    """What a channel runner asks of the gateway: its devices, their work, their reports and inbound."""

    def now(self) -> datetime: ...
    async def devices_of(self, kind: Kind) -> list[Device]:
        """The live (not archived) devices of this kind, in every account."""
        ...

    async def pull(self, device: Device, *, limit: int, wait: float) -> list[Message]:
        """Leases up to `limit` messages under the device's limits; waits up to `wait` s for work."""
        ...

    async def report(self, device: Device, reports: Sequence[Report]) -> Sequence[ReportResult]: ...
    async def receive(self, device: Device, items: Sequence[Received]) -> Sequence[Inbound]: ...


class Outlet(Protocol):
    """How a channel tells the gateway what became of one device's work. Both calls return at once:
    the runner batches them and retries until they are stored, so nothing told is lost."""

    def report(self, report: Report) -> None: ...
    def receive(self, received: Received) -> None:
        """An inbound message the device got; raises errors.InvalidInput if it has no sender."""
        ...


class Channel(Protocol):
    """A server-side way out for messages (the simulated phone, SMPP, an HTTP upstream, a modem).

    The runner finds the devices of `kind`, pulls their work under the dispatcher's limits, reports
    each pulled message taken and hands it to `take`; the channel reports what becomes of it, and
    any inbound, through the device's outlet.
    """

    kind: Kind

    def room(self, device: Device) -> int:
        """How many more messages the channel can take for this device now (its window); 0 holds off."""
        ...

    async def take(self, device: Device, messages: Sequence[Message], outlet: Outlet) -> None:
        """Starts sending and returns once the channel holds them. Raising gives them back to the queue."""
        ...

    async def close(self) -> None:
        """Stops: returns when nothing more will be reported (in-flight work finished or given back)."""
        ...
