"""Webhooks: an account's URLs for events, the deliveries log, replays; the deliverer's operations.

Events are written by the stores in the transaction of each change (storage/outbox.py); here
they are fanned out to the webhooks that want them (a webhook with a number gets only what
concerns that two-way number: replies to it, messages sent from it), rendered once as JSON, and
handed to the deliverer (webhooks/deliver.py) as jobs: signed, retried with back-off for a day,
every attempt logged, replayable.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson

from smsgate.core import errors, events, numbers
from smsgate.core.accounts import Account
from smsgate.core.events import Attempt, Delivery, DeliveryState, Job, RetryPlan, Subject, Webhook
from smsgate.core.messages import Message
from smsgate.core.ports import WebhookStore
from smsgate.service.context import Context
from smsgate.service.numbers import Number, Numbers

SECRET_PREFIX = "whsec_"
MAX_WEBHOOKS = 100  # per account


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryPolicy:
    timeout: timedelta = timedelta(seconds=10)  # one attempt, connect to last byte
    concurrency: int = 64  # attempts in flight on one node
    per_webhook: int = 32  # of which to one webhook (a slow receiver cannot take every slot)
    retry: RetryPlan = RetryPlan()
    poll: float = 0.25  # seconds between looks for work when nothing wakes the deliverer


def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _message(m: Message, state: str | None) -> dict[str, Any]:
    return {
        "id": m.id,
        "to": m.to,
        "from": m.sender,
        "status": state or m.state.value,
        "reason": m.reason.value if m.reason else None,
        "text": m.text,
        "segments": m.segments,
        "reference": m.reference,
        "device_id": m.device_id,
        "created_at": _when(m.created_at),
    }


def render(subject: Subject) -> bytes:
    """The JSON body of an event, as every webhook of it receives it (and a replay again)."""
    body: dict[str, Any] = {
        "id": subject.id,
        "event": subject.kind.value,
        "at": _when(subject.at),
        "account_id": subject.account_id,
    }
    if subject.kind.value.startswith("message."):
        if subject.message is not None:
            body["message"] = _message(subject.message, subject.detail)
        else:  # deleted before the event went out
            body["message"] = {"status": subject.detail}
    if subject.inbound is not None:
        i = subject.inbound
        c = subject.conversation
        body["inbound"] = {
            "id": i.id,
            "from": i.sender,
            "to": subject.number,
            "text": i.text,
            "received_at": _when(i.received_at),
            "device_id": i.device_id,
            "sim": i.sim_slot,
            "in_reply_to": {"id": c.id, "text": c.text, "reference": c.reference}
            if c is not None
            else None,
        }
    if subject.kind.value.startswith("device.") and subject.device is not None:
        d = subject.device
        body["device"] = {
            "id": d.id,
            "name": d.name,
            "battery": int(subject.detail)
            if subject.kind is events.Kind.DEVICE_BATTERY_LOW and subject.detail
            else d.battery,
            "last_seen_at": _when(d.last_seen_at),
        }
    return orjson.dumps(body)


def checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.InvalidInput(f"{url[:100]!r} is not an http(s) URL")
    if len(url) > 2048:
        raise errors.InvalidInput("a webhook URL has at most 2048 characters")
    return url


class Webhooks:
    def __init__(self, ctx: Context, *, policy: DeliveryPolicy = DeliveryPolicy()) -> None:
        self._ctx = ctx
        self.policy = policy

    @property
    def _store(self) -> WebhookStore:
        return self._ctx.webhooks

    # --- an account's webhooks ------------------------------------------------------------------

    async def create(
        self, url: str, *, account: Account, kinds: str = "*", number: str | None = None
    ) -> Webhook:
        """A URL for these events (`*`, `message.*`, `message.sent,inbound.received`...); with a
        number (one of the account's two-way numbers), only what concerns that number."""
        try:
            wanted = events.kinds(kinds)
        except ValueError as exc:
            raise errors.InvalidInput(str(exc)) from None
        if not wanted:
            raise errors.InvalidInput("name at least one event (or * for all)")
        own = None
        if number is not None and number.strip():
            own = numbers.parse(number, self._ctx.policy.default_region).e164
            if own not in {n.number for n in await self._numbers(account)}:
                raise errors.InvalidInput(
                    f"{own} is not a number of this account (a SIM number of one of its devices)"
                )
        if len(await self._store.list(account.id)) >= MAX_WEBHOOKS:
            raise errors.Conflict(f"an account has at most {MAX_WEBHOOKS} webhooks")
        return await self._store.add(
            account_id=account.id,
            url=checked_url(url),
            kinds=wanted,
            number=own,
            secret=SECRET_PREFIX + secrets.token_urlsafe(24),
            now=self._ctx.clock.now(),
        )

    async def _numbers(self, account: Account) -> builtins.list[Number]:
        return await Numbers(self._ctx).list(account=account)

    async def list(self, *, account: Account) -> builtins.list[Webhook]:
        return await self._store.list(account.id)

    async def get(self, webhook_id: int, *, account: Account) -> Webhook:
        return await self._store.get(account.id, webhook_id)

    async def enable(self, webhook_id: int, enabled: bool, *, account: Account) -> Webhook:
        return await self._store.change(account.id, webhook_id, {"enabled": enabled})

    async def delete(self, webhook_id: int, *, account: Account) -> Webhook:
        """Deletes the webhook and its deliveries (pending ones are not sent)."""
        return await self._store.delete(account.id, webhook_id)

    # --- the log and replays ----------------------------------------------------------------------

    async def deliveries(
        self,
        *,
        account: Account,
        state: DeliveryState | None = None,
        webhook_id: int | None = None,
        event_id: int | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> builtins.list[Delivery]:
        return await self._store.list_deliveries(
            account.id,
            state=state,
            webhook_id=webhook_id,
            event_id=event_id,
            before_id=before_id,
            limit=limit,
        )

    async def delivery(
        self, delivery_id: int, *, account: Account
    ) -> tuple[Delivery, builtins.list[Attempt], bytes | None]:
        """A delivery, every attempt's answer, and the body it sends."""
        found = await self._store.get_delivery(account.id, delivery_id)
        return found, await self._store.attempts(found.id), await self._store.body(found.event_id)

    async def replay(
        self,
        *,
        account: Account,
        ids: Sequence[int] | None = None,
        state: DeliveryState | None = None,
    ) -> builtins.list[int]:
        """Sends deliveries again from now (with a day of retries): these ids, or every delivery in
        a state (`failed`: what gave up). Answers the ids that will be sent."""
        if ids is None and state is None:
            raise errors.InvalidInput("name the deliveries to replay, or a state (failed)")
        now = self._ctx.clock.now()
        done: builtins.list[int] = await self._store.replay(
            account.id,
            ids=ids,
            state=state,
            now=now,
            give_up_at=now + self.policy.retry.give_up_after,
        )
        if ids is not None and not done:
            raise errors.NotFound("no such delivery (or it is being sent right now)")
        return done

    async def counts(self, *, account: Account | None = None) -> dict[DeliveryState, int]:
        return await self._store.counts(account.id if account else None)

    # --- the deliverer's operations -------------------------------------------------------------

    async def step(
        self,
        answers: Sequence[tuple[Job, Attempt]],
        *,
        claim: int,
        inflight: Mapping[int, int],
    ) -> tuple[int, builtins.list[Job]]:
        """One round of the deliverer, one transaction: the answers of finished attempts written
        (delivered, retried later with back-off, or failed), new events fanned out to the
        webhooks that want them, and up to `claim` due deliveries leased to this node for one
        attempt (timeout + 5 s: a node that dies mid-attempt leaves the lease to end)."""
        made, jobs = await self._store.step(
            answers,
            now=self._ctx.clock.now(),
            plan=self.policy.retry,
            fan_out=1000,
            give_up_after=self.policy.retry.give_up_after,
            render=render,
            claim=claim,
            lease=self.policy.timeout + timedelta(seconds=5),
            per_webhook=self.policy.per_webhook,
            inflight=inflight,
        )
        ok = sum(1 for _, a in answers if a.ok)
        if answers:
            self._ctx.metrics.webhook_attempts.labels("ok").inc(ok)
            self._ctx.metrics.webhook_attempts.labels("failed").inc(len(answers) - ok)
        return made, jobs

    def on_event(self, listener: Any) -> None:
        """`listener()` is called when a store wrote events on this node."""
        self._ctx.webhooks.on_written(listener)

    def now(self) -> datetime:
        return self._ctx.clock.now()
