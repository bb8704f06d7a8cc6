"""/api/3/*.php: each method reads SemySMS's wire, calls the Gateway, renders SemySMS's answer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from smsgate.api.auth import gateway_of
from smsgate.core import errors
from smsgate.core.accounts import Account
from smsgate.core.messages import MessageFilter
from smsgate.core.requests import SendRequest
from smsgate.dialects.semysms import errors as semysms_errors
from smsgate.dialects.semysms import schemas, wire

log = logging.getLogger(__name__)

PREFIX = "/api/3"


class Guarded(APIRoute):
    """Every failure inside a method answers in SemySMS's format right here, so an unexpected one
    is logged once and never reaches the server's error middleware (which would re-raise it)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # rendered; logged when unexpected
                if not isinstance(
                    exc, (errors.GatewayError, HTTPException, RequestValidationError)
                ):
                    log.exception("unexpected error on %s %s", request.method, request.url.path)
                return await semysms_errors.render(request, exc)

        return guarded


router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=Guarded)
BOTH = ["GET", "POST"]


async def caller(request: Request, token: object) -> Account:
    """A SemySMS token is an smsgate API key."""
    if not isinstance(token, str) or not token.strip():
        raise errors.Unauthorized("the token is missing")
    try:
        return await gateway_of(request).accounts.authenticate(token)
    except errors.Unauthorized:
        raise errors.Unauthorized("the token is wrong or revoked") from None


async def device_ids(
    request: Request, account: Account, choice: wire.DeviceChoice
) -> tuple[int, ...] | None:
    """`active` = the account's enabled devices; named codes must be devices of this account."""
    if choice is None:
        return None
    gateway = gateway_of(request)
    if choice == wire.ACTIVE:
        return tuple(
            d.id for d in await gateway.devices.list(account=account, archived=False) if d.can_send
        )
    known = {d.id for d in await gateway.devices.list(account=account, archived=None, ids=choice)}
    for device_id in choice:
        if device_id not in known:
            raise errors.InvalidDevice(f"device {device_id} does not exist in this account")
    return choice


async def sending_devices(
    request: Request, account: Account, choice: wire.DeviceChoice
) -> tuple[int, ...]:
    found = await device_ids(request, account, choice)
    if found == () and choice == wire.ACTIVE:
        raise errors.InvalidDevice("the account has no active device")
    return found or ()


# --- sending ----------------------------------------------------------------------------------


@router.api_route("/sms.php", methods=BOTH)
async def send_one(request: Request) -> Response:
    p = await wire.params(request)
    account = await caller(request, p.get("token"))
    send = SendRequest(
        to=wire.recipient(p.get("phone"), p.get("add_plus")),
        text=wire.text(p.get("msg")),
        devices=await sending_devices(request, account, wire.device_choice(p.get("device"))),
        priority=wire.priority(p.get("priority")),
    )
    sent = await gateway_of(request).messages.send(send, account=account)
    return schemas.json({"code": "0", "id": sent[0].id})


@router.api_route("/sms_more.php", methods=BOTH)
async def send_many(request: Request) -> Response:
    """All or nothing: one bad entry writes nothing, and the error names its index and my_id."""
    body = await wire.json_body(request)
    account = await caller(request, body.get("token") or request.query_params.get("token"))
    entries = wire.entries(body)
    sends = [await _entry_request(request, account, entry) for entry in entries]
    try:
        sent = await gateway_of(request).messages.send_batch(sends, account=account)
    except errors.GatewayError as exc:
        index = exc.context.get("index")
        if isinstance(index, int) and 0 <= index < len(entries):
            raise wire.at_entry(exc, index, entries[index].my_id) from None
        raise
    data = [
        {"my_id": entry.my_id, "id": message.id}
        for entry, message in zip(entries, sent, strict=True)
    ]
    return schemas.json({"code": "0", "data": data})


async def _entry_request(request: Request, account: Account, entry: wire.Entry) -> SendRequest:
    try:
        devices = await sending_devices(request, account, entry.devices)
    except errors.GatewayError as exc:
        raise wire.at_entry(exc, entry.index, entry.my_id) from None
    reference = (
        str(entry.my_id) if entry.my_id is not None and len(str(entry.my_id)) <= 100 else None
    )
    return SendRequest(
        to=entry.to, text=entry.text, devices=devices, priority=entry.priority, reference=reference
    )


# --- listings and deletes ---------------------------------------------------------------------


async def _filter(request: Request, p: wire.Params, account: Account) -> MessageFilter:
    listing = wire.listing(p)
    gateway = gateway_of(request)
    return listing.filter(
        device_ids=await device_ids(request, account, listing.devices),
        now=gateway.now(),
        region=gateway.default_region,
    )


@router.api_route("/outbox_sms.php", methods=BOTH)
async def outbox(request: Request) -> Response:
    p = await wire.params(request)
    account = await caller(request, p.get("token"))
    page = await gateway_of(request).messages.list(
        await _filter(request, p, account), account=account
    )
    return schemas.listing([schemas.outbox(m) for m in page.items])


@router.api_route("/del_outbox_sms.php", methods=BOTH)
async def delete_outbox(request: Request) -> Response:
    """Deletes what matches (not what a device holds right now) and answers with what it deleted."""
    p = await wire.params(request)
    account = await caller(request, p.get("token"))
    deleted = await gateway_of(request).messages.delete_matching(
        await _filter(request, p, account), account=account
    )
    return schemas.listing([schemas.outbox(m) for m in deleted])


@router.api_route("/inbox_sms.php", methods=BOTH)
async def inbox(request: Request) -> Response:
    p = await wire.params(request)
    account = await caller(request, p.get("token"))
    page = await gateway_of(request).inbound.list(
        await _filter(request, p, account), account=account
    )
    return schemas.listing([schemas.inbox(i) for i in page.items])


@router.api_route("/del_inbox_sms.php", methods=BOTH)
async def delete_inbox(request: Request) -> Response:
    p = await wire.params(request)
    account = await caller(request, p.get("token"))
    deleted = await gateway_of(request).inbound.delete(
        await _filter(request, p, account), account=account
    )
    return schemas.listing([schemas.inbox(i) for i in deleted])


# --- devices, cancel, account -----------------------------------------------------------------


@router.api_route("/devices.php", methods=BOTH)
async def devices(request: Request) -> Response:
    """`code` is the integer 0 here (clients compare with === 0); no is_arhive = every device."""
    p = await wire.params(request)
    account = await caller(request, p.get("token"))
    gateway = gateway_of(request)
    found = await gateway.devices.list(
        account=account,
        archived=wire.flag("is_arhive", p.get("is_arhive")),
        ids=wire.ids("list_id", p.get("list_id")),
    )
    now = gateway.now()
    states = [await gateway.devices.state_of(d) for d in found]
    data = [schemas.device(s.device, now=now, used=s.queue.usage[0].messages) for s in states]
    return schemas.json({"code": 0, "count": len(found), "data": data})


@router.api_route("/cancel_sms.php", methods=BOTH)
async def cancel(request: Request) -> Response:
    """With `device`: every message of those devices not yet handed to them (laravel-semysms sends
    `id_sms=1` beside it as a filler, so id_sms is then ignored). Without: the message(s) `id_sms`."""
    p = await wire.params(request)
    account = await caller(request, p.get("token"))
    gateway = gateway_of(request)
    choice = wire.device_choice(p.get("device"))
    message_ids = wire.ids("id_sms", p.get("id_sms"))
    cancelled: Sequence[Any]
    if choice is not None:
        f = MessageFilter(for_devices=await device_ids(request, account, choice))
        cancelled = await gateway.messages.cancel_matching(f, account=account)
    elif message_ids is not None and len(message_ids) == 1:
        cancelled = [await gateway.messages.cancel(message_ids[0], account=account)]
    elif message_ids is not None:
        cancelled = await gateway.messages.cancel_matching(
            MessageFilter(ids=message_ids), account=account
        )
    else:
        raise semysms_errors.MissingParameter("device or id_sms is required")
    return schemas.json(
        {"code": "0", "count": len(cancelled), "data": [{"id": m.id} for m in cancelled]}
    )


@router.api_route("/user.php", methods=BOTH)
async def user(request: Request) -> Response:
    """Not in the seed; the current SemySMS documentation has it. smsgate has no plans or quotas."""
    p = await wire.params(request)
    account = await caller(request, p.get("token"))
    return schemas.json(
        {
            "code": 0,
            "id_user": account.id,
            "is_pay": 1,
            "type_premium": 1,
            "date_end_premium": None,
            "messages_premium": None,
        }
    )
