"""Campaigns (newsletters): create, expand at their send time, progress, pause, resume, cancel.

Expansion runs in the background (`run`, started by the app; tests call `expand_due`): batch by
batch, each batch one message per distinct number of the campaign's lists, opted-out numbers
skipped and counted, placeholders filled from the contact. Each batch goes through the message
store's group commit, shared with every other sender, and the loop yields between batches, so a
campaign of 100,000 never holds the writer for long. A campaign is claimed for a while by the node
expanding it (several nodes on one PostgreSQL never expand one campaign twice).
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from smsgate.core import campaigns as rules
from smsgate.core import errors, segments
from smsgate.core.accounts import Account
from smsgate.core.billing import PriceList
from smsgate.core.campaigns import Campaign, CampaignState, NewCampaign, Progress, Recipient
from smsgate.core.messages import MessageFilter, NewMessage, Priority, State
from smsgate.service.billing import Billing
from smsgate.service.context import Context
from smsgate.service.devices import Devices
from smsgate.service.messages import test_mode

log = logging.getLogger(__name__)

CLAIM = timedelta(seconds=60)  # a node expanding a campaign holds it this long per batch
MAX_TEXT = 5000


class Campaigns:
    def __init__(self, ctx: Context, *, devices: Devices, billing: Billing) -> None:
        self._ctx = ctx
        self._devices = devices
        self._billing = billing
        self._wake = asyncio.Event()

    # --- creating and reading -----------------------------------------------------------------

    async def create(
        self,
        *,
        account: Account,
        name: str,
        text: str,
        lists: Sequence[int],
        devices: Sequence[int] = (),
        sim_slot: int | None = None,
        priority: int = Priority.NORMAL,
        send_at: datetime | None = None,
    ) -> Campaign:
        """A campaign to the contacts of these lists, expanded at `send_at` (now when None)."""
        now = self._ctx.clock.now()
        list_ids = rules.checked_lists(lists)
        found = {lst.id for lst in await self._ctx.contacts.lists(account.id, list(list_ids))}
        for list_id in list_ids:
            if list_id not in found:
                raise errors.NotFound(f"contact list {list_id} not found")
        self._check_text(text)
        await self._check_devices(account, tuple(devices))
        if sim_slot is not None and not 1 <= sim_slot <= 8:
            raise errors.InvalidInput(f"SIM slot {sim_slot} does not exist (slots are 1 to 8)")
        if send_at is not None:
            if send_at.tzinfo is None:
                raise errors.InvalidInput("the send time needs a timezone")
            if send_at < now - timedelta(seconds=60):
                raise errors.SendTimeInPast(f"the send time {send_at.isoformat()} is in the past")
        campaign = await self._ctx.campaigns.add(
            NewCampaign(
                account_id=account.id,
                name=rules.checked_name(name, "campaign name"),
                text=text,
                lists=list_ids,
                devices=tuple(dict.fromkeys(devices)),
                sim_slot=sim_slot,
                priority=priority,
                send_at=send_at if send_at is not None and send_at > now else now,
                created_at=now,
            )
        )
        self._wake.set()
        return campaign

    def _check_text(self, text: str) -> None:
        if not text or not text.strip():
            raise errors.EmptyText("the campaign's text is empty")
        if len(text) > MAX_TEXT:
            raise errors.TextTooLong(f"the campaign's text has at most {MAX_TEXT} characters")
        blank = rules.fill(text, {})
        if blank.strip():
            segments.checked(blank)  # too long even with every placeholder empty

    async def _check_devices(self, account: Account, wanted: tuple[int, ...]) -> None:
        if not wanted:
            return
        listed = {
            d.id: d
            for d in await self._devices.list(account=account, archived=None, ids=list(wanted))
        }
        for device_id in wanted:
            device = listed.get(device_id)
            if device is None:
                raise errors.InvalidDevice(f"device {device_id} does not exist in this account")
            if not device.can_send:
                raise errors.InvalidDevice(f"device {device_id} cannot send")

    async def get(self, campaign_id: int, *, account: Account) -> Campaign:
        return await self._ctx.campaigns.get(account.id, campaign_id)

    async def list(
        self, *, account: Account, before_id: int | None = None, limit: int = 100
    ) -> builtins.list[Campaign]:
        return await self._ctx.campaigns.list(account.id, before_id=before_id, limit=limit)

    async def of_messages(self, campaign_ids: Sequence[int]) -> dict[int, Campaign]:
        """The campaigns these messages came from, by id (a listing shows their titles)."""
        return await self._ctx.campaigns.titles(campaign_ids)

    async def progress(self, campaign: Campaign) -> Progress:
        counts = await self._ctx.campaigns.counts(campaign.id)
        contacts = await self._ctx.contacts.count_in(campaign.account_id, campaign.lists)
        if campaign.state in (CampaignState.EXPANDED, CampaignState.CANCELLED):
            contacts = campaign.expanded + campaign.skipped + campaign.invalid
        return Progress(
            contacts=contacts,
            expanded=campaign.expanded,
            skipped=campaign.skipped,
            invalid=campaign.invalid,
            queued=counts.get(State.SCHEDULED, 0) + counts.get(State.QUEUED, 0),
            sending=counts.get(State.LEASED, 0) + counts.get(State.TAKEN, 0),
            sent=counts.get(State.SENT, 0),
            delivered=counts.get(State.DELIVERED, 0),
            failed=counts.get(State.FAILED, 0)
            + counts.get(State.UNDELIVERED, 0)
            + counts.get(State.EXPIRED, 0),
            cancelled=counts.get(State.CANCELLED, 0),
        )

    # --- pause, resume, cancel ----------------------------------------------------------------

    async def pause(self, campaign_id: int, *, account: Account) -> Campaign:
        """Stops its expansion and holds its messages no device has taken yet."""
        campaign = await self._ctx.campaigns.move(
            account.id,
            campaign_id,
            sources=rules.PAUSABLE,
            values={
                "state": CampaignState.PAUSED.value,
                "paused_at": self._ctx.clock.now(),
                "claimed_until": None,
            },
        )
        await self._ctx.campaigns.hold(campaign_id)
        return campaign

    async def resume(self, campaign_id: int, *, account: Account) -> Campaign:
        """Releases its held messages and goes on expanding where it stopped."""
        current = await self.get(campaign_id, account=account)
        if current.expanded_at is not None:
            state = CampaignState.EXPANDED
        elif current.started_at is None:
            state = CampaignState.SCHEDULED
        else:
            state = CampaignState.EXPANDING
        campaign = await self._ctx.campaigns.move(
            account.id,
            campaign_id,
            sources=frozenset({CampaignState.PAUSED}),
            values={"state": state.value, "paused_at": None},
        )
        now = self._ctx.clock.now()
        released = await self._ctx.campaigns.release(
            campaign_id, now=now, valid_until=now + self._ctx.policy.default_validity
        )
        self._ctx.hub.notify_many(released)
        self._wake.set()
        return campaign

    async def cancel(self, campaign_id: int, *, account: Account) -> tuple[Campaign, int]:
        """Stops its expansion and cancels what no device has taken; how many were cancelled."""
        campaign = await self._ctx.campaigns.move(
            account.id,
            campaign_id,
            sources=rules.CANCELLABLE,
            values={
                "state": CampaignState.CANCELLED.value,
                "cancelled_at": self._ctx.clock.now(),
            },
        )
        return campaign, await self._cancel_messages(campaign)

    async def _cancel_messages(self, campaign: Campaign) -> int:
        cancelled = await self._ctx.store.cancel_matching(
            campaign.account_id,
            MessageFilter(campaign_id=campaign.id),
            now=self._ctx.clock.now(),
        )
        return len(cancelled)

    # --- expansion ----------------------------------------------------------------------------

    async def run(self, interval: float = 0.5) -> None:
        """Expands due campaigns until cancelled (the app runs this in the background)."""
        while True:
            try:
                await self.expand_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database restarting, say: tried again
                log.exception("campaign expansion failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            except TimeoutError:
                pass

    async def expand_due(self) -> int:
        """Expands every campaign whose send time has come; how many messages it created."""
        made = 0
        for campaign_id in await self._ctx.campaigns.due(now=self._ctx.clock.now()):
            made += await self.expand(campaign_id)
        return made

    async def expand(self, campaign_id: int) -> int:
        store = self._ctx.campaigns
        now = self._ctx.clock.now()
        campaign = await store.claim(campaign_id, now=now, until=now + CLAIM)
        if campaign is None:
            return 0  # another node has it, or it is no longer live
        made = 0
        size = max(1, self._ctx.policy.campaign_batch)
        test = await self._test_mode(campaign)
        while True:
            batch = await store.recipients(campaign, limit=size)
            news, skipped, invalid = self._messages(
                campaign, batch, await self._billing.price_list(), test=test
            )
            if news:
                try:
                    stored = await self._ctx.store.add(news)
                except errors.NotEnoughMoney:  # paused: a top-up and a resume go on from here
                    log.warning("campaign %s paused: the balance cannot pay for it", campaign.id)
                    await store.move(
                        campaign.account_id,
                        campaign.id,
                        sources=frozenset({CampaignState.EXPANDING}),
                        values={
                            "state": CampaignState.PAUSED.value,
                            "paused_at": self._ctx.clock.now(),
                            "claimed_until": None,
                        },
                    )
                    return made
                self._ctx.hub.notify_many((m.account_id, m.device_id) for m in stored)
                self._ctx.metrics.accepted.inc(len(stored))
                made += len(stored)
            done = len(batch) < size
            cursor = batch[-1].phone if batch else campaign.cursor
            now = self._ctx.clock.now()
            state = await store.advance(
                campaign.id,
                cursor=cursor,
                expanded=len(news),
                skipped=skipped,
                invalid=invalid,
                done=done,
                now=now,
                until=now + CLAIM,
            )
            if state is CampaignState.PAUSED:  # paused while this batch was being written
                await store.hold(campaign.id)
                await store.release_claim(campaign.id)
                return made
            if state is CampaignState.CANCELLED:
                await self._cancel_messages(campaign)
                await store.release_claim(campaign.id)
                return made
            if done:
                return made
            campaign = replace(campaign, cursor=cursor)
            await asyncio.sleep(0)  # other senders' requests run between batches

    async def _test_mode(self, campaign: Campaign) -> bool:
        """A campaign's messages follow send's test-mode rule (a mix of devices: the real ones)."""
        named = (
            {
                d.id: d
                for d in await self._ctx.directory.list_devices(
                    campaign.account_id, archived=None, ids=campaign.devices
                )
            }
            if campaign.devices
            else {}
        )
        fleet = None if campaign.devices else await self._devices.fleet(campaign.account_id)
        try:
            return test_mode(campaign.devices, named=named, fleet=fleet, asked=False)
        except (errors.InvalidDevice, KeyError):
            return False

    def _messages(
        self, campaign: Campaign, batch: Sequence[Recipient], prices: PriceList, *, test: bool
    ) -> tuple[builtins.list[NewMessage], int, int]:
        now = self._ctx.clock.now()
        valid_until = now + self._ctx.policy.default_validity
        news, skipped, invalid = [], 0, 0
        for recipient in batch:
            if recipient.opted_out:
                skipped += 1
                continue
            values = rules.values_of(recipient.phone, recipient.name, recipient.fields)
            try:
                text, encoded = segments.checked(rules.fill(campaign.text, values))
            except errors.InvalidInput:
                invalid += 1
                continue
            priced = self._billing.price(prices, recipient.phone, encoded.segments)
            info = priced.info
            news.append(
                NewMessage(
                    account_id=campaign.account_id,
                    to=recipient.phone,
                    to_original=recipient.phone_original,
                    country=info.country or recipient.country,
                    text=text,
                    encoding=encoded.encoding,
                    segments=encoded.segments,
                    priority=campaign.priority,
                    devices=campaign.devices,
                    sim_slot=campaign.sim_slot,
                    valid_until=valid_until,
                    created_at=now,
                    operator=info.operator,
                    region=info.region,
                    number_type=info.kind,
                    mccmnc=info.mccmnc,
                    cost=priced.cost,
                    campaign_id=campaign.id,
                    test=test,
                )
            )
        return news, skipped, invalid
