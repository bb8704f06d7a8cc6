"""Dispatch rules in plain Python: periods, windows, pace, quotas, SIM choice, back-off.

The store runs these inside the transaction that leases work to a device, so they hold across
several gateway nodes (the device's row is locked while it is decided).
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum, auto
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smsgate.core import errors
from smsgate.core.devices import Device, Limits, Period, Sim

WHOLE_DEVICE = 0  # the usage row of the device itself; SIMs count under their slot


class Waiting(StrEnum):
    """Why a queued message has not gone out yet."""

    SCHEDULED = auto()
    RETRY_BACKOFF = auto()
    NO_DEVICE = auto()  # the account has no device that could send it
    DEVICE_OFFLINE = auto()
    DEVICE_DISABLED = auto()
    AT_QUOTA = auto()
    PACE = auto()
    OUTSIDE_WINDOW = auto()
    READY = auto()  # an eligible device will take it at its next pull


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.InvalidInput(f"unknown timezone {name!r}") from None


def period_start(period: Period, now: datetime, timezone: str = "UTC") -> datetime:
    """The start of the calendar hour/day/month holding `now`, in the device's timezone, as UTC."""
    local = now.astimezone(zone(timezone))
    if period is Period.HOUR:
        start = local.replace(minute=0, second=0, microsecond=0)
    elif period is Period.DAY:
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(UTC)


def period_end(period: Period, start: datetime, timezone: str = "UTC") -> datetime:
    local = start.astimezone(zone(timezone))
    if period is Period.HOUR:
        return start + timedelta(hours=1)
    if period is Period.DAY:
        return (local + timedelta(days=1)).replace(hour=0).astimezone(UTC)
    days = calendar.monthrange(local.year, local.month)[1]
    return (local.replace(day=1) + timedelta(days=days)).astimezone(UTC)


def in_window(limits: Limits, now: datetime) -> bool:
    if limits.window_start is None or limits.window_end is None:
        return True
    local = now.astimezone(zone(limits.timezone)).time()
    start, end = limits.window_start, limits.window_end
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # a window across midnight, e.g. 20:00-08:00


def next_pace(limits: Limits, now: datetime, rng: random.Random) -> datetime | None:
    if limits.pace is None and limits.jitter is None:
        return None
    wait = limits.pace or timedelta(0)
    if limits.jitter:
        wait += timedelta(seconds=rng.uniform(0, limits.jitter.total_seconds()))
    return now + wait


@dataclass(slots=True)
class Usage:
    """What a device (slot 0) or a SIM has used in its current period."""

    messages: int = 0
    recipients: set[str] | None = None
    next_send_at: datetime | None = None

    def room(self, limits: Limits | None) -> int | None:
        """How many more messages the quota allows; None = unlimited."""
        if limits is None or limits.quota is None:
            return None
        return max(0, limits.quota - self.messages)

    def paced(self, limits: Limits | None, now: datetime) -> bool:
        return bool(
            limits
            and (limits.pace or limits.jitter)
            and self.next_send_at
            and self.next_send_at > now
        )

    def takes_recipient(self, limits: Limits | None, phone: str) -> bool:
        if limits is None or limits.quota_recipients is None or self.recipients is None:
            return True
        return phone in self.recipients or len(self.recipients) < limits.quota_recipients


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceQueue:
    queued: int  # waiting, and this device may take them
    leased: int  # handed to it, not yet confirmed
    taken: int  # confirmed, not yet reported sent
    usage: dict[int, Usage]  # slot 0 = the device, others its SIMs


def choose_sim(
    device: Device, requested: int | None, usage: Mapping[int, Usage], now: datetime, phone: str
) -> int | bool | None:
    """The SIM slot to send through: the requested one, else the least used one that may send.

    Returns None when the device reports no SIMs (the phone picks), False when no SIM may send it now.
    """
    if not device.sims:
        return requested
    candidates: Sequence[Sim] = [s for s in device.sims if requested is None or s.slot == requested]
    usable = [s for s in candidates if _sim_may_send(s, usage.get(s.slot), now, phone)]
    if not usable:
        return False
    return min(usable, key=lambda s: ((usage.get(s.slot) or Usage()).messages, s.slot)).slot


def _sim_may_send(sim: Sim, usage: Usage | None, now: datetime, phone: str) -> bool:
    if sim.limits is None:
        return True
    usage = usage or Usage()
    room = usage.room(sim.limits)
    return (
        (room is None or room > 0)
        and not usage.paced(sim.limits, now)
        and usage.takes_recipient(sim.limits, phone)
    )


def device_waiting(
    device: Device, usage: Mapping[int, Usage], *, now: datetime, online: bool, urgent: bool = False
) -> Waiting:
    """Why this device would not take a message now, or READY."""
    if not device.can_send:
        return Waiting.DEVICE_DISABLED
    if not online:
        return Waiting.DEVICE_OFFLINE
    if not in_window(device.limits, now):
        return Waiting.OUTSIDE_WINDOW
    whole = usage.get(WHOLE_DEVICE, Usage())
    if whole.room(device.limits) == 0:
        return Waiting.AT_QUOTA
    if whole.paced(device.limits, now) and not urgent:
        return Waiting.PACE
    return Waiting.READY


# the reason shown for a message when no device is ready: the most telling one first
WAITING_ORDER: Final = (
    Waiting.PACE,
    Waiting.OUTSIDE_WINDOW,
    Waiting.AT_QUOTA,
    Waiting.DEVICE_OFFLINE,
    Waiting.DEVICE_DISABLED,
)


def backoff(
    attempt: int, *, base: timedelta = timedelta(seconds=10), cap: timedelta = timedelta(minutes=10)
) -> timedelta:
    """How long a message waits before its next try after `attempt` failed tries: 10 s, 20 s, 40 s..."""
    waited: timedelta = base * (2 ** max(0, attempt - 1))
    return min(cap, waited)


def parse_time(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise errors.InvalidInput(f"{text!r} is not a time of day like 08:30") from None
