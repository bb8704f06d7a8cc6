"""/api-v2/index.php/sms/*: each method reads the vendor's wire, calls the Gateway, renders its answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from smsgate.api.auth import gateway_of
from smsgate.core import errors
from smsgate.core.accounts import Account
from smsgate.core.messages import MessageFilter, State
from smsgate.core.requests import SendRequest
from smsgate.dialects.voipcomms import schemas, wire
from smsgate.doors import params

PREFIX = "/api-v2/index.php"
SEND = f"{PREFIX}/sms/send"
SCHEDULED = frozenset({State.SCHEDULED})

router = APIRouter(prefix=PREFIX, include_in_schema=False)


async def caller(request: Request) -> Account:
    """HTTP Basic: the API key's id and the API key (see the package docstring)."""
    key = wire.api_key(request)
    try:
        return await gateway_of(request).accounts.authenticate(key)
    except errors.Unauthorized:
        raise errors.Unauthorized("the API key is wrong or revoked") from None


@router.post("/sms/send")
async def send(request: Request) -> Response:
    """One message per recipient, all or none; served on the hot path (app.py)."""
    account = await caller(request)
    p = await params.read(request)
    sent = await gateway_of(request).messages.send(
        SendRequest(
            to=wire.recipients(p.get("to")),
            text=wire.text(p.get("msg")),
            sender=wire.sender(p.get("from")),
            send_at=wire.delivery_date(p.get("delivery_date")),
        ),
        account=account,
    )
    return schemas.json({"send_log": [schemas.entry(m) for m in sent]})


@router.api_route("/sms/scheduled", methods=["GET", "POST"])
async def scheduled(request: Request) -> Response:
    """The account's messages waiting for their delivery_date, oldest first."""
    account = await caller(request)
    p = await params.read(request)
    ids = wire.smsids(p.get("smsid")) if p.given("smsid") else None
    page = await gateway_of(request).messages.list(
        MessageFilter(states=SCHEDULED, ids=ids, limit=1000, ascending=True), account=account
    )
    return schemas.json({"scheduled": [schemas.entry(m) for m in page.items]})


@router.api_route("/sms/scheduled/delete", methods=["POST", "DELETE"])
async def delete_scheduled(request: Request) -> Response:
    """Deletes scheduled messages by smsid; one that is not scheduled (any more) deletes none.
    They are cancelled, not erased: the native API shows them, and the balance gets their price."""
    account = await caller(request)
    p = await params.read(request)
    ids = wire.smsids(p.get("smsid"))
    gateway = gateway_of(request)
    waiting = await gateway.messages.list(
        MessageFilter(states=SCHEDULED, ids=ids, limit=len(ids)), account=account
    )
    missing = sorted(set(ids) - {m.id for m in waiting.items})
    if missing:
        shown = ", ".join(map(str, missing[:10]))
        raise errors.NotFound(f"smsid {shown} is not a scheduled message of this account")
    deleted = await gateway.messages.cancel_matching(  # kept as cancelled: its price comes back
        MessageFilter(states=SCHEDULED, ids=ids, limit=len(ids)), account=account
    )
    return schemas.json({"deleted": [schemas.entry(m) for m in deleted]})
