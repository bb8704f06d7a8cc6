"""Tables and indexes. The migrations create exactly this (tests/storage/test_migrations.py checks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC on both databases; always tz-aware UTC in Python."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value.replace(tzinfo=UTC)
        return stored


MAX_ID = 2**63 - 1


class BoundedId(TypeDecorator[int]):
    """A 64-bit id. A wire value outside that range (a typo, a probe) compares like the nearest
    bound, so it finds nothing instead of overflowing the driver (a 500 at every door)."""

    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        # INTEGER PRIMARY KEY is SQLite's rowid
        return dialect.type_descriptor(Integer() if dialect.name == "sqlite" else BigInteger())

    def process_bind_param(self, value: int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return max(-MAX_ID - 1, min(int(value), MAX_ID))


Id = BoundedId()

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("password_md5_hash", String(200), nullable=True),  # argon2(md5(password)), for SMSC
    Column("is_admin", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Index("ix_api_keys_account", "account_id"),
)

devices = Table(
    "devices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("archived", Boolean, nullable=False, server_default=text("false")),
    Column("token_hash", String(64), unique=True),
    Column("sims", Text, nullable=False, server_default=""),  # JSON list of {slot, number, carrier}
    Column("battery", SmallInteger),
    Column("charging", Boolean),
    Column("last_seen_at", UTCDateTime),
    Column("app_version", String(50)),
    Column("manufacturer", String(100)),
    Column("model", String(100)),
    Column("os_version", String(50)),
    Column("pace_ms", Integer),
    Column("quota", Integer),
    Column("quota_recipients", Integer),
    Column("quota_period", String(10), nullable=False, server_default="day"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("jitter_ms", Integer),
    Column("window_start", String(8)),  # "HH:MM" local to the device's timezone
    Column("window_end", String(8)),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column(
        "sim_limits", Text, nullable=False, server_default="{}"
    ),  # JSON {slot: limits}, set by the owner
    # JSON {slot: "+E164"}: numbers the owner gave the SIMs (or an upstream's), over reported ones
    Column("sim_numbers", Text, nullable=False, server_default="{}"),
    # heard from within the offline threshold at the last look (device.online/offline events)
    Column("reachable", Boolean, nullable=False, server_default=text("false")),
    Index("ix_devices_account", "account_id", "id"),
)

# what a device (slot 0) or one SIM (its slot) used in its current period, and when it may send next
device_usage = Table(
    "device_usage",
    metadata,
    Column("device_id", Id, ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    Column("slot", SmallInteger, primary_key=True, autoincrement=False),
    Column("period_start", UTCDateTime, nullable=False),
    Column("messages", Integer, nullable=False, server_default="0"),
    Column("next_send_at", UTCDateTime),
)

# distinct recipients per device/SIM and period, for "at most N distinct recipients"
device_recipients = Table(
    "device_recipients",
    metadata,
    Column("device_id", Id, ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    Column("slot", SmallInteger, primary_key=True, autoincrement=False),
    Column("period_start", UTCDateTime, primary_key=True),
    Column("phone", String(20), primary_key=True),
)

REFUND_DUE = (
    "cost > 0 AND refunded_at IS NULL AND state IN ('failed', 'cancelled', 'expired')"
    " AND (reason IS NULL OR reason <> 'device_lost')"
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("to", String(20), nullable=False),
    Column("to_original", String(64), nullable=False),
    Column("country", String(2)),
    Column("text", Text, nullable=False),
    Column("encoding", String(4), nullable=False),
    Column("segments", SmallInteger, nullable=False),
    Column("state", String(12), nullable=False),
    Column("reason", String(20)),
    Column("priority", SmallInteger, nullable=False, server_default="0"),
    Column("devices", String(400), nullable=False, server_default=""),  # "1,15,25" as named
    Column("device_id", Id),
    Column("sim_slot", SmallInteger),
    Column("reference", String(100)),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("send_at", UTCDateTime),
    Column("valid_until", UTCDateTime),
    Column("lease_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("queued_at", UTCDateTime),
    Column("leased_at", UTCDateTime),
    Column("taken_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Column("failed_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Column("expired_at", UTCDateTime),
    Column("next_attempt_at", UTCDateTime),  # after a transient failure: not before this
    Column("last_device_id", Id),  # the device that failed it last: others go first
    Column("sim_used", SmallInteger),  # the SIM slot it was handed out on
    # number intelligence and the price, fixed at acceptance (core/numbers.py, core/billing.py)
    Column("operator", String(100), nullable=False, server_default=""),
    Column("region", String(100), nullable=False, server_default=""),
    Column("number_type", String(24), nullable=False, server_default=""),
    Column("mccmnc", String(6), nullable=False, server_default=""),
    Column("cost", BigInteger, nullable=False, server_default="0"),  # units, all parts
    Column("refunded_at", UTCDateTime),  # its cost went back to the balance
    Column("sender", String(20)),  # a two-way number of the account it is sent from (E.164)
    Column("campaign_id", Id),  # the campaign it was expanded from
    Column("sender_name", String(64), nullable=False, server_default=""),  # the name asked for
    Column("group_id", Id),  # leased together, to one device: the id of the group's first message
    # test mode: only the simulated phone takes it, and only it does (a real device never)
    Column("test", Boolean, nullable=False, server_default=text("false")),
    # the listings every door offers: by account + time, id, phone, device, status
    Index(
        "ix_messages_account_created", "account_id", "created_at", "id"
    ),  # id: time-range pages read the index only
    Index("ix_messages_account_id", "account_id", "id"),
    Index("ix_messages_account_to", "account_id", "to", "id"),
    Index("ix_messages_account_device", "account_id", "device_id", "id"),
    Index("ix_messages_account_state", "account_id", "state", "id"),
    Index(  # a reply to a two-way number finds its conversation: the last message to its sender
        "ix_messages_conversation",
        "account_id",
        "sender",
        "to",
        "id",
        sqlite_where=text("sender IS NOT NULL"),
        postgresql_where=text("sender IS NOT NULL"),
    ),
    # the dispatcher's work lists stay small: partial indexes over the live states only
    Index(  # in the order leases take them: urgent first, then oldest first
        "ix_messages_queue",
        "account_id",
        text("priority DESC"),
        "id",
        sqlite_where=text("state = 'queued'"),
        postgresql_where=text("state = 'queued'"),
    ),
    Index(
        "ix_messages_due",
        "send_at",
        sqlite_where=text("state = 'scheduled'"),
        postgresql_where=text("state = 'scheduled'"),
    ),
    Index(
        "ix_messages_lease",
        "lease_until",
        sqlite_where=text("state = 'leased'"),
        postgresql_where=text("state = 'leased'"),
    ),
    Index(
        "ix_messages_taken",
        "taken_at",
        sqlite_where=text("state = 'taken'"),
        postgresql_where=text("state = 'taken'"),
    ),
    Index(  # failed, cancelled or expired and not refunded yet: the refund sweep's work list
        "ix_messages_refund",
        "id",
        sqlite_where=text(REFUND_DUE),
        postgresql_where=text(REFUND_DUE),
    ),
    Index(
        "ix_messages_validity",
        "valid_until",
        sqlite_where=text("state IN ('scheduled', 'queued')"),
        postgresql_where=text("state IN ('scheduled', 'queued')"),
    ),
)

# --- billing: the price list and the balances (core/billing.py) -----------------------------

# one price list for the gateway, replaced whole when an admin loads one
prices = Table(
    "prices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("country", String(2), nullable=False),  # ISO alpha-2 or "*"
    Column("prefix", String(15), nullable=False, server_default=""),
    Column("operator", String(100), nullable=False, server_default=""),
    Column("per_part", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# an account's balance; no row = unlimited. Debited in the transaction that accepts a message.
balances = Table(
    "balances",
    metadata,
    Column(
        "account_id",
        Id,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("amount", BigInteger, nullable=False),
    Column("credit", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
)

# the sender names (alphanumeric or numbers) an account may send from; none = any
senders = Table(
    "senders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_senders_account_name", "account_id", "name", unique=True),
)

# request limits (core/limits.py): a count per key and fixed window, shared by every node
request_counts = Table(
    "request_counts",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("window_start", UTCDateTime, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_request_counts_expiry", "expires_at"),
)

inbound = Table(
    "inbound",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("device_id", Id),
    Column("sender", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("sim_slot", SmallInteger),
    Column("received_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_inbound_account_id", "account_id", "id"),
    Index("ix_inbound_account_received", "account_id", "received_at"),
    Index("ix_inbound_account_sender", "account_id", "sender", "id"),
    Index("ix_inbound_account_device", "account_id", "device_id", "id"),
)

# --- phones that speak the SMSGate app's protocol (devices/android), and its client API -------

# how a device and smsgate reach each other: the secret in its webhook URLs, the key it signs
# them with, its push token, and when an event stream of it was last seen open
device_links = Table(
    "device_links",
    metadata,
    Column(
        "device_id",
        Id,
        ForeignKey("devices.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("hook_secret", String(64), nullable=False, unique=True),
    Column("signing_key", String(64), nullable=False),
    Column("push_token", String(256)),
    Column("stream_seen_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

# messages a device holds: whether it acknowledged having them, and a cancel asked of it
holds = Table(
    "holds",
    metadata,
    Column(
        "message_id",
        Id,
        ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("device_id", Id, nullable=False),
    Column("acked_at", UTCDateTime),
    Column("cancel_requested_at", UTCDateTime),
    Index("ix_holds_device", "device_id", "message_id"),
)

# deliveries already taken in (a phone retries a webhook it is not sure arrived)
receipts = Table(
    "receipts",
    metadata,
    Column(
        "device_id",
        Id,
        ForeignKey("devices.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("key", String(64), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Index("ix_receipts_received", "received_at"),
)

# one-time sign-in codes (a phone signs in with one instead of a password)
sign_in_codes = Table(
    "sign_in_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("valid_until", UTCDateTime, nullable=False),
)

# webhooks a client registered through the app's client API; the phones call them directly
app_webhooks = Table(
    "app_webhooks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(36), nullable=False),
    Column("device_id", Id),
    Column("url", String(2048), nullable=False),
    Column("event", String(40), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_app_webhooks_account", "account_id", "external_id", unique=True),
)

# the phones' settings as a client set them through the app's client API (JSON sections)
app_settings = Table(
    "app_settings",
    metadata,
    Column(
        "account_id",
        Id,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("settings", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# a campaign's messages by state: its progress, pause, resume and cancel read only these
Index(
    "ix_messages_campaign",
    messages.c.campaign_id,
    messages.c.state,
    sqlite_where=text("campaign_id IS NOT NULL"),
    postgresql_where=text("campaign_id IS NOT NULL"),
)

# --- contact lists, contacts, the opt-out list and campaigns (core/campaigns.py) --------------

contact_lists = Table(
    "contact_lists",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_contact_lists_account_name", "account_id", "name", unique=True),
)

# one row per number of an account: a number in several lists is still one contact
contacts = Table(
    "contacts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("phone", String(20), nullable=False),  # E.164
    Column("phone_original", String(64), nullable=False),
    Column("country", String(2)),
    Column("name", String(200), nullable=False, server_default=""),
    Column("fields", Text, nullable=False, server_default="{}"),  # JSON {field: text}
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_contacts_account_phone", "account_id", "phone", unique=True),
)

list_members = Table(
    "list_members",
    metadata,
    Column(
        "list_id",
        Id,
        ForeignKey("contact_lists.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column(
        "contact_id",
        Id,
        ForeignKey("contacts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Index("ix_list_members_contact", "contact_id"),
)

optouts = Table(
    "optouts",
    metadata,
    Column(
        "account_id",
        Id,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("phone", String(20), primary_key=True),  # E.164
    Column("source", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("lists", String(2000), nullable=False),  # "3,4,9"
    Column("devices", String(400), nullable=False, server_default=""),
    Column("sim_slot", SmallInteger),
    Column("priority", SmallInteger, nullable=False, server_default="0"),
    Column("state", String(12), nullable=False),
    Column("send_at", UTCDateTime, nullable=False),
    Column("cursor", String(20), nullable=False, server_default=""),  # last number expanded
    Column("expanded", Integer, nullable=False, server_default="0"),
    Column("skipped", Integer, nullable=False, server_default="0"),
    Column("invalid", Integer, nullable=False, server_default="0"),
    Column("claimed_until", UTCDateTime),  # a node expanding it holds it until then
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("expanded_at", UTCDateTime),
    Column("paused_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Index("ix_campaigns_account", "account_id", "id"),
    Index(
        "ix_campaigns_live",
        "send_at",
        sqlite_where=text("state IN ('scheduled', 'expanding')"),
        postgresql_where=text("state IN ('scheduled', 'expanding')"),
    ),
)

# a message group's members (leased together, see leases.py)
Index(
    "ix_messages_group",
    messages.c.group_id,
    sqlite_where=text("group_id IS NOT NULL"),
    postgresql_where=text("group_id IS NOT NULL"),
)

# the ids of the app's client API messages, one per account: each is one message group whose
# members carry it as their reference (registered before the group is stored)
app_messages = Table(
    "app_messages",
    metadata,
    Column(
        "account_id",
        Id,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("external_id", String(36), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# the app's client API finds a message by the id its client gave (kept as the reference)
Index(
    "ix_messages_account_reference",
    messages.c.account_id,
    messages.c.reference,
    sqlite_where=text("reference IS NOT NULL"),
    postgresql_where=text("reference IS NOT NULL"),
)

# --- webhooks: events written with the change (the outbox), deliveries as queue jobs -------------

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("events", String(400), nullable=False),  # kinds, comma-separated; "*" = all
    Column("number", String(20)),  # a two-way number: only events about it
    Column("secret", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_webhooks_account", "account_id", "id"),
)

# the outbox: one row per event an account has a webhook for, written with the change itself
events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("message_id", Id),
    Column("inbound_id", Id),
    Column("device_id", Id),
    Column("detail", String(40)),
    Column("at", UTCDateTime, nullable=False),
    Column("body", Text),  # the JSON delivered, rendered when the event is fanned out
    Column("fanned_at", UTCDateTime),  # NULL: not yet fanned out to the webhooks
    Index(
        "ix_events_unfanned",
        "id",
        sqlite_where=text("fanned_at IS NULL"),
        postgresql_where=text("fanned_at IS NULL"),
    ),
    Index("ix_events_account", "account_id", "id"),
)

# one event to one webhook: a job with its attempts, back-off and lease
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, nullable=False),
    Column("event_id", Id, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("webhook_id", Id, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("state", String(12), nullable=False),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime),
    Column("lease_until", UTCDateTime),  # an attempt is under way (on some node) until then
    Column("give_up_at", UTCDateTime, nullable=False),
    Column("last_status", SmallInteger),
    Column("last_error", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Index(
        "ix_deliveries_due",
        "next_attempt_at",
        sqlite_where=text("state = 'pending'"),
        postgresql_where=text("state = 'pending'"),
    ),
    Index("ix_deliveries_account", "account_id", "id"),
    Index("ix_deliveries_event", "event_id"),
    Index("ix_deliveries_webhook", "webhook_id"),
)

# every attempt's answer
delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("delivery_id", Id, ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("status", SmallInteger),
    Column("error", String(200)),
    Column("response", String(500)),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_delivery_attempts_delivery", "delivery_id", "id"),
)
