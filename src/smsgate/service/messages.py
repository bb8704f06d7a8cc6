"""Outbound messages: accept (one, many), read, cancel, delete, and why one waits."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from smsgate.core import errors, routing, segments
from smsgate.core.accounts import Account
from smsgate.core.billing import PriceList
from smsgate.core.devices import Device, Kind
from smsgate.core.messages import Message, MessageFilter, NewMessage, Page, Priority, State
from smsgate.core.requests import SendRequest
from smsgate.service.billing import Billing
from smsgate.service.context import Context
from smsgate.service.devices import Devices, Fleet
from smsgate.service.numbers import Number, Numbers
from smsgate.service.senders import Senders

MAX_RECIPIENTS = 10_000
MAX_BATCH = 100_000

# asked when a cancel finds the message on a device: a phone that can cancel is asked to, and the
# answer is the message as it then stands (None: no such phone holds it, the cancel is refused)
Canceller = Callable[[int, Account], Awaitable[Message | None]]


@dataclass(frozen=True, slots=True)
class Refused:
    """A message of a batch that was not accepted, and why."""

    index: int
    error: errors.GatewayError


@dataclass(frozen=True, slots=True)
class Accepted:
    """What `send_each` did: each stored message with the index of the request it came from
    (a request with several recipients gives several), and the requests refused."""

    messages: list[tuple[int, Message]]
    refused: list[Refused]


class Messages:
    def __init__(
        self, ctx: Context, *, devices: Devices, billing: Billing, senders: Senders
    ) -> None:
        self._ctx = ctx
        self._devices = devices
        self._billing = billing
        self._names = senders
        self._cancellers: builtins.list[Canceller] = []

    def add_canceller(self, canceller: Canceller) -> None:
        """A door whose phones can drop work they hold (the SMSGate app) registers how to ask them."""
        self._cancellers.append(canceller)

    # --- sending ------------------------------------------------------------------------------

    async def send(self, request: SendRequest, *, account: Account) -> builtins.list[Message]:
        """One message per recipient; all accepted and durable, or none."""
        news = await self._prepare(account, [request])
        return await self._accept(news)

    async def send_batch(
        self, requests: Sequence[SendRequest], *, account: Account
    ) -> builtins.list[Message]:
        """Many different messages; validated first, so one bad entry writes nothing."""
        if not requests:
            raise errors.InvalidInput("the batch is empty")
        if len(requests) > MAX_BATCH:
            raise errors.InvalidInput(f"a batch holds at most {MAX_BATCH} messages")
        news = await self._prepare(account, requests)
        return await self._accept(news)

    async def send_each(self, requests: Sequence[SendRequest], *, account: Account) -> Accepted:
        """Many different messages, each on its own: the valid ones are accepted (durable, in one
        write), the invalid ones refused with their index and reason; nothing is refused for
        another's fault."""
        if not requests:
            raise errors.InvalidInput("the batch is empty")
        if len(requests) > MAX_BATCH:
            raise errors.InvalidInput(f"a batch holds at most {MAX_BATCH} messages")
        now = self._ctx.clock.now()
        devices = await self._devices_named(account, requests)
        prices = await self._billing.price_list()
        senders: dict[str, Number | errors.GatewayError] = {}
        for wanted in sorted({r.sender for r in requests if r.sender is not None}):
            try:
                senders[wanted] = await Numbers(self._ctx).sender(wanted, account=account)
            except errors.GatewayError as exc:  # refuses the messages sent from it, not all
                senders[wanted] = exc
        fleet = (
            await self._devices.fleet(account.id) if any(not r.devices for r in requests) else None
        )
        news: builtins.list[NewMessage] = []
        owners: builtins.list[int] = []
        refused: builtins.list[Refused] = []
        for index, request in enumerate(requests):
            try:
                _check_devices(request.devices, devices)  # the ones it named (a sender's: checked)
                test = test_mode(request.devices, named=devices, fleet=fleet, asked=request.test)
                if request.sender is not None:
                    sender = senders[request.sender]
                    if isinstance(sender, errors.GatewayError):
                        raise sender
                    request = self._from(request, sender)
                made = self._validate(account, request, devices, now, prices, test=test)
            except errors.GatewayError as exc:
                refused.append(Refused(index, exc))
                continue
            news.extend(made)
            owners.extend([index] * len(made))
        stored = await self._accept(news) if news else []
        return Accepted(list(zip(owners, stored, strict=True)), refused)

    async def _accept(self, news: builtins.list[NewMessage]) -> builtins.list[Message]:
        store = self._ctx.store
        stored = await (store.add(news) if len(news) <= 100 else store.add_many(news))
        self._ctx.hub.notify_many(
            (m.account_id, m.device_id) for m in stored if m.queued_at is not None
        )
        self._ctx.metrics.accepted.inc(len(stored))
        return stored

    async def _prepare(
        self, account: Account, requests: Sequence[SendRequest]
    ) -> builtins.list[NewMessage]:
        now = self._ctx.clock.now()
        devices = await self._named_devices(account, requests)
        prices = await self._billing.price_list()
        senders = await self._senders(account, requests)
        fleet = (
            await self._devices.fleet(account.id) if any(not r.devices for r in requests) else None
        )
        news: builtins.list[NewMessage] = []
        for index, request in enumerate(requests):
            try:
                # as the client asked, before `from` (a two-way number is a real SIM)
                test = test_mode(request.devices, named=devices, fleet=fleet, asked=request.test)
                if request.sender is not None:
                    request = self._from(request, senders[request.sender])
                name = await self._names.check(request.sender_name, account=account)
                news.extend(self._validate(account, request, devices, now, prices, name, test=test))
            except errors.GatewayError as exc:
                if len(requests) > 1:
                    exc.context.setdefault("index", index)
                    exc.detail = f"message {index}: {exc.detail}"
                raise
        return news

    async def _senders(
        self, account: Account, requests: Sequence[SendRequest]
    ) -> dict[str, Number]:
        wanted = {r.sender for r in requests if r.sender is not None}
        if not wanted:
            return {}
        numbers = Numbers(self._ctx)
        return {s: await numbers.sender(s, account=account) for s in sorted(wanted)}

    @staticmethod
    def _from(request: SendRequest, number: Number) -> SendRequest:
        """Sent from a two-way number: through its device and SIM, and marked with it."""
        if request.devices and request.devices != (number.device_id,):
            raise errors.InvalidSender(
                f"{number.number} is on device {number.device_id}, not on the devices named"
            )
        if request.sim_slot is not None and request.sim_slot != number.slot:
            raise errors.InvalidSender(f"{number.number} is in SIM slot {number.slot}")
        return dataclasses.replace(
            request, devices=(number.device_id,), sim_slot=number.slot, sender=number.number
        )

    async def _named_devices(
        self, account: Account, requests: Sequence[SendRequest]
    ) -> dict[int, Device]:
        found = await self._devices_named(account, requests)
        _check_devices(sorted({d for r in requests for d in r.devices}), found)
        return found

    async def _devices_named(
        self, account: Account, requests: Sequence[SendRequest]
    ) -> dict[int, Device]:
        """The account's devices the requests name (one read for all)."""
        wanted = {d for r in requests for d in r.devices}
        if not wanted:
            return {}
        listed = await self._devices.list(account=account, archived=None, ids=sorted(wanted))
        return {d.id: d for d in listed}

    def _validate(
        self,
        account: Account,
        request: SendRequest,
        devices: dict[int, Device],
        now: datetime,
        prices: PriceList,
        sender_name: str = "",
        *,
        test: bool,
    ) -> builtins.list[NewMessage]:
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
        mark = request.once.mark(now) if request.once is not None else None
        for index, raw in enumerate(dict.fromkeys(request.to)):
            priced = self._billing.price(prices, raw, encoded.segments)
            info = priced.info
            news.append(
                NewMessage(
                    account_id=account.id,
                    to=priced.e164,
                    to_original=raw.strip(),
                    country=info.country,
                    text=text,
                    encoding=encoded.encoding,
                    segments=encoded.segments,
                    priority=request.priority,
                    devices=request.devices,
                    sim_slot=request.sim_slot,
                    reference=request.reference,
                    sender=request.sender,
                    send_at=send_at,
                    valid_until=valid_until,
                    created_at=now,
                    operator=info.operator,
                    region=info.region,
                    number_type=info.kind,
                    mccmnc=info.mccmnc,
                    cost=priced.cost,
                    mark=mark,
                    sender_name=sender_name,
                    group_offset=index if request.together else None,
                    test=test,
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
                request.valid_for or self._ctx.policy.default_validity
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
        return await self._ctx.store.get(account.id, message_id)

    async def list(self, f: MessageFilter, *, account: Account) -> Page[Message]:
        return await self._ctx.store.list_page(account.id, f)

    async def count(self, f: MessageFilter, *, account: Account) -> int:
        """How many messages the filter finds (its limit and cursor aside)."""
        return await self._ctx.store.count_matching(account.id, f)

    async def cancel(self, message_id: int, *, account: Account) -> Message:
        """Cancels a message no device has; a phone that can cancel is asked to (it stays leased)."""
        try:
            cancelled = await self._ctx.store.cancel(
                account.id, message_id, now=self._ctx.clock.now()
            )
        except errors.Conflict:
            for canceller in self._cancellers:
                asked = await canceller(message_id, account)
                if asked is not None:
                    return asked
            raise
        if cancelled.cost:
            await self._billing.refund_due()
        return cancelled

    async def cancel_matching(self, f: MessageFilter, *, account: Account) -> Sequence[Message]:
        cancelled = await self._ctx.store.cancel_matching(account.id, f, now=self._ctx.clock.now())
        if any(m.cost for m in cancelled):
            await self._billing.refund_due()
        return cancelled

    async def delete(self, message_id: int, *, account: Account) -> Message:
        return await self._ctx.store.delete(account.id, message_id)

    async def delete_matching(self, f: MessageFilter, *, account: Account) -> Sequence[Message]:
        return await self._ctx.store.delete_matching(account.id, f)

    # --- why a message waits ------------------------------------------------------------------

    async def why(self, message_id: int, *, account: Account) -> tuple[routing.Waiting | None, str]:
        """Why a message has not gone out yet: None once a device has it (or it is final)."""
        message = await self._ctx.store.get(account.id, message_id)
        now = self._ctx.clock.now()
        if message.state is State.SCHEDULED:
            when = message.send_at.isoformat() if message.send_at else "?"
            return routing.Waiting.SCHEDULED, f"scheduled for {when}"
        if message.state is not State.QUEUED:
            return None, f"the message is {message.state}"
        if message.next_attempt_at and message.next_attempt_at > now:
            return (
                routing.Waiting.RETRY_BACKOFF,
                f"retrying after {message.next_attempt_at.isoformat()} ({message.reason})",
            )
        listed = await self._devices.list(
            account=account, archived=None, ids=message.devices or None
        )
        candidates = [d for d in listed if (d.kind is Kind.SIMULATOR) == message.test]
        if not candidates:
            return routing.Waiting.NO_DEVICE, "the account has no device that could send it"
        states = [await self._devices.state_of(d) for d in candidates]
        urgent = message.priority >= Priority.URGENT and self._ctx.policy.urgent_bypasses_pace
        reasons = {
            s.device.id: routing.device_waiting(
                s.device, s.queue.usage, now=now, online=s.online, urgent=urgent
            )
            for s in states
        }
        ready = [i for i, r in reasons.items() if r is routing.Waiting.READY]
        if ready:
            return routing.Waiting.READY, f"device {ready[0]} will take it at its next pull"
        order = routing.WAITING_ORDER
        worst = min(reasons.values(), key=lambda r: order.index(r) if r in order else 99)
        detail = ", ".join(f"device {i}: {r}" for i, r in reasons.items())
        return worst, detail


def _check_devices(wanted: Sequence[int], found: dict[int, Device]) -> None:
    for device_id in wanted:
        device = found.get(device_id)
        if device is None:
            raise errors.InvalidDevice(f"device {device_id} does not exist in this account")
        if not device.can_send:
            state = "archived" if device.archived else "disabled"
            raise errors.InvalidDevice(f"device {device_id} is {state}")


def test_mode(
    devices: Sequence[int], *, named: dict[int, Device], fleet: Fleet | None, asked: bool
) -> bool:
    """Whether a message is test traffic: the simulated phone takes it, and no real device ever.

    Test mode is asked for (`asked`), or implied by naming the simulated phone, or, for a send that
    names no device, the account has no real device yet (a fresh install) but a simulated phone.
    """
    if devices:
        simulated = [d for d in devices if named[d].kind is Kind.SIMULATOR]
        real = [d for d in devices if named[d].kind is not Kind.SIMULATOR]
        if simulated and real:
            raise errors.InvalidDevice(
                f"device {simulated[0]} is the simulated phone (test mode) and device {real[0]} "
                "a real one: name either"
            )
        if real and asked:
            raise errors.InvalidDevice(
                f"device {real[0]} is a real device: a test message goes to the simulated phone only"
            )
        return bool(simulated)
    if fleet is None:
        raise AssertionError("a send naming no device needs the account's fleet")
    if asked:
        if not fleet.simulator:
            raise errors.InvalidDevice("this account has no simulated phone to take test messages")
        return True
    return fleet.simulator and not fleet.real
