"""/api/v1/webhooks: URLs for events, the deliveries log with every attempt's answer, replays."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from smsgate.api import auth, schemas
from smsgate.api.auth import gateway_of
from smsgate.core.accounts import Account
from smsgate.core.events import Attempt, Delivery, DeliveryState, Webhook, kinds_text

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
Caller = Annotated[Account, Depends(auth.account)]


class WebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2048, description="http(s) URL that receives the events (POST)")
    events: str | list[str] = Field(
        "*",
        description="kinds: message.queued, message.sent, message.delivered, message.failed, "
        "message.expired, message.cancelled, inbound.received, device.online, device.offline, "
        "device.battery_low; `message.*` or `*` for all",
    )
    number: str | None = Field(
        None,
        max_length=32,
        description="a two-way number of the account: this URL gets only what concerns it "
        "(replies to it, messages sent from it)",
    )


class WebhookChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool


class ReplayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[int] | None = Field(None, max_length=10_000)
    state: DeliveryState | None = Field(None, description="every delivery in it: `failed`")


def _t(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def webhook(w: Webhook) -> dict[str, Any]:
    return {
        "id": w.id,
        "url": w.url,
        "events": sorted(k.value for k in w.events) if kinds_text(w.events) != "*" else ["*"],
        "number": w.number,
        "secret": w.secret,
        "enabled": w.enabled,
        "created_at": _t(w.created_at),
    }


def delivery(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "event_id": d.event_id,
        "event": d.kind.value,
        "webhook_id": d.webhook_id,
        "url": d.url,
        "state": d.state.value,
        "attempts": d.attempts,
        "next_attempt_at": _t(d.next_attempt_at) if d.state is DeliveryState.PENDING else None,
        "give_up_at": _t(d.give_up_at),
        "last_status": d.last_status,
        "last_error": d.last_error,
        "created_at": _t(d.created_at),
        "delivered_at": _t(d.delivered_at),
    }


def attempt(a: Attempt) -> dict[str, Any]:
    return {
        "at": _t(a.at),
        "status": a.status,
        "error": a.error,
        "response": a.response,
        "duration_ms": a.duration_ms,
    }


@router.post("", status_code=201)
async def create(body: WebhookBody, request: Request, account: Caller) -> Response:
    """Registers a URL for events; the answer holds the secret deliveries are signed with."""
    kinds = body.events if isinstance(body.events, str) else ",".join(body.events)
    found = await gateway_of(request).webhooks.create(
        body.url, account=account, kinds=kinds, number=body.number
    )
    return schemas.json(webhook(found), 201)


@router.get("")
async def list_webhooks(request: Request, account: Caller) -> Response:
    return schemas.json(
        [webhook(w) for w in await gateway_of(request).webhooks.list(account=account)]
    )


@router.get("/deliveries")
async def deliveries(
    request: Request,
    account: Caller,
    state: DeliveryState | None = None,
    webhook_id: Annotated[int | None, Query(alias="webhook", ge=1)] = None,
    event_id: Annotated[int | None, Query(alias="event", ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The deliveries log, newest first; follow `next_cursor`."""
    found = await gateway_of(request).webhooks.deliveries(
        account=account,
        state=state,
        webhook_id=webhook_id,
        event_id=event_id,
        before_id=cursor,
        limit=limit,
    )
    more = str(found[-1].id) if len(found) == limit else None
    return schemas.json({"deliveries": [delivery(d) for d in found], "next_cursor": more})


@router.get("/deliveries/{delivery_id}")
async def get_delivery(delivery_id: int, request: Request, account: Caller) -> Response:
    """A delivery with every attempt's answer and the body it sends."""
    found, attempts, body = await gateway_of(request).webhooks.delivery(
        delivery_id, account=account
    )
    return schemas.json(
        {
            **delivery(found),
            "attempts_log": [attempt(a) for a in attempts],
            "body": body.decode() if body is not None else None,
        }
    )


@router.post("/deliveries/{delivery_id}/replay")
async def replay_one(delivery_id: int, request: Request, account: Caller) -> Response:
    """Sends the delivery again from now (with a day of retries), whatever its state."""
    done = await gateway_of(request).webhooks.replay(account=account, ids=[delivery_id])
    return schemas.json({"replayed": done})


@router.post("/deliveries/replay")
async def replay_many(body: ReplayBody, request: Request, account: Caller) -> Response:
    """Sends these deliveries (`ids`), or every delivery in a `state` (failed), again."""
    done = await gateway_of(request).webhooks.replay(
        account=account, ids=body.ids, state=body.state
    )
    return schemas.json({"replayed": done})


@router.get("/{webhook_id}")
async def get_webhook(webhook_id: int, request: Request, account: Caller) -> Response:
    return schemas.json(
        webhook(await gateway_of(request).webhooks.get(webhook_id, account=account))
    )


@router.patch("/{webhook_id}")
async def change(
    webhook_id: int, body: WebhookChange, request: Request, account: Caller
) -> Response:
    """Pauses (`enabled: false`) or resumes a webhook: paused, it gets no new events."""
    found = await gateway_of(request).webhooks.enable(webhook_id, body.enabled, account=account)
    return schemas.json(webhook(found))


@router.delete("/{webhook_id}", status_code=204)
async def delete(webhook_id: int, request: Request, account: Caller) -> Response:
    """Deletes the webhook with its deliveries."""
    await gateway_of(request).webhooks.delete(webhook_id, account=account)
    return Response(status_code=204)
