"""Devices: phones, the simulated phone and server-side channels; their tokens, limits and state."""

from __future__ import annotations

import builtins
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from smsgate.core import accounts, errors, routing
from smsgate.core.accounts import Account
from smsgate.core.devices import Device, DeviceChanges, Heartbeat, Kind, Limits
from smsgate.service.context import Context
from smsgate.storage.messages import DeviceQueue

EMPTY_BEAT_EVERY = timedelta(
    seconds=10
)  # an empty heartbeat (a poll) is written at most this often


FLEET_TTL = 2.0  # seconds an account's kinds of device are remembered (test mode reads them)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fleet:
    """What kinds of device an account has: send's test-mode rule reads it."""

    real: bool  # a live device that is not the simulated phone (a phone, an upstream, a modem)
    simulator: bool  # a simulated phone that can send


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceState:
    device: Device
    online: bool
    waiting: routing.Waiting
    queue: DeviceQueue
    now: datetime


class Devices:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._phones: dict[str, tuple[Device, float]] = {}  # device token hash -> device, until
        self._beats: dict[int, datetime] = {}  # device -> when its last empty heartbeat was written
        self._fleets: dict[int, tuple[Fleet, float]] = {}  # account -> its fleet, until

    async def register(
        self,
        name: str,
        *,
        account: Account,
        kind: Kind = Kind.ANDROID,
        limits: Limits = Limits(),
    ) -> tuple[Device, str | None]:
        """A new device; a phone gets a token (shown once), a simulator or channel none."""
        name = _checked_name(name)
        token = accounts.new_secret(accounts.DEVICE_TOKEN_PREFIX) if kind is Kind.ANDROID else None
        device = await self._ctx.directory.add_device(
            account_id=account.id,
            name=name,
            kind=kind,
            token_hash=accounts.secret_hash(token) if token else None,
            limits=limits,
            now=self._ctx.clock.now(),
        )
        self._fleets.pop(account.id, None)
        return device, token

    async def fleet(self, account_id: int) -> Fleet:
        """Remembered FLEET_TTL seconds; a change here shows at once, one elsewhere (another node,
        the CLI) within that."""
        cached = self._fleets.get(account_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        live = await self._ctx.directory.list_devices(account_id, archived=False)
        fleet = Fleet(
            real=any(d.kind is not Kind.SIMULATOR for d in live),
            simulator=any(d.kind is Kind.SIMULATOR and d.can_send for d in live),
        )
        self._fleets[account_id] = (fleet, time.monotonic() + FLEET_TTL)
        return fleet

    async def list(
        self,
        *,
        account: Account,
        archived: bool | None = False,
        ids: Sequence[int] | None = None,
    ) -> Sequence[Device]:
        return await self._ctx.directory.list_devices(account.id, archived=archived, ids=ids)

    async def of_kind(self, kind: Kind) -> Sequence[Device]:
        """Every live device of a kind, in every account (for the channels that drive them)."""
        return await self._ctx.directory.list_devices(None, archived=False, kind=kind)

    async def get(self, device_id: int, *, account: Account) -> Device:
        return await self._ctx.directory.get_device(account.id, device_id)

    async def refresh(self, device: Device) -> Device | None:
        """The device as stored now (None once it is gone)."""
        return await self._ctx.directory.find_device(device.account_id, device.id)

    async def change(self, device_id: int, changes: DeviceChanges, *, account: Account) -> Device:
        if changes.name is not None:
            changes = dataclasses.replace(changes, name=_checked_name(changes.name))
        self.forget(device_id)
        self._fleets.pop(account.id, None)
        return await self._ctx.directory.change_device(account.id, device_id, changes)

    async def archive(self, device_id: int, *, account: Account) -> Device:
        self.forget(device_id)
        self._fleets.pop(account.id, None)
        return await self._ctx.directory.archive_device(account.id, device_id)

    async def authenticate(self, token: str | None) -> Device:
        if not token:
            raise errors.Unauthorized("a device token is required")
        token_hash = accounts.secret_hash(token.strip())
        cached = self._phones.get(token_hash)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        device = await self._ctx.directory.find_device_by_token(token_hash)
        if device is None or device.archived:
            raise errors.Unauthorized("the device token is wrong or revoked")
        self._phones[token_hash] = (device, time.monotonic() + self._ctx.policy.key_cache_ttl)
        return device

    def forget(self, device_id: int) -> None:
        """A changed device is read afresh on its next request (here; other nodes within the cache TTL)."""
        for token_hash in [h for h, (d, _) in self._phones.items() if d.id == device_id]:
            del self._phones[token_hash]

    async def heartbeat(self, device: Device, beat: Heartbeat) -> None:
        """An empty heartbeat (a poll) is written at most every 10 s: "last seen" needs no more."""
        now = self._ctx.clock.now()
        if beat == Heartbeat():
            last = self._beats.get(device.id)
            if last is not None and timedelta(0) <= now - last < EMPTY_BEAT_EVERY:
                return
            self._beats[device.id] = now
        else:
            self.forget(device.id)
        await self._ctx.directory.heartbeat(device.id, beat, now=now)

    def online(self, device: Device) -> bool:
        """Heard from within SMSGATE_OFFLINE_AFTER (a simulator or channel is always online)."""
        return device.online(now=self._ctx.clock.now(), within=self._ctx.policy.offline_after)

    # --- visibility: what waits, and why -------------------------------------------------------

    async def state(self, device_id: int, *, account: Account) -> DeviceState:
        device = await self._ctx.directory.get_device(account.id, device_id)
        return await self.state_of(device)

    async def states(self, *, account: Account | None = None) -> builtins.list[DeviceState]:
        """Every live device's state (of one account, or of all: for the metrics)."""
        found = await self._ctx.directory.list_devices(
            account.id if account else None, archived=False
        )
        return [await self.state_of(d) for d in found]

    async def state_of(self, device: Device) -> DeviceState:
        now = self._ctx.clock.now()
        queue = await self._ctx.store.device_queue(device, now=now)
        online = device.online(now=now, within=self._ctx.policy.offline_after)
        waiting = routing.device_waiting(device, queue.usage, now=now, online=online)
        return DeviceState(device=device, online=online, waiting=waiting, queue=queue, now=now)

    async def refresh_gauges(self) -> None:
        """The metrics' gauges: stored messages by status, each live device's queue and readiness."""
        m = self._ctx.metrics
        for status, n in (await self._ctx.store.count()).items():
            m.messages.labels(status.value).set(n)
        for gauge in (
            m.device_queued,
            m.device_leased,
            m.device_taken,
            m.device_used,
            m.device_quota,
            m.device_ready,
        ):
            gauge.clear()
        for state in await self.states():
            labels = (str(state.device.account_id), str(state.device.id))
            m.device_queued.labels(*labels).set(state.queue.queued)
            m.device_leased.labels(*labels).set(state.queue.leased)
            m.device_taken.labels(*labels).set(state.queue.taken)
            m.device_ready.labels(*labels, state.waiting.value).set(
                1 if state.waiting.value == "ready" else 0
            )
            limits = {0: state.device.limits, **{s.slot: s.limits for s in state.device.sims}}
            for slot, usage in state.queue.usage.items():
                m.device_used.labels(*labels, str(slot)).set(usage.messages)
                quota = limits.get(slot)
                if quota is not None and quota.quota is not None:
                    m.device_quota.labels(*labels, str(slot)).set(quota.quota)


def _checked_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise errors.InvalidInput("a device needs a name of 1 to 200 characters")
    return name
