"""What a door asks of the gateway, after it has parsed its own wire format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from smsgate.core.limits import Once
from smsgate.core.messages import Priority


@dataclass(frozen=True, slots=True, kw_only=True)
class SendRequest:
    to: tuple[str, ...]  # one message per recipient
    text: str
    devices: tuple[int, ...] = ()  # spread over these; empty = any of the account's devices
    sim_slot: int | None = None
    priority: int = Priority.NORMAL
    send_at: datetime | None = None
    valid_until: datetime | None = None
    valid_for: timedelta | None = None
    reference: str | None = None
    once: Once | None = None  # refuse the same send again within a window (errors.TooManyRequests)
    sender: str | None = None  # a two-way number of the account: sent through its SIM
    sender_name: str | None = None  # a sender name of the account (gateway.senders)
    together: bool = False  # one message group: all its recipients leave through one device
    test: bool = False  # test mode: only the simulated phone takes it
