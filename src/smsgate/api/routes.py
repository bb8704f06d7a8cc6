"""/api/v1: the native REST API. Each route parses, calls the Gateway, renders."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import AwareDatetime, ValidationError

from smsgate.api import auth, campaigns, problems, schemas
from smsgate.api.auth import gateway_of
from smsgate.core import errors, numbers, routing
from smsgate.core.accounts import Account
from smsgate.core.devices import DeviceChanges, Kind, Limits
from smsgate.core.messages import MessageFilter, Priority, State
from smsgate.core.requests import SendRequest
from smsgate.service import Gateway

router = APIRouter(prefix="/api/v1")
Caller = Annotated[Account, Depends(auth.account)]


def send_request(body: schemas.SendBody) -> SendRequest:
    return SendRequest(
        to=(body.to,) if isinstance(body.to, str) else tuple(body.to),
        text=body.text,
        devices=tuple(body.devices),
        sim_slot=body.sim,
        priority=Priority.URGENT if body.priority == "urgent" else Priority.NORMAL,
        send_at=body.send_at,
        valid_until=body.valid_until,
        valid_for=timedelta(seconds=body.validity) if body.validity else None,
        reference=body.reference,
        sender=body.sender,
        sender_name=body.sender_name,
        test=body.test,
    )


async def accept_one(gateway: Gateway, body: schemas.SendBody, account: Account) -> Response:
    sent = await gateway.messages.send(send_request(body), account=account)
    return schemas.json({"messages": [schemas.message(m) for m in sent]}, 201)


async def accept_batch(gateway: Gateway, body: schemas.BatchEnvelope, account: Account) -> Response:
    """Each message on its own (the valid accepted, the invalid listed in `refused` with their
    index and reason; 422 if none is valid), or all or nothing with `"atomic": true`."""
    if body.atomic:
        try:
            whole = schemas.BatchBody.model_validate(body.model_dump())
        except ValidationError as exc:
            raise _invalid(exc) from None
        sent = await gateway.messages.send_batch(
            [send_request(m) for m in whole.messages], account=account
        )
        owners = [i for i, m in enumerate(whole.messages) for _ in _recipients(m)]
        return schemas.json(
            {
                "messages": [
                    schemas.message(m) | {"index": i} for i, m in zip(owners, sent, strict=True)
                ]
            },
            201,
        )
    wanted: list[int] = []
    requests: list[SendRequest] = []
    refused: list[dict[str, Any]] = []
    for index, item in enumerate(body.messages):
        try:
            requests.append(send_request(schemas.SendBody.model_validate(item)))
            wanted.append(index)
        except ValidationError as exc:
            refused.append(_refusal(index, item, 422, "invalid-input", _issues(exc)))
    if requests:
        done = await gateway.messages.send_each(requests, account=account)
        accepted = [schemas.message(m) | {"index": wanted[i]} for i, m in done.messages]
        for r in done.refused:
            kind, status = problems.slug(type(r.error)), problems.status_of(r.error)
            item = body.messages[wanted[r.index]]
            refused.append(_refusal(wanted[r.index], item, status, kind, r.error.detail))
    else:
        accepted = []
    refused.sort(key=lambda r: r["index"])
    if not accepted:
        first = refused[0]
        return problems.problem(
            422,
            "No message of the batch was accepted",
            f"message {first['index']}: {first['detail']}"
            + (f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""),
            "batch-refused",
            refused=refused,
        )
    return schemas.json({"messages": accepted, "refused": refused}, 201)


def _recipients(body: schemas.SendBody) -> list[str]:
    return list(dict.fromkeys([body.to] if isinstance(body.to, str) else body.to))


def _refusal(index: int, item: Any, status: int, kind: str, detail: str) -> dict[str, Any]:
    reference = item.get("reference") if isinstance(item, dict) else None
    return {
        "index": index,
        "reference": reference if isinstance(reference, str) else None,
        "status": status,
        "type": f"https://smsgate.dev/problems/{kind}",
        "detail": detail,
    }


def _issues(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}"
        for e in exc.errors(include_url=False)[:5]
    )


def _invalid(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError(
        [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
    )


# These two are served by api/hot.py beneath FastAPI's router (the same code, a fifth of the
# overhead); the declarations document them in the OpenAPI and serve if the hot path is off.
@router.post("/messages", status_code=201, response_model=schemas.MessagesOut, tags=["messages"])
async def send(body: schemas.SendBody, request: Request, account: Caller) -> Response:
    """Send one text to one or many recipients: one message per recipient, all or none."""
    return await accept_one(gateway_of(request), body, account)


def _batch_schema() -> dict[str, Any]:
    found = schemas.BatchBody.model_json_schema(ref_template="#/components/schemas/{model}")
    found.pop("$defs", None)  # SendBody: in the components already (POST /messages)
    return found


@router.post(
    "/messages/batch",
    status_code=201,
    response_model=schemas.BatchOut,
    tags=["messages"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _batch_schema()}},
        }
    },
)
async def send_batch(body: schemas.BatchEnvelope, request: Request, account: Caller) -> Response:
    """Many different messages in one request; each `reference` comes back beside its id, and
    each message's `index` says which request entry it came from.

    Each message stands on its own: the valid ones are accepted, the invalid ones are listed in
    `refused` with their index and reason (201; 422 if none is valid). With `"atomic": true`, one
    invalid message refuses the whole batch (422) and nothing is written."""
    return await accept_batch(gateway_of(request), body, account)


def _cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit():
        raise errors.InvalidInput(f"the cursor {cursor!r} is not one this API gave out")
    return int(cursor)


def _states(status: str | None) -> frozenset[State] | None:
    if not status:
        return None
    try:
        return frozenset(State(s.strip().lower()) for s in status.split(",") if s.strip())
    except ValueError:
        raise errors.InvalidInput(
            f"unknown status in {status!r}; known: {', '.join(State)}"
        ) from None


def _phone(phone: str | None, request: Request) -> str | None:
    if phone is None:
        return None
    return numbers.parse(phone, gateway_of(request).default_region).e164


def filters(
    request: Request,
    status: Annotated[str | None, Query(description="comma-separated statuses")] = None,
    device: Annotated[list[int] | None, Query()] = None,
    phone: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    min_id: Annotated[int | None, Query(ge=0)] = None,
    max_id: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
    campaign: Annotated[int | None, Query(ge=1, description="messages of this campaign")] = None,
) -> MessageFilter:
    return MessageFilter(
        states=_states(status),
        device_ids=tuple(device) if device else None,
        phone=_phone(phone, request),
        since=since,
        until=until,
        min_id=min_id,
        max_id=max_id,
        limit=limit,
        before_id=_cursor(cursor),
        campaign_id=campaign,
    )


Filters = Annotated[MessageFilter, Depends(filters)]


def _next(before_id: int | None) -> str | None:
    return str(before_id) if before_id is not None else None


@router.get("/messages", response_model=schemas.MessagesOut, tags=["messages"])
async def list_messages(request: Request, account: Caller, f: Filters) -> Response:
    """Newest first; follow `next_cursor` for the next page."""
    page = await gateway_of(request).messages.list(f, account=account)
    return schemas.json(
        {
            "messages": [schemas.message(m) for m in page.items],
            "next_cursor": _next(page.next_before_id),
        }
    )


@router.get("/messages/{message_id}", response_model=schemas.MessageOut, tags=["messages"])
async def get_message(message_id: int, request: Request, account: Caller) -> Response:
    return schemas.json(
        schemas.message(await gateway_of(request).messages.get(message_id, account=account))
    )


@router.post("/messages/{message_id}/cancel", response_model=schemas.MessageOut, tags=["messages"])
async def cancel_message(message_id: int, request: Request, account: Caller) -> Response:
    """Cancels a message no device has taken yet (409 otherwise)."""
    return schemas.json(
        schemas.message(await gateway_of(request).messages.cancel(message_id, account=account))
    )


@router.delete("/messages/{message_id}", status_code=204, tags=["messages"])
async def delete_message(message_id: int, request: Request, account: Caller) -> Response:
    """Deletes a message, unless a device holds it right now (409)."""
    await gateway_of(request).messages.delete(message_id, account=account)
    return Response(status_code=204)


@router.get("/inbox", response_model=schemas.InboxOut, tags=["inbox"])
async def list_inbox(request: Request, account: Caller, f: Filters) -> Response:
    page = await gateway_of(request).inbound.list(f, account=account)
    return schemas.json(
        {
            "messages": [schemas.inbound(i) for i in page.items],
            "next_cursor": _next(page.next_before_id),
        }
    )


@router.delete("/inbox/{inbound_id}", status_code=204, tags=["inbox"])
async def delete_inbound(inbound_id: int, request: Request, account: Caller) -> Response:
    if not await gateway_of(request).inbound.delete(
        MessageFilter(ids=(inbound_id,)), account=account
    ):
        raise errors.NotFound(f"inbound message {inbound_id} not found")
    return Response(status_code=204)


def _limits(body: schemas.LimitsBody | None) -> Limits | None:
    if body is None:
        return None
    if body.pace_seconds and body.per_minute:
        raise errors.InvalidInput("give either pace_seconds or per_minute, not both")
    if (body.window_start is None) != (body.window_end is None):
        raise errors.InvalidInput("a send window needs both window_start and window_end")
    routing.zone(body.timezone)  # raises for an unknown timezone
    seconds = body.pace_seconds or (60.0 / body.per_minute if body.per_minute else None)
    return Limits(
        pace=timedelta(seconds=seconds) if seconds else None,
        jitter=timedelta(seconds=body.jitter_seconds) if body.jitter_seconds else None,
        quota=body.quota,
        quota_recipients=body.quota_recipients,
        period=body.period,
        window_start=routing.parse_time(body.window_start) if body.window_start else None,
        window_end=routing.parse_time(body.window_end) if body.window_end else None,
        timezone=body.timezone,
    )


def _device(request: Request, device: Any, token: str | None = None) -> dict[str, Any]:
    gateway = gateway_of(request)
    online = gateway.devices.online(device)  # SMSGATE_OFFLINE_AFTER
    return schemas.device(
        device, online=online, token=token, connected=gateway.dispatch.connected(device)
    )


@router.post("/devices", status_code=201, response_model=schemas.DeviceOut, tags=["devices"])
async def register_device(body: schemas.DeviceBody, request: Request, account: Caller) -> Response:
    """Registers a device; a phone's answer carries its token, shown this once."""
    device, token = await gateway_of(request).devices.register(
        body.name, account=account, kind=Kind(body.kind), limits=_limits(body.limits) or Limits()
    )
    return schemas.json(_device(request, device, token), 201)


@router.get("/devices", response_model=list[schemas.DeviceOut], tags=["devices"])
async def list_devices(request: Request, account: Caller, archived: bool = False) -> Response:
    found = await gateway_of(request).devices.list(account=account, archived=archived)
    return schemas.json([_device(request, d) for d in found])


@router.get("/devices/{device_id}", response_model=schemas.DeviceOut, tags=["devices"])
async def get_device(device_id: int, request: Request, account: Caller) -> Response:
    return schemas.json(
        _device(request, await gateway_of(request).devices.get(device_id, account=account))
    )


@router.patch("/devices/{device_id}", response_model=schemas.DeviceOut, tags=["devices"])
async def change_device(
    device_id: int, body: schemas.DeviceChangeBody, request: Request, account: Caller
) -> Response:
    sim_limits = None
    if body.sim_limits is not None:
        if any(not 1 <= slot <= 8 for slot in body.sim_limits):
            raise errors.InvalidInput("SIM slots are 1 to 8")
        sim_limits = {slot: _limits(lim) or Limits() for slot, lim in body.sim_limits.items()}
    sim_numbers = None
    if body.sim_numbers is not None:
        if any(not 1 <= slot <= 8 for slot in body.sim_numbers):
            raise errors.InvalidInput("SIM slots are 1 to 8")
        region = gateway_of(request).default_region
        sim_numbers = {
            slot: numbers.parse(n, region).e164 for slot, n in body.sim_numbers.items() if n
        }
    changes = DeviceChanges(
        name=body.name,
        enabled=body.enabled,
        limits=_limits(body.limits),
        sim_limits=sim_limits,
        sim_numbers=sim_numbers,
    )
    return schemas.json(
        _device(
            request, await gateway_of(request).devices.change(device_id, changes, account=account)
        )
    )


@router.get("/devices/{device_id}/queue", response_model=schemas.DeviceQueueOut, tags=["devices"])
async def device_queue(device_id: int, request: Request, account: Caller) -> Response:
    """What waits for the device, what it holds, what it used of its limits, and whether it is ready."""
    return schemas.json(
        schemas.device_queue(await gateway_of(request).devices.state(device_id, account=account))
    )


@router.get("/messages/{message_id}/waiting", response_model=schemas.WaitingOut, tags=["messages"])
async def message_waiting(message_id: int, request: Request, account: Caller) -> Response:
    """Why a message has not gone out yet: scheduled, retry back-off, no device, pace, quota, window..."""
    waiting, detail = await gateway_of(request).messages.why(message_id, account=account)
    return schemas.json(
        {"id": message_id, "waiting": waiting.value if waiting else None, "detail": detail}
    )


@router.delete("/devices/{device_id}", response_model=schemas.DeviceOut, tags=["devices"])
async def archive_device(device_id: int, request: Request, account: Caller) -> Response:
    """Archives the device: it sends no more and its token stops working; its history stays."""
    return schemas.json(
        _device(request, await gateway_of(request).devices.archive(device_id, account=account))
    )


@router.get("/keys", response_model=list[schemas.KeyOut], tags=["keys"])
async def list_keys(request: Request, account: Caller) -> Response:
    return schemas.json(
        [schemas.key(k) for k in await gateway_of(request).accounts.list_keys(account)]
    )


@router.post("/keys", status_code=201, response_model=schemas.KeyOut, tags=["keys"])
async def create_key(body: schemas.KeyBody, request: Request, account: Caller) -> Response:
    """A new API key; the answer carries the key, shown this once."""
    key, secret = await gateway_of(request).accounts.create_key(account, body.name)
    return schemas.json(schemas.key(key, secret), 201)


@router.delete("/keys/{key_id}", response_model=schemas.KeyOut, tags=["keys"])
async def revoke_key(key_id: int, request: Request, account: Caller) -> Response:
    return schemas.json(schemas.key(await gateway_of(request).accounts.revoke_key(account, key_id)))


# contact lists, contacts, the opt-out list and campaigns (api/campaigns.py)
router.include_router(campaigns.router)
