"""Gateway: the one entry point every door, channel, worker and the CLI calls.

A thin facade over the domain services, each written once:

- `accounts`: accounts, passwords, API keys (`service/accounts.py`)
- `messages`: send, read, cancel, delete outbound messages; why one waits (`service/messages.py`)
- `devices`: phones, the simulated phone and channels; tokens, limits, state (`service/devices.py`)
- `inbound`: what devices received (`service/inbound.py`)
- `dispatch`: pull, report, sweeps, wake-ups and event streams (`service/dispatch.py`)
- `billing`: the price list, quotes, balances and refunds (`service/billing.py`)
- `limits`: request limits the doors configure, held across nodes (`service/limits.py`)
- `numbers`: the account's two-way numbers (`service/numbers.py`)
- `webhooks`: URLs for events, the deliveries log, replays, the deliverer's jobs (`service/webhooks.py`)
- `contacts`: contact lists, contacts, the opt-out list (`service/contacts.py`)
- `campaigns`: newsletters to contact lists, their expansion and progress (`service/campaigns.py`)
- `senders`: the sender names an account may send from (`service/senders.py`)
- `notifications`: messages to a Telegram chat (`service/notifications.py`)

A new domain is one module here and one attribute below. Nothing outside this package touches a
store, the hub, the clock or the policy: it calls an operation.
"""

from __future__ import annotations

from datetime import datetime

from smsgate.core.clock import SystemClock
from smsgate.core.ports import (
    CampaignStore,
    Clock,
    ContactStore,
    Directory,
    Ledger,
    Limiter,
    MessageStore,
    SenderStore,
    Telegram,
    WebhookStore,
)
from smsgate.dispatch.hub import Hub
from smsgate.metrics import Metrics
from smsgate.service.accounts import Accounts
from smsgate.service.billing import Billing
from smsgate.service.campaigns import Campaigns
from smsgate.service.contacts import ContactInput, Contacts
from smsgate.service.context import Context, Policy
from smsgate.service.devices import Devices, DeviceState
from smsgate.service.dispatch import Dispatch, Sweep
from smsgate.service.inbound import InboundMessages, Received
from smsgate.service.limits import Limits
from smsgate.service.messages import MAX_BATCH, MAX_RECIPIENTS, Messages
from smsgate.service.notifications import Notifications
from smsgate.service.numbers import Numbers
from smsgate.service.senders import Senders
from smsgate.service.webhooks import DeliveryPolicy, Webhooks

__all__ = [
    "MAX_BATCH",
    "MAX_RECIPIENTS",
    "ContactInput",
    "DeliveryPolicy",
    "DeviceState",
    "Gateway",
    "Policy",
    "Received",
    "Sweep",
]


class Gateway:
    def __init__(
        self,
        *,
        store: MessageStore,
        directory: Directory,
        hub: Hub,
        clock: Clock | None = None,
        policy: Policy = Policy(),
        metrics: Metrics | None = None,
        ledger: Ledger,
        limiter: Limiter,
        webhooks: WebhookStore,
        delivery: DeliveryPolicy = DeliveryPolicy(),
        contacts: ContactStore,
        campaigns: CampaignStore,
        senders: SenderStore,
        telegram: Telegram | None = None,
    ) -> None:
        self._ctx = Context(
            store=store,
            directory=directory,
            ledger=ledger,
            limiter=limiter,
            webhooks=webhooks,
            senders=senders,
            hub=hub,
            clock=clock or SystemClock(),
            policy=policy,
            metrics=metrics or Metrics(),
            contacts=contacts,
            campaigns=campaigns,
        )
        self.accounts = Accounts(self._ctx)
        self.devices = Devices(self._ctx)
        self.billing = Billing(self._ctx)
        self.limits = Limits(self._ctx)
        self.senders = Senders(self._ctx)
        self.messages = Messages(
            self._ctx, devices=self.devices, billing=self.billing, senders=self.senders
        )
        self.contacts = Contacts(self._ctx)
        self.inbound = InboundMessages(self._ctx, replies=self.contacts.replies)
        self.dispatch = Dispatch(self._ctx)
        self.numbers = Numbers(self._ctx)
        self.webhooks = Webhooks(self._ctx, policy=delivery)
        self.campaigns = Campaigns(self._ctx, devices=self.devices, billing=self.billing)
        self.notifications = Notifications(telegram)

    def now(self) -> datetime:
        """The gateway's clock (a fake one in tests)."""
        return self._ctx.clock.now()

    @property
    def default_region(self) -> str | None:
        """How numbers without a country code are read (SMSGATE_DEFAULT_REGION)."""
        return self._ctx.policy.default_region
