"""Gateway: the operations every door uses, each written once."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from smsgate.core import accounts, errors, numbers, routing, segments
from smsgate.core.accounts import Account, ApiKey
from smsgate.core.attempts import Attempts
from smsgate.core.clock import SystemClock
from smsgate.core.devices import Device, DeviceChanges, Heartbeat, Kind, Limits
from smsgate.core.messages import (
    Inbound,
    Message,
    MessageFilter,
    NewInbound,
    NewMessage,
    Page,
    Priority,
    Report,
    ReportResult,
    State,
)
from smsgate.core.requests import SendRequest
from smsgate.dialects.smsgate_app.store import AppWebhook, Link, Links
from smsgate.dispatch.hub import Hub
from smsgate.metrics import Metrics
from smsgate.storage.directory import Directory
from smsgate.storage.messages import DeviceQueue, MessageStore

MAX_RECIPIENTS = 10_000
MAX_BATCH = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    default_region: str | None = "RU"
    default_validity: timedelta = timedelta(hours=24)
    lease_time: timedelta = timedelta(
        seconds=30
    )  # a device confirms (taken) within this, or the work goes back
    taken_timeout: timedelta = timedelta(
        minutes=30
    )  # taken and never reported: failed as lost, not re-sent
    max_attempts: int = (
        3  # a transient failure is retried, on another device first, up to this many tries
    )
    retry_backoff: timedelta = timedelta(seconds=10)  # doubled after every failed try
    urgent_bypasses_pace: bool = (
        True  # urgent messages skip a device's pace (never its quota or window)
    )
    offline_after: timedelta = timedelta(minutes=5)  # a phone silent this long counts as offline
    key_cache_ttl: float = 10.0  # seconds an API key's account is remembered


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceState:
    device: Device
    online: bool
    waiting: routing.Waiting
    queue: DeviceQueue
    now: datetime


def _limited(device: Device) -> bool:
    limits = device.limits
    timed = limits.pace or limits.jitter or limits.window_start or limits.quota
    return bool(timed) or any(s.limits for s in device.sims)


class Gateway:
    def __init__(
        self,
        *,
        store: MessageStore,
        directory: Directory,
        hub: Hub,
        clock: SystemClock | None = None,
        policy: Policy = Policy(),
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()
        self.store = store
        self.directory = directory
        self.hub = hub
        self.clock = clock or SystemClock()
        self.policy = policy
        self._hasher = PasswordHasher()
        self._keys: dict[str, tuple[Account, float]] = {}
        self._attempts = Attempts()  # failed sign-ins (codes, passwords), per client and in all
        self._phones: dict[str, tuple[Device, float]] = {}  # device token hash -> device, until
        self._beats: dict[int, datetime] = {}  # device -> when its last empty heartbeat was written

    # --- accounts, keys, sign-in --------------------------------------------------------------

    async def create_account(self, email: str, password: str, *, is_admin: bool = False) -> Account:
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            raise errors.InvalidInput(f"{email!r} is not an email address")
        if len(password) < 8:
            raise errors.InvalidInput("the password needs at least 8 characters")
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        return await self.directory.add_account(
            email=email, password_hash=password_hash, is_admin=is_admin, now=self.clock.now()
        )

    async def login(self, email: str, password: str) -> Account:
        found = await self.directory.find_account_by_email(email.strip().lower())
        if found is None:
            raise errors.Unauthorized("wrong email or password")
        account, password_hash = found
        try:
            await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerifyMismatchError, InvalidHashError):
            raise errors.Unauthorized("wrong email or password") from None
        return account

    async def set_password(self, account: Account, password: str) -> None:
        if len(password) < 8:
            raise errors.InvalidInput("the password needs at least 8 characters")
        await self.directory.set_password(
            account.id, await asyncio.to_thread(self._hasher.hash, password)
        )

    async def create_key(self, account: Account, name: str = "default") -> tuple[ApiKey, str]:
        secret = accounts.new_secret(accounts.KEY_PREFIX)
        key = await self.directory.add_key(
            account_id=account.id,
            name=name.strip() or "default",
            prefix=accounts.shown_prefix(secret),
            key_hash=accounts.secret_hash(secret),
            now=self.clock.now(),
        )
        return key, secret

    async def list_keys(self, account: Account) -> list[ApiKey]:
        return await self.directory.list_keys(account.id)

    async def revoke_key(self, account: Account, key_id: int) -> ApiKey:
        key = await self.directory.revoke_key(account.id, key_id, now=self.clock.now())
        self._keys.clear()
        return key

    async def authenticate(self, secret: str | None) -> Account:
        """The account an API key belongs to; raises Unauthorized."""
        if not secret:
            raise errors.Unauthorized("an API key is required")
        key_hash = accounts.secret_hash(secret.strip())
        cached = self._keys.get(key_hash)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        account = await self.directory.find_account_by_key(key_hash)
        if account is None:
            raise errors.Unauthorized("the API key is wrong or revoked")
        self._keys[key_hash] = (account, time.monotonic() + self.policy.key_cache_ttl)
        return account

    # --- sending ------------------------------------------------------------------------------

    async def send(self, request: SendRequest, *, account: Account) -> list[Message]:
        """One message per recipient; all accepted and durable, or none."""
        news = await self._prepare(account, [request])
        return await self._accept(news)

    async def send_batch(
        self, requests: Sequence[SendRequest], *, account: Account
    ) -> list[Message]:
        """Many different messages; validated first, so one bad entry writes nothing."""
        if not requests:
            raise errors.InvalidInput("the batch is empty")
        if len(requests) > MAX_BATCH:
            raise errors.InvalidInput(f"a batch holds at most {MAX_BATCH} messages")
        news = await self._prepare(account, requests)
        return await self._accept(news)

    async def _accept(self, news: list[NewMessage]) -> list[Message]:
        stored = await (self.store.add(news) if len(news) <= 100 else self.store.add_many(news))
        self.hub.notify_many((m.account_id, m.device_id) for m in stored if m.queued_at is not None)
        self.metrics.accepted.inc(len(stored))
        return stored

    async def _prepare(self, account: Account, requests: Sequence[SendRequest]) -> list[NewMessage]:
        now = self.clock.now()
        devices = await self._named_devices(account, requests)
        news: list[NewMessage] = []
        for index, request in enumerate(requests):
            try:
                news.extend(self._validate(account, request, devices, now))
            except errors.GatewayError as exc:
                if len(requests) > 1:
                    exc.context.setdefault("index", index)
                    exc.detail = f"message {index}: {exc.detail}"
                raise
        return news

    async def _named_devices(
        self, account: Account, requests: Sequence[SendRequest]
    ) -> dict[int, Device]:
        wanted = {d for r in requests for d in r.devices}
        if not wanted:
            return {}
        found = {
            d.id: d
            for d in await self.directory.list_devices(
                account.id, archived=None, ids=sorted(wanted)
            )
        }
        for device_id in sorted(wanted):
            device = found.get(device_id)
            if device is None:
                raise errors.InvalidDevice(f"device {device_id} does not exist in this account")
            if not device.can_send:
                raise errors.InvalidDevice(
                    f"device {device_id} is {'archived' if device.archived else 'disabled'}"
                )
        return found

    def _validate(
        self, account: Account, request: SendRequest, devices: dict[int, Device], now: datetime
    ) -> list[NewMessage]:
        if not request.to:
            raise errors.InvalidNumber("no recipient given")
        if len(request.to) > MAX_RECIPIENTS:
            raise errors.InvalidInput(f"at most {MAX_RECIPIENTS} recipients per message")
        text, encoded = segments.checked(request.text)
        send_at, valid_until = self._times(request, now)
        if request.sim_slot is not None and not 1 <= request.sim_slot <= 8:
            raise errors.InvalidInput(
                f"SIM slot {request.sim_slot} does not exist (slots are 1 to 8)"
            )
        if request.reference is not None and len(request.reference) > 100:
            raise errors.InvalidInput("a reference has at most 100 characters")
        news = []
        for raw in dict.fromkeys(request.to):
            number = numbers.parse(raw, self.policy.default_region)
            news.append(
                NewMessage(
                    account_id=account.id,
                    to=number.e164,
                    to_original=number.original,
                    country=number.country,
                    text=text,
                    encoding=encoded.encoding,
                    segments=encoded.segments,
                    priority=request.priority,
                    devices=request.devices,
                    sim_slot=request.sim_slot,
                    reference=request.reference,
                    send_at=send_at,
                    valid_until=valid_until,
                    created_at=now,
                )
            )
        return news

    def _times(self, request: SendRequest, now: datetime) -> tuple[datetime | None, datetime]:
        send_at = request.send_at
        if send_at is not None:
            if send_at.tzinfo is None:
                raise errors.InvalidInput("the send time needs a timezone")
            if send_at < now - timedelta(seconds=60):  # a minute of clock skew is forgiven
                raise errors.SendTimeInPast(f"the send time {send_at.isoformat()} is in the past")
            if send_at <= now:
                send_at = None
        start = send_at or now
        try:
            valid_until = request.valid_until or start + (
                request.valid_for or self.policy.default_validity
            )
        except OverflowError:
            raise errors.InvalidInput(
                f"the send time {start.isoformat()} is too far ahead"
            ) from None
        if valid_until.tzinfo is None:
            raise errors.InvalidInput("the validity end needs a timezone")
        if valid_until <= start:
            raise errors.InvalidInput("the message would expire before it could be sent")
        return send_at, valid_until

    # --- reading and changing messages --------------------------------------------------------

    async def get(self, message_id: int, *, account: Account) -> Message:
        return await self.store.get(account.id, message_id)

    async def list(self, f: MessageFilter, *, account: Account) -> Page[Message]:
        return await self.store.list(account.id, f)

    async def cancel(self, message_id: int, *, account: Account) -> Message:
        """Cancels a message no device has; a phone that can cancel is asked to (it stays leased)."""
        try:
            return await self.store.cancel(account.id, message_id, now=self.clock.now())
        except errors.Conflict:
            asked = await self.ask_to_cancel(message_id, account=account)
            if asked is None:
                raise
            return asked

    async def cancel_matching(self, f: MessageFilter, *, account: Account) -> list[Message]:
        return await self.store.cancel_matching(account.id, f, now=self.clock.now())

    async def delete(self, message_id: int, *, account: Account) -> Message:
        return await self.store.delete(account.id, message_id)

    async def delete_matching(self, f: MessageFilter, *, account: Account) -> list[Message]:
        return await self.store.delete_matching(account.id, f)

    # --- devices ------------------------------------------------------------------------------

    async def register_device(
        self, name: str, *, account: Account, kind: Kind = Kind.ANDROID, limits: Limits = Limits()
    ) -> tuple[Device, str | None]:
        name = name.strip()
        if not name or len(name) > 200:
            raise errors.InvalidInput("a device needs a name of 1 to 200 characters")
        token = accounts.new_secret(accounts.DEVICE_TOKEN_PREFIX) if kind is Kind.ANDROID else None
        device = await self.directory.add_device(
            account_id=account.id,
            name=name,
            kind=kind,
            token_hash=accounts.secret_hash(token) if token else None,
            limits=limits,
            now=self.clock.now(),
        )
        return device, token

    async def list_devices(
        self, *, account: Account, archived: bool | None = False, ids: Sequence[int] | None = None
    ) -> list[Device]:
        return await self.directory.list_devices(account.id, archived=archived, ids=ids)

    async def get_device(self, device_id: int, *, account: Account) -> Device:
        return await self.directory.get_device(account.id, device_id)

    async def change_device(
        self, device_id: int, changes: DeviceChanges, *, account: Account
    ) -> Device:
        if changes.name is not None:
            if not 1 <= len(changes.name.strip()) <= 200:
                raise errors.InvalidInput("a device needs a name of 1 to 200 characters")
            changes = dataclasses.replace(
                changes, name=changes.name.strip()
            )  # as register_device keeps it
        self._forget(device_id)
        return await self.directory.change_device(account.id, device_id, changes)

    async def archive_device(self, device_id: int, *, account: Account) -> Device:
        self._forget(device_id)
        return await self.directory.archive_device(account.id, device_id)

    async def authenticate_device(self, token: str | None) -> Device:
        if not token:
            raise errors.Unauthorized("a device token is required")
        token_hash = accounts.secret_hash(token.strip())
        cached = self._phones.get(token_hash)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        device = await self.directory.find_device_by_token(token_hash)
        if device is None or device.archived:
            raise errors.Unauthorized("the device token is wrong or revoked")
        self._phones[token_hash] = (device, time.monotonic() + self.policy.key_cache_ttl)
        return device

    def _forget(self, device_id: int) -> None:
        """A changed device is read afresh on its next request (here; other nodes within the cache TTL)."""
        for token_hash in [h for h, (d, _) in self._phones.items() if d.id == device_id]:
            del self._phones[token_hash]

    async def heartbeat(self, device: Device, beat: Heartbeat) -> None:
        """An empty heartbeat (a poll) is written at most every 10 s: "last seen" needs no more."""
        now = self.clock.now()
        if beat == Heartbeat():
            last = self._beats.get(device.id)
            if last is not None and timedelta(0) <= now - last < timedelta(seconds=10):
                return
            self._beats[device.id] = now
        else:
            self._forget(device.id)
        await self.directory.heartbeat(device.id, beat, now=now)

    # --- visibility: what waits, and why -------------------------------------------------------

    async def device_state(self, device_id: int, *, account: Account) -> DeviceState:
        device = await self.directory.get_device(account.id, device_id)
        return await self.state_of(device)

    async def device_states(self, *, account: Account | None = None) -> list[DeviceState]:
        """Every live device's state (of one account, or of all: for the metrics)."""
        found = await self.directory.list_devices(account.id if account else None, archived=False)
        return [await self.state_of(d) for d in found]

    async def state_of(self, device: Device) -> DeviceState:
        now = self.clock.now()
        queue = await self.store.device_queue(device, now=now)
        online = device.online(now=now, within=self.policy.offline_after)
        waiting = routing.device_waiting(device, queue.usage, now=now, online=online)
        return DeviceState(device=device, online=online, waiting=waiting, queue=queue, now=now)

    async def why(self, message_id: int, *, account: Account) -> tuple[routing.Waiting | None, str]:
        """Why a message has not gone out yet: None once a device has it (or it is final)."""
        message = await self.store.get(account.id, message_id)
        now = self.clock.now()
        if message.state is State.SCHEDULED:
            return (
                routing.Waiting.SCHEDULED,
                f"scheduled for {message.send_at.isoformat() if message.send_at else '?'}",
            )
        if message.state is not State.QUEUED:
            return None, f"the message is {message.state}"
        if message.next_attempt_at and message.next_attempt_at > now:
            return (
                routing.Waiting.RETRY_BACKOFF,
                f"retrying after {message.next_attempt_at.isoformat()} ({message.reason})",
            )
        ids = message.devices or None
        candidates = [
            d for d in await self.directory.list_devices(account.id, archived=None, ids=ids)
        ]
        if not candidates:
            return routing.Waiting.NO_DEVICE, "the account has no device that could send it"
        states = [await self.state_of(d) for d in candidates]
        urgent = message.priority >= Priority.URGENT and self.policy.urgent_bypasses_pace
        reasons = {
            s.device.id: routing.device_waiting(
                s.device, s.queue.usage, now=now, online=s.online, urgent=urgent
            )
            for s in states
        }
        ready = [i for i, r in reasons.items() if r is routing.Waiting.READY]
        if ready:
            return routing.Waiting.READY, f"device {ready[0]} will take it at its next pull"
        worst = min(
            reasons.values(),
            key=lambda r: routing.WAITING_ORDER.index(r) if r in routing.WAITING_ORDER else 99,
        )
        detail = ", ".join(f"device {i}: {r}" for i, r in reasons.items())
        return worst, detail

    # --- the device side: pull work, report, receive ------------------------------------------

    async def pull(self, device: Device, *, limit: int = 10, wait: float = 0.0) -> list[Message]:
        """Leases up to `limit` messages to the device; waits up to `wait` seconds for work."""
        if not device.can_send:
            return []
        deadline = time.monotonic() + wait
        while True:
            woken = self.hub.event(device.account_id, device.id)
            now = self.clock.now()
            leased = await self.store.lease(
                device_id=device.id, limit=limit, now=now, until=now + self.policy.lease_time
            )
            remaining = deadline - time.monotonic()
            if leased:
                self.hub.served[device.id] = time.monotonic()
            if leased or remaining <= 0:
                return leased
            self.hub.polls[device.id] += 1
            try:  # a limited device looks again each second: its pace or window may open without a wake-up
                await asyncio.wait_for(
                    woken.wait(), min(remaining, 1.0) if _limited(device) else remaining
                )
            except TimeoutError:
                if time.monotonic() >= deadline:
                    return []
            finally:
                self.hub.polls[device.id] -= 1

    async def report(self, device: Device, reports: Sequence[Report]) -> list[ReportResult]:
        results = await self.store.report(
            account_id=device.account_id, device_id=device.id, reports=reports, now=self.clock.now()
        )
        for result in results:
            if result.applied and result.state is not None:
                self.metrics.reports.labels(result.state.value).inc()
        released = [
            (device.account_id, None) for r in results if r.applied and r.state is State.QUEUED
        ]
        self.hub.notify_many(released)
        return results

    async def receive(
        self, device: Device, items: Sequence[tuple[str, str, datetime | None, int | None]]
    ) -> list[Inbound]:
        """Inbound SMS a device got: (sender, text, received_at, sim_slot)."""
        now = self.clock.now()
        news = []
        for sender, text, received_at, sim_slot in items:
            if not sender or not sender.strip():
                raise errors.InvalidInput("an inbound message needs its sender")
            news.append(
                NewInbound(
                    account_id=device.account_id,
                    device_id=device.id,
                    sender=sender.strip(),
                    text=text,
                    received_at=received_at or now,
                    sim_slot=sim_slot,
                )
            )
        stored = await self.directory.add_inbound(news, now=now)
        self.metrics.inbound.inc(len(stored))
        return stored

    async def list_inbound(self, f: MessageFilter, *, account: Account) -> Page[Inbound]:
        return await self.directory.list_inbound(account.id, f)

    async def delete_inbound(self, f: MessageFilter, *, account: Account) -> list[Inbound]:
        return await self.directory.delete_inbound(account.id, f)

    # --- phones that hold their work (the SMSGate app), their streams and secrets ---------------

    @functools.cached_property
    def links(self) -> Links:
        return Links(self.directory._db)

    async def link_device(self, device: Device) -> Link:
        """The device's webhook secret and signing key, made on first use."""
        return await self.links.link(device, now=self.clock.now())

    async def list_links(self, *, account: Account) -> dict[int, Link]:
        return await self.links.list_links(account.id)

    async def streaming(
        self, *, account: Account, fresh: timedelta = timedelta(seconds=45)
    ) -> dict[int, bool]:
        """Per linked phone: whether an event stream of it is open on any node (keep-alives refresh it)."""
        now = self.clock.now()
        return {
            device_id: link.stream_seen_at is not None and now - link.stream_seen_at <= fresh
            for device_id, link in (await self.list_links(account=account)).items()
        }

    async def set_push_token(self, device: Device, token: str | None) -> None:
        await self.links.update_link(device.id, push_token=token or None)

    async def find_device_by_hook(self, hook_secret: str) -> tuple[Device, Link] | None:
        found = await self.links.find_by_hook(hook_secret)
        if found is None or found[0].archived:
            return None
        return found

    async def pull_held(self, device: Device, *, limit: int = 100) -> list[tuple[Message, bool]]:
        """For a phone that never gives work back: new work is leased to it until its validity ends,
        and what it holds unacknowledged (or with a cancel to pass on) comes again. (message, cancel?)"""
        fresh = await self.pull(device, limit=limit, wait=0)
        await self.links.stick(device.id, [m.id for m in fresh])
        return await self.links.held(device.account_id, device.id, limit=limit)

    async def acknowledge(self, device: Device, message_ids: Sequence[int]) -> None:
        """The phone says it has these: they are not handed to it again."""
        await self.links.acknowledge(device.id, message_ids, now=self.clock.now())

    async def ask_to_cancel(self, message_id: int, *, account: Account) -> Message | None:
        """A leased message on a phone that can cancel: asks it (event stream, next pull); the phone's
        report decides. None if no such phone holds it."""
        message = await self.links.request_cancel(account.id, message_id, now=self.clock.now())
        if message is not None and message.device_id is not None:
            self.hub.streams.push(
                account.id, message.device_id, "MessageCancelled", {"messageId": str(message.id)}
            )
        return message

    async def cancel_requested(self, message_ids: Sequence[int]) -> set[int]:
        return await self.links.cancel_requested(message_ids)

    async def confirm_cancel(
        self, device: Device, message_id: int, *, at: datetime | None = None
    ) -> Message | None:
        """The phone says it dropped a message it was asked to cancel: cancelled (None if not asked)."""
        now = self.clock.now()
        return await self.links.confirm_cancel(device.id, message_id, at=min(at or now, now))

    async def find_by_reference(self, reference: str, *, account: Account) -> list[Message]:
        return await self.links.by_reference(account.id, reference)

    async def receive_once(
        self,
        device: Device,
        key: str,
        items: Sequence[tuple[str, str, datetime | None, int | None]],
    ) -> list[Inbound] | None:
        """Like receive, for a delivery that may come again: None if `key` was taken in before."""
        now = self.clock.now()
        news = [
            NewInbound(
                account_id=device.account_id,
                device_id=device.id,
                sender=sender.strip(),
                text=text,
                received_at=received_at or now,
                sim_slot=sim_slot,
            )
            for sender, text, received_at, sim_slot in items
            if sender and sender.strip()
        ]
        stored = await self.links.receive_once(device.id, key, news, now=now)
        if stored:
            self.metrics.inbound.inc(len(stored))
        return stored

    def connected(self, device: Device) -> bool:
        """Whether an event stream of the device is open on this node right now."""
        return self.hub.streams.connected(device.id, device.account_id)

    async def stream_seen(self, device: Device, *, open_: bool) -> None:
        """Records that the device's stream is open (kept fresh by keep-alives) or closed."""
        await self.links.update_link(device.id, stream_seen_at=self.clock.now() if open_ else None)
        await self.directory.heartbeat(device.id, Heartbeat(), now=self.clock.now())

    def push_event(
        self, account_id: int, device_id: int | None, kind: str, data: dict[str, str] | None = None
    ) -> int:
        """An event for the streams of one device (or of every device of the account)."""
        return self.hub.streams.push(account_id, device_id, kind, data)

    # --- sign-in by code, password change -----------------------------------------------------

    async def new_sign_in_code(
        self, account: Account, *, valid_for: timedelta = timedelta(seconds=60)
    ) -> tuple[str, datetime]:
        now = self.clock.now()
        for _ in range(20):
            code = f"{secrets.randbelow(1_000_000):06d}"
            if await self.links.add_code(
                code_hash=accounts.secret_hash(code),
                account_id=account.id,
                valid_until=now + valid_for,
                now=now,
            ):
                return code, now + valid_for
        raise errors.Unavailable("no free sign-in code right now; try again")

    async def sign_in_with_code(self, code: str, *, client: str = "") -> Account:
        now = self.clock.now()
        self._attempts.check(client, now)
        account_id = await self.links.take_code(accounts.secret_hash(code.strip()), now=now)
        if account_id is None:
            self._attempts.failed(client, now)
            raise errors.Unauthorized("the sign-in code is wrong or expired")
        return await self.directory.get_account(account_id)

    async def account_of(self, device: Device) -> Account:
        return await self.directory.get_account(device.account_id)

    async def change_password(self, account: Account, current: str, new: str) -> None:
        await self.login(account.email, current)
        await self.set_password(account, new)

    # --- the app client API's webhooks and settings -------------------------------------------

    async def list_app_webhooks(self, *, account: Account) -> list[AppWebhook]:
        return await self.links.list_webhooks(account.id)

    async def put_app_webhook(self, hook: AppWebhook, *, account: Account) -> AppWebhook:
        return await self.links.put_webhook(account.id, hook, now=self.clock.now())

    async def delete_app_webhook(self, hook_id: str, *, account: Account) -> None:
        if not await self.links.delete_webhook(account.id, hook_id):
            raise errors.NotFound(f"webhook {hook_id} not found")

    async def get_app_settings(self, *, account: Account) -> dict[str, Any]:
        return await self.links.get_settings(account.id)

    async def put_app_settings(self, settings: dict[str, Any], *, account: Account) -> None:
        await self.links.put_settings(account.id, settings, now=self.clock.now())
