"""Outbound and inbound messages, and the one status machine every vendor maps onto."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum, StrEnum, auto
from typing import Any, Final, Generic, NamedTuple, TypeVar

from smsgate.core import errors


class State(StrEnum):
    SCHEDULED = auto()  # accepted, waiting for its send time
    QUEUED = auto()  # due, waiting for a device
    LEASED = auto()  # handed to one device, not yet confirmed by it
    TAKEN = auto()  # the device confirmed it has it and is sending
    SENT = auto()  # the device handed it to the operator
    DELIVERED = auto()  # the operator reported delivery to the handset
    UNDELIVERED = auto()  # the operator reported it could not deliver
    FAILED = auto()  # could not be sent (see Reason)
    CANCELLED = auto()  # withdrawn by the client before a device took it
    EXPIRED = auto()  # its validity ended before it could be sent


class Reason(StrEnum):
    """Why a message failed. Transient reasons may be retried on another device."""

    GENERIC = auto()
    NO_SERVICE = auto()
    RADIO_OFF = auto()
    NULL_PDU = auto()
    NOT_ALLOWED = auto()
    INVALID_NUMBER = auto()
    LIMIT_EXCEEDED = auto()
    DEVICE_LOST = auto()  # the device confirmed taking it and never reported back
    REJECTED = auto()  # the operator refused it


TRANSIENT_REASONS: Final = frozenset(
    {Reason.GENERIC, Reason.NO_SERVICE, Reason.RADIO_OFF, Reason.NULL_PDU}
)


class Priority(IntEnum):
    NORMAL = 0
    URGENT = 100  # one-time codes: before any normal message


MOVES: Final[Mapping[State, frozenset[State]]] = {
    State.SCHEDULED: frozenset({State.QUEUED, State.CANCELLED, State.EXPIRED}),
    State.QUEUED: frozenset({State.LEASED, State.CANCELLED, State.EXPIRED, State.FAILED}),
    # a phone may skip reporting TAKEN and go straight to a later state; QUEUED = lease given back
    State.LEASED: frozenset(
        {State.TAKEN, State.SENT, State.DELIVERED, State.UNDELIVERED, State.FAILED, State.QUEUED}
    ),
    State.TAKEN: frozenset(
        {State.SENT, State.DELIVERED, State.UNDELIVERED, State.FAILED, State.QUEUED}
    ),
    State.SENT: frozenset({State.DELIVERED, State.UNDELIVERED, State.FAILED}),
}

FINAL: Final = frozenset(s for s in State if s not in MOVES)
CANCELLABLE: Final = frozenset({State.SCHEDULED, State.QUEUED})
# a message that ends here never reached an operator, so its cost goes back to the balance; but
# one failed as DEVICE_LOST may have left (its phone never said), and is not refunded
REFUNDED: Final = frozenset({State.FAILED, State.CANCELLED, State.EXPIRED})
IN_FLIGHT: Final = frozenset({State.LEASED, State.TAKEN})

# which states a message may be in for a move into the key state
SOURCES: Final[Mapping[State, frozenset[State]]] = {
    target: frozenset(source for source, targets in MOVES.items() if target in targets)
    for target in State
}

# the column that records when a message entered each state
STAMP: Final[Mapping[State, str]] = {
    State.SCHEDULED: "created_at",
    State.QUEUED: "queued_at",
    State.LEASED: "leased_at",
    State.TAKEN: "taken_at",
    State.SENT: "sent_at",
    State.DELIVERED: "delivered_at",
    State.UNDELIVERED: "failed_at",
    State.FAILED: "failed_at",
    State.CANCELLED: "cancelled_at",
    State.EXPIRED: "expired_at",
}

# how far along a message is: reports that would go backwards are ignored, not errors
RANK: Final[Mapping[State, int]] = {
    State.SCHEDULED: 0,
    State.QUEUED: 1,
    State.LEASED: 2,
    State.TAKEN: 3,
    State.SENT: 4,
    State.DELIVERED: 5,
    State.UNDELIVERED: 5,
    State.FAILED: 5,
    State.CANCELLED: 5,
    State.EXPIRED: 5,
}


def check_move(current: State, target: State) -> None:
    if target not in MOVES.get(current, ()):
        raise errors.IllegalMove(f"a message cannot go from {current} to {target}")


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMessage:
    """A validated message about to be stored."""

    account_id: int
    to: str  # E.164
    to_original: str
    country: str | None
    text: str
    encoding: str
    segments: int
    priority: int = Priority.NORMAL
    devices: tuple[int, ...] = ()  # the devices the client named; empty = any of the account's
    device_id: int | None = None  # the device chosen among them
    sim_slot: int | None = None
    reference: str | None = None
    send_at: datetime | None = None
    valid_until: datetime | None = None
    sender: str | None = None  # a two-way number of the account (E.164): replies come back to it
    created_at: datetime
    # number intelligence (core/numbers.py) and the price, fixed at acceptance
    operator: str = ""
    region: str = ""
    number_type: str = ""
    mccmnc: str = ""
    cost: int = 0  # units of core/billing.py, all parts; debited from the balance on acceptance
    mark: tuple[str, datetime, datetime] | None = None  # a send's Once mark (core/limits.py)
    campaign_id: int | None = None  # the campaign (newsletter) it was expanded from
    sender_name: str = ""  # the sender name the client asked for ("" = the device's own)
    # in a message group (see Message.group_id): how many places before this one, in the same
    # insert, the group's first message is (0: this one leads it); None: not grouped
    group_offset: int | None = None
    test: bool = False  # test mode: the simulated phone takes it, no real device ever does

    @property
    def state(self) -> State:
        if self.send_at is not None and self.send_at > self.created_at:
            return State.SCHEDULED
        return State.QUEUED


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    id: int
    account_id: int
    to: str
    to_original: str
    country: str | None
    text: str
    encoding: str
    segments: int
    state: State
    reason: Reason | None = None
    priority: int = Priority.NORMAL
    devices: tuple[int, ...] = ()
    device_id: int | None = None
    sim_slot: int | None = None
    reference: str | None = None
    attempts: int = 0
    send_at: datetime | None = None
    valid_until: datetime | None = None
    lease_until: datetime | None = None
    created_at: datetime
    queued_at: datetime | None = None
    leased_at: datetime | None = None
    taken_at: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    cancelled_at: datetime | None = None
    expired_at: datetime | None = None
    next_attempt_at: datetime | None = None  # a retry waits until then
    sim_used: int | None = None  # the SIM slot it was handed out on
    operator: str = ""
    region: str = ""
    number_type: str = ""
    mccmnc: str = ""
    cost: int = 0
    refunded_at: datetime | None = None  # its cost went back to the balance (it never left)
    sender: str | None = None  # the two-way number it is sent from, if one
    campaign_id: int | None = None  # the campaign (newsletter) it was expanded from
    sender_name: str = ""
    # messages of one group (the recipients of one request sent `together`) are leased together,
    # to one device; the group's id is the id of its first message
    group_id: int | None = None
    test: bool = False  # test mode: sent by the simulated phone; its results are test results

    @property
    def is_final(self) -> bool:
        return self.state in FINAL

    def moved_to(self, state: State, *, at: datetime, reason: Reason | None = None) -> Message:
        check_move(self.state, state)
        stamped: dict[str, Any] = {STAMP[state]: at}
        return replace(self, state=state, reason=reason, **stamped)


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """A device's word about one message it was given."""

    message_id: int
    state: State
    reason: Reason | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportResult:
    message_id: int
    applied: bool
    state: State | None  # the message's state after the report; None if not found
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewInbound:
    account_id: int
    device_id: int | None
    sender: str
    text: str
    received_at: datetime
    sim_slot: int | None = None


class Received(NamedTuple):
    """An inbound message as a device got it, before the gateway stores it."""

    sender: str
    text: str
    received_at: datetime | None = None  # None: when the gateway takes it in
    sim_slot: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Inbound:
    id: int
    account_id: int
    device_id: int | None
    sender: str
    text: str
    received_at: datetime
    created_at: datetime
    sim_slot: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageFilter:
    """What a listing asks for. Every field narrows; None means 'any'."""

    states: frozenset[State] | None = None
    device_ids: tuple[int, ...] | None = None
    for_devices: tuple[int, ...] | None = (
        None  # sent through one of these, or waiting for one (named, not leased yet)
    )
    phone: str | None = None  # E.164 or the digits as given
    phones: tuple[str, ...] | None = (
        None  # any of these spellings: E.164, as the client wrote it, the sender
    )
    since: datetime | None = None  # created_at >= since
    until: datetime | None = None  # created_at <= until
    min_id: int | None = None
    max_id: int | None = None
    ids: tuple[int, ...] | None = None
    campaign_id: int | None = None  # messages of this campaign
    references: tuple[str, ...] | None = None  # the clients' own ids
    reasons: frozenset[Reason | None] | None = None  # failed ones only with these reasons
    reference: str | None = None  # the client's own id (a vendor's customer id)
    sim_slot: int | None = None  # the SIM slot it went (or goes, or came in) through
    before_id: int | None = None  # cursor: ids strictly below
    limit: int = 100
    ascending: bool = False


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    next_before_id: int | None = None
