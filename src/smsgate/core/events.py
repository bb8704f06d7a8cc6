"""Events: what happened to a message, an inbound message or a device, as webhooks deliver it.

Every event is written in the same transaction as the change it tells of (an outbox); webhooks
fan it out to the account's URLs. Only the kinds an account has a webhook for are written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from smsgate.core.devices import Device
from smsgate.core.messages import Inbound, Message, State


class Kind(StrEnum):
    MESSAGE_QUEUED = "message.queued"
    MESSAGE_SENT = "message.sent"
    MESSAGE_DELIVERED = "message.delivered"
    MESSAGE_FAILED = "message.failed"  # failed, or undelivered (the operator's word)
    MESSAGE_EXPIRED = "message.expired"
    MESSAGE_CANCELLED = "message.cancelled"
    INBOUND_RECEIVED = "inbound.received"
    DEVICE_ONLINE = "device.online"
    DEVICE_OFFLINE = "device.offline"
    DEVICE_BATTERY_LOW = "device.battery_low"


ALL: Final = frozenset(Kind)

# the event a message entering a state tells of (entering LEASED or TAKEN tells nothing)
OF_STATE: Final = {
    State.QUEUED: Kind.MESSAGE_QUEUED,
    State.SENT: Kind.MESSAGE_SENT,
    State.DELIVERED: Kind.MESSAGE_DELIVERED,
    State.FAILED: Kind.MESSAGE_FAILED,
    State.UNDELIVERED: Kind.MESSAGE_FAILED,
    State.EXPIRED: Kind.MESSAGE_EXPIRED,
    State.CANCELLED: Kind.MESSAGE_CANCELLED,
}

BATTERY_LOW: Final = 15  # percent: a phone reporting less than this (having had more) is low


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEvent:
    account_id: int
    kind: Kind
    at: datetime
    message_id: int | None = None
    inbound_id: int | None = None
    device_id: int | None = None
    detail: str | None = None  # the state entered (undelivered vs failed), a battery level


def of_message(account_id: int, message_id: int, state: State, at: datetime) -> NewEvent | None:
    kind = OF_STATE.get(state)
    if kind is None:
        return None
    return NewEvent(
        account_id=account_id, kind=kind, at=at, message_id=message_id, detail=state.value
    )


def of_inbound(inbound: Inbound) -> NewEvent:
    return NewEvent(
        account_id=inbound.account_id,
        kind=Kind.INBOUND_RECEIVED,
        at=inbound.received_at,
        inbound_id=inbound.id,
        device_id=inbound.device_id,
    )


def of_heartbeat(
    *,
    account_id: int,
    device_id: int,
    phone: bool,
    was_online: bool,
    battery_before: int | None,
    battery: int | None,
    at: datetime,
) -> list[NewEvent]:
    """A phone heard from after silence is online; a battery falling under BATTERY_LOW is low."""
    found = []
    if phone and not was_online:
        found.append(
            NewEvent(account_id=account_id, kind=Kind.DEVICE_ONLINE, at=at, device_id=device_id)
        )
    low_before = battery_before is not None and battery_before < BATTERY_LOW
    if battery is not None and battery < BATTERY_LOW and not low_before:
        found.append(
            NewEvent(
                account_id=account_id,
                kind=Kind.DEVICE_BATTERY_LOW,
                at=at,
                device_id=device_id,
                detail=str(battery),
            )
        )
    return found


def kinds(text: str) -> frozenset[Kind]:
    """`message.sent,inbound.received`, `message.*` or `*`; ValueError names what is unknown."""
    found: set[Kind] = set()
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        if part == "*":
            found |= ALL
        elif part.endswith(".*"):
            group = {k for k in Kind if k.value.startswith(part[:-1])}
            if not group:
                raise ValueError(f"no event kind starts with {part[:-1]!r}")
            found |= group
        else:
            try:
                found.add(Kind(part))
            except ValueError:
                known = ", ".join(k.value for k in Kind)
                raise ValueError(f"unknown event {part!r}; known: {known}") from None
    return frozenset(found)


def kinds_text(found: frozenset[Kind]) -> str:
    return "*" if found == ALL else ",".join(sorted(k.value for k in found))


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """An event with what it tells of, as the fan-out hands it to the renderer."""

    id: int
    account_id: int
    kind: Kind
    at: datetime
    detail: str | None
    message: Message | None = None
    inbound: Inbound | None = None
    device: Device | None = None
    number: str | None = None  # the account's two-way number it concerns
    conversation: Message | None = None  # a reply's: the last message from `number` to its sender


Render = Callable[[Subject], bytes]


# --- deliveries: retried with exponential back-off for a day -------------------------------------


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed until it gave up (a day); replayable


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPlan:
    first: timedelta = timedelta(seconds=10)  # after the first failed attempt; doubles
    longest: timedelta = timedelta(hours=1)  # the back-off never grows past this
    give_up_after: timedelta = timedelta(days=1)  # from the event: then it is failed

    def next_attempt(self, attempts: int, now: datetime, give_up_at: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts; None: give up."""
        wait = min(self.first * (2 ** min(max(attempts - 1, 0), 30)), self.longest)
        at = now + wait
        return at if at <= give_up_at else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    id: int
    account_id: int
    url: str
    events: frozenset[Kind]
    number: str | None  # a two-way number: only what concerns it (replies to it, sends from it)
    secret: str
    enabled: bool
    created_at: datetime

    def wants(self, kind: Kind, number: str | None) -> bool:
        if not self.enabled or kind not in self.events:
            return False
        return self.number is None or self.number == number


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    id: int
    account_id: int
    event_id: int
    webhook_id: int
    kind: Kind
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    give_up_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    url: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    delivery_id: int
    at: datetime
    status: int | None  # the HTTP status; None when there was no answer
    error: str | None  # why it failed (timeout, refused, the status)
    response: str | None  # the start of the receiver's answer
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """A delivery claimed for an attempt: where to, what, and the secret to sign it with."""

    delivery_id: int
    event_id: int
    webhook_id: int
    kind: Kind
    url: str
    secret: str
    body: bytes
    attempts: int  # failed so far
    give_up_at: datetime
