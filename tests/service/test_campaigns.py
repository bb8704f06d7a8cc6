"""Contacts, lists, opt-outs and campaigns in the core, on SQLite and the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smsgate import app as application
from smsgate.core import errors
from smsgate.core.accounts import Account
from smsgate.core.campaigns import CampaignState, fill, is_stop
from smsgate.core.devices import Kind
from smsgate.core.messages import MessageFilter, Reason, Report, State
from smsgate.service import ContactInput

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture
async def app(gateway_app: application.App) -> application.App:
    gateway_app.clock.set(T0)
    return gateway_app


async def owner(app: application.App, email: str = "owner@example.com") -> Account:
    return await app.gateway.accounts.create(email, "password123")


def test_placeholders_are_filled_from_the_contact() -> None:
    values = {"name": "Anna", "phone": "+79201234567", "city": "Tver"}
    assert fill("Hi {name} from {city}!", values) == "Hi Anna from Tver!"
    assert fill("{{name}} {missing}.", values) == "{name} ."
    assert is_stop(" stop! ", {"STOP"}) and not is_stop("please stop", {"STOP"})


async def two_overlapping_lists(app: application.App, account: Account) -> tuple[int, int]:
    gw = app.gateway
    a = await gw.contacts.create_list("customers", account=account)
    b = await gw.contacts.create_list("newsletter", account=account)
    await gw.contacts.add_many(
        [
            ContactInput(phone="+79201110001", name="Anna", fields={"city": "Tver"}),
            ContactInput(phone="+79201110002", name="Boris", fields={"city": "Omsk"}),
            ContactInput(phone="+79201110003", name="Vera"),
        ],
        account=account,
        lists=[a.id],
    )
    await gw.contacts.add_many(
        [
            ContactInput(
                phone="8 920 111-00-02", name="Boris"
            ),  # the same number, written otherwise
            ContactInput(phone="+79201110003"),
            ContactInput(phone="+79201110004", name="Gleb"),
        ],
        account=account,
        lists=[b.id],
    )
    return a.id, b.id


async def test_a_campaign_reaches_each_distinct_number_once_skips_opted_out_fills_names(
    app: application.App,
) -> None:
    gw = app.gateway
    account = await owner(app)
    a, b = await two_overlapping_lists(app, account)
    # the fourth contact replies STOP to an earlier message: it is opted out
    phone, _ = await gw.devices.register("phone", account=account, kind=Kind.ANDROID)
    await gw.inbound.receive(phone, [("+79201110004", "Stop", None, None)])
    assert [o.phone for o in await gw.contacts.optouts(account=account)] == ["+79201110004"]

    campaign = await gw.campaigns.create(
        account=account, name="spring", text="Hello {name} in {city}", lists=[a, b]
    )
    assert campaign.state is CampaignState.SCHEDULED
    await gw.campaigns.expand_due()
    campaign = await gw.campaigns.get(campaign.id, account=account)
    assert campaign.state is CampaignState.EXPANDED
    assert (campaign.expanded, campaign.skipped) == (3, 1)

    page = await gw.messages.list(MessageFilter(campaign_id=campaign.id), account=account)
    texts = sorted((m.to, m.text) for m in page.items)
    assert texts == [
        ("+79201110001", "Hello Anna in Tver"),
        ("+79201110002", "Hello Boris in Omsk"),
        ("+79201110003", "Hello Vera in "),
    ]
    progress = await gw.campaigns.progress(campaign)
    assert (progress.contacts, progress.queued, progress.skipped, progress.pending) == (4, 3, 1, 0)

    # a phone takes two, sends one and delivers it, fails the other
    leased = await app.store.lease(device_id=phone.id, limit=2, now=T0, until=T0 + LEASE)
    await gw.dispatch.report(
        phone,
        [
            Report(message_id=leased[0].id, state=State.DELIVERED),
            Report(message_id=leased[1].id, state=State.FAILED, reason=Reason.NOT_ALLOWED),
        ],
    )
    progress = await gw.campaigns.progress(campaign)
    assert (progress.queued, progress.delivered, progress.failed) == (1, 1, 1)


async def test_pause_holds_resume_releases_cancel_stops_what_no_phone_took(
    app: application.App,
) -> None:
    gw = app.gateway
    account = await owner(app)
    big = await gw.contacts.create_list("big", account=account)
    await gw.contacts.add_many(
        [ContactInput(phone=f"+7920200{i:04d}", name=f"n{i}") for i in range(1200)],
        account=account,
        lists=[big.id],
    )
    phone, _ = await gw.devices.register("phone", account=account, kind=Kind.ANDROID)
    campaign = await gw.campaigns.create(
        account=account, name="big", text="Hi {name}", lists=[big.id]
    )
    # its expansion has begun (claimed) when it is paused
    store = app.gateway._ctx.campaigns
    claimed = await store.claim(campaign.id, now=T0, until=T0 + LEASE)
    assert claimed is not None and claimed.state is CampaignState.EXPANDING
    await store.release_claim(campaign.id)
    paused = await gw.campaigns.pause(campaign.id, account=account)
    assert paused.state is CampaignState.PAUSED
    assert await gw.campaigns.expand_due() == 0  # a paused campaign does not expand

    resumed = await gw.campaigns.resume(campaign.id, account=account)
    assert resumed.state is CampaignState.EXPANDING
    await gw.campaigns.expand_due()
    assert (await gw.campaigns.get(campaign.id, account=account)).expanded == 1200

    taken = await app.store.lease(device_id=phone.id, limit=10, now=T0, until=T0 + LEASE)
    await gw.campaigns.pause(campaign.id, account=account)
    held = await gw.campaigns.progress(await gw.campaigns.get(campaign.id, account=account))
    assert (held.queued, held.sending) == (1190, 10)
    assert await app.store.lease(device_id=phone.id, limit=10, now=T0, until=T0 + LEASE) == []
    await gw.campaigns.resume(campaign.id, account=account)
    more = await app.store.lease(device_id=phone.id, limit=5, now=T0, until=T0 + LEASE)
    assert len(more) == 5

    cancelled, count = await gw.campaigns.cancel(campaign.id, account=account)
    assert cancelled.state is CampaignState.CANCELLED and count == 1185
    progress = await gw.campaigns.progress(cancelled)
    assert (progress.sending, progress.cancelled, progress.queued) == (15, 1185, 0)
    assert {m.id for m in taken + more} == {
        m.id
        for m in (
            await gw.messages.list(
                MessageFilter(campaign_id=campaign.id, states=frozenset({State.LEASED}), limit=50),
                account=account,
            )
        ).items
    }
    with pytest.raises(errors.Conflict):
        await gw.campaigns.resume(campaign.id, account=account)


async def test_bad_campaigns_and_contacts_are_refused_with_nothing_written(
    app: application.App,
) -> None:
    gw = app.gateway
    account = await owner(app)
    other = await owner(app, "other@example.com")
    theirs = await gw.contacts.create_list("theirs", account=other)
    with pytest.raises(errors.NotFound):
        await gw.campaigns.create(account=account, name="x", text="hi", lists=[theirs.id])
    mine = await gw.contacts.create_list("mine", account=account)
    with pytest.raises(errors.EmptyText):
        await gw.campaigns.create(account=account, name="x", text=" ", lists=[mine.id])
    with pytest.raises(errors.SendTimeInPast):
        await gw.campaigns.create(
            account=account, name="x", text="hi", lists=[mine.id], send_at=T0 - timedelta(days=1)
        )
    with pytest.raises(errors.InvalidNumber):
        await gw.contacts.add_many(
            [ContactInput(phone="+79201110001"), ContactInput(phone="not a number")],
            account=account,
            lists=[mine.id],
        )
    assert await gw.campaigns.list(account=account) == []
    assert (await gw.contacts.list(account=account)).items == []
    with pytest.raises(errors.Conflict):
        await gw.contacts.create_list("mine", account=account)


async def test_a_scheduled_campaign_waits_for_its_time(app: application.App) -> None:
    gw = app.gateway
    account = await owner(app)
    lst = await gw.contacts.create_list("l", account=account)
    await gw.contacts.add(ContactInput(phone="+79201110001"), account=account, lists=[lst.id])
    later = T0 + timedelta(hours=1)
    campaign = await gw.campaigns.create(
        account=account, name="later", text="hi", lists=[lst.id], send_at=later
    )
    assert await gw.campaigns.expand_due() == 0
    app.clock.set(later)
    assert await gw.campaigns.expand_due() == 1
    assert (await gw.campaigns.get(campaign.id, account=account)).state is CampaignState.EXPANDED
