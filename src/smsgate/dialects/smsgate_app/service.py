"""The SMSGate app's operations: phones that hold their work, their streams, secrets and codes.

Built on the Gateway's operations and the app's own tables (`store.py`); the doors of this package
call these, never a store.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request

from smsgate.core import accounts, errors
from smsgate.core.accounts import Account
from smsgate.core.attempts import Attempts
from smsgate.core.devices import Device, Heartbeat
from smsgate.core.messages import Inbound, Message
from smsgate.core.requests import SendRequest
from smsgate.dialects.smsgate_app import wire
from smsgate.dialects.smsgate_app.store import AppWebhook, Link, Links
from smsgate.service import Gateway, Received

STREAM_FRESH = timedelta(seconds=45)  # a stream whose keep-alive is older counts as closed


class AppService:
    def __init__(self, gateway: Gateway, links: Links) -> None:
        self.gateway = gateway
        self._links = links
        self._attempts = Attempts()  # failed code sign-ins, per client and in all
        gateway.messages.add_canceller(self.ask_to_cancel)

    # --- links: secrets, push tokens, streams ---------------------------------------------------

    async def link_device(self, device: Device) -> Link:
        """The device's webhook secret and signing key, made on first use."""
        return await self._links.link(device, now=self.gateway.now())

    async def list_links(self, *, account: Account) -> dict[int, Link]:
        return await self._links.list_links(account.id)

    async def streaming(self, *, account: Account) -> dict[int, bool]:
        """Per linked phone: whether an event stream of it is open on any node (keep-alives refresh it)."""
        now = self.gateway.now()
        return {
            device_id: link.stream_seen_at is not None and now - link.stream_seen_at <= STREAM_FRESH
            for device_id, link in (await self.list_links(account=account)).items()
        }

    async def set_push_token(self, device: Device, token: str | None) -> None:
        await self._links.update_link(device.id, push_token=token or None)

    async def find_device_by_hook(self, hook_secret: str) -> tuple[Device, Link] | None:
        found = await self._links.find_by_hook(hook_secret)
        if found is None or found[0].archived:
            return None
        return found

    async def stream_seen(self, device: Device, *, open_: bool) -> None:
        """Records that the device's stream is open (kept fresh by keep-alives) or closed."""
        now = self.gateway.now()
        await self._links.update_link(device.id, stream_seen_at=now if open_ else None)
        await self.gateway.devices.heartbeat(device, Heartbeat())

    # --- work a phone holds -------------------------------------------------------------------

    async def pull_held(self, device: Device, *, limit: int = 100) -> list[tuple[Message, bool]]:
        """For a phone that never gives work back: new work is leased to it until its validity ends,
        and what it holds unacknowledged (or with a cancel to pass on) comes again. (message, cancel?)"""
        fresh = await self.gateway.dispatch.pull(device, limit=limit, wait=0)
        await self._links.stick(device.id, [m.id for m in fresh])
        return await self._links.held(device.account_id, device.id, limit=limit)

    async def acknowledge(self, device: Device, message_ids: Sequence[int]) -> None:
        """The phone says it has these: they are not handed to it again."""
        await self._links.acknowledge(device.id, message_ids, now=self.gateway.now())

    async def ask_to_cancel(self, message_id: int, account: Account) -> Message | None:
        """A leased message on a phone that can cancel: asks it (event stream, next pull), with
        the rest of its app message; the phone's report decides. None if no such phone holds it."""
        asked = await self._links.request_cancel(account.id, message_id, now=self.gateway.now())
        if asked is None:
            return None
        message, news = asked
        if news and message.device_id is not None:
            self.gateway.dispatch.push_event(
                account.id,
                message.device_id,
                "MessageCancelled",
                {"messageId": wire.phone_id(message)},
            )
        return message

    async def cancel_requested(self, message_ids: Sequence[int]) -> set[int]:
        return await self._links.cancel_requested(message_ids)

    async def confirm_cancel(
        self, device: Device, message_id: int, *, at: datetime | None = None
    ) -> Message | None:
        """The phone says it dropped a message it was asked to cancel: cancelled (None if not asked)."""
        now = self.gateway.now()
        return await self._links.confirm_cancel(device.id, message_id, at=min(at or now, now))

    async def find_by_reference(self, reference: str, *, account: Account) -> list[Message]:
        """The members of the client message with this id (one per recipient), oldest first."""
        return await self._links.by_reference(account.id, reference)

    async def on_device(self, device: Device, phone_id: str) -> list[Message]:
        """The members of the message a phone names by the id it was given (empty: none of its)."""
        return await self._links.on_device(device.account_id, device.id, phone_id)

    # --- the client API's messages ----------------------------------------------------------------

    async def send(self, request: SendRequest, key: str, *, account: Account) -> list[Message]:
        """One app message: its recipients one message group under the client's id `key` (unique
        in the account), leased together to one phone, which is told that id."""
        if not await self._links.register_id(account.id, key, now=self.gateway.now()):
            raise errors.Conflict(f"a message with id {key} exists already")
        try:
            return await self.gateway.messages.send(
                replace(request, together=True, reference=key), account=account
            )
        except BaseException:
            await self._links.unregister_id(account.id, key)
            raise

    async def receive_once(
        self, device: Device, key: str, items: Sequence[Received]
    ) -> list[Inbound] | None:
        """Like receive, for a delivery that may come again: None if `key` was taken in before."""
        news = self.gateway.inbound.prepare(device, items, lenient=True)
        stored = await self._links.receive_once(device.id, key, news, now=self.gateway.now())
        if stored:
            await self.gateway.inbound.taken_in(stored)
        return stored

    # --- sign-in by code ------------------------------------------------------------------------

    async def new_sign_in_code(
        self, account: Account, *, valid_for: timedelta = timedelta(seconds=60)
    ) -> tuple[str, datetime]:
        now = self.gateway.now()
        for _ in range(20):
            code = f"{secrets.randbelow(1_000_000):06d}"
            if await self._links.add_code(
                code_hash=accounts.secret_hash(code),
                account_id=account.id,
                valid_until=now + valid_for,
                now=now,
            ):
                return code, now + valid_for
        raise errors.Unavailable("no free sign-in code right now; try again")

    async def sign_in_with_code(self, code: str, *, client: str = "") -> Account:
        now = self.gateway.now()
        self._attempts.check(client, now)
        account_id = await self._links.take_code(accounts.secret_hash(code.strip()), now=now)
        if account_id is None:
            self._attempts.failed(client, now)
            raise errors.Unauthorized("the sign-in code is wrong or expired")
        return await self.gateway.accounts.get(account_id)

    # --- the client API's webhooks and settings -------------------------------------------------

    async def list_webhooks(self, *, account: Account) -> list[AppWebhook]:
        return await self._links.list_webhooks(account.id)

    async def put_webhook(self, hook: AppWebhook, *, account: Account) -> AppWebhook:
        return await self._links.put_webhook(account.id, hook, now=self.gateway.now())

    async def delete_webhook(self, hook_id: str, *, account: Account) -> None:
        if not await self._links.delete_webhook(account.id, hook_id):
            raise errors.NotFound(f"webhook {hook_id} not found")

    async def get_settings(self, *, account: Account) -> dict[str, Any]:
        return await self._links.get_settings(account.id)

    async def put_settings(self, settings: dict[str, Any], *, account: Account) -> None:
        await self._links.put_settings(account.id, settings, now=self.gateway.now())


def service_of(request: Request) -> AppService:
    """The app's service, as the doors of this package find it on the ASGI app."""
    service: AppService = request.app.state.smsgate_app
    return service
