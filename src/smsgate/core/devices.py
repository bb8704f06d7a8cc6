"""Devices: what a message physically leaves through (a phone, the simulator, an upstream)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum, auto


class Kind(StrEnum):
    ANDROID = auto()  # a phone that pulls its work through the device API
    SIMULATOR = auto()  # the server-side simulated phone
    UPSTREAM = auto()  # an SMPP/HTTP provider, run as a worker inside the gateway
    MODEM = auto()


class Period(StrEnum):
    HOUR = auto()
    DAY = auto()
    MONTH = auto()


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """How fast and how much a device (or one of its SIMs) may send. None = no limit."""

    pace: timedelta | None = None  # minimum time between two messages
    jitter: timedelta | None = None  # a random extra wait of up to this after each message
    quota: int | None = None  # at most this many messages per period
    quota_recipients: int | None = None  # at most this many distinct recipients per period
    period: Period = Period.DAY
    window_start: time | None = None  # sends only between these local times (quiet hours outside)
    window_end: time | None = None
    timezone: str = "UTC"  # the device's timezone: periods and windows are local to it


@dataclass(frozen=True, slots=True, kw_only=True)
class Sim:
    slot: int  # 1-based, as phones show them
    number: str | None = None
    carrier: str | None = None
    limits: Limits | None = None  # this SIM's own pace and quota, beside the device's


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    id: int
    account_id: int
    name: str
    kind: Kind
    enabled: bool = True
    archived: bool = False
    sims: tuple[Sim, ...] = ()
    battery: int | None = None  # percent
    charging: bool | None = None
    last_seen_at: datetime | None = None
    app_version: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    os_version: str | None = None
    limits: Limits = field(default_factory=Limits)
    created_at: datetime

    def number_of(self, slot: int | None) -> str | None:
        """The two-way number of a SIM slot (with no slot: the device's only numbered SIM)."""
        numbered = [s for s in self.sims if s.number]
        if slot is None:
            return numbered[0].number if len(numbered) == 1 else None
        return next((s.number for s in numbered if s.slot == slot), None)

    @property
    def can_send(self) -> bool:
        return self.enabled and not self.archived

    def online(self, *, now: datetime, within: timedelta) -> bool:
        if self.kind is not Kind.ANDROID:
            return self.can_send
        return self.last_seen_at is not None and now - self.last_seen_at <= within


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat:
    """What a device tells about itself; None leaves a field as it was."""

    battery: int | None = None
    charging: bool | None = None
    sims: tuple[Sim, ...] | None = None
    app_version: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    os_version: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceChanges:
    """An owner's edit of a device; None leaves a field as it was."""

    name: str | None = None
    enabled: bool | None = None
    limits: Limits | None = None
    sim_limits: Mapping[int, Limits] | None = None  # replaces every SIM's own limits
    sim_numbers: Mapping[int, str] | None = None  # replaces the numbers the owner gave SIMs
