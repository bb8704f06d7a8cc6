"""/device/v1: smsgate's own device protocol (wire v1), authenticated by a per-device token.

GET  /device/v1/messages?wait=30&limit=10   lease work; long-polls up to `wait` seconds
POST /device/v1/reports                     {"reports": [{"id", "status", "reason"?, "at"?}]}
POST /device/v1/inbound                     {"messages": [{"sender", "text", "received_at"?, "sim"?}]}
POST /device/v1/heartbeat                   {"battery"?, "charging"?, "sims"?, "app_version"?, ...}
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from smsgate.api import auth, schemas
from smsgate.api.auth import gateway_of
from smsgate.core.devices import Device, Heartbeat, Sim
from smsgate.core.messages import Message, Priority, Reason, Report, State

router = APIRouter(prefix="/device/v1", tags=["device protocol"])
Phone = Annotated[Device, Depends(auth.device)]
Strict = ConfigDict(extra="forbid")

REPORTABLE = Literal["taken", "sent", "delivered", "undelivered", "failed", "returned"]


class ReportIn(BaseModel):
    model_config = Strict
    id: int = Field(ge=1, le=2**63 - 1)  # a message id; echoed back, so it must be one
    status: REPORTABLE = Field(
        description="`returned` gives back a message the phone will not send"
    )
    reason: Reason | None = None
    at: AwareDatetime | None = None


class ReportsIn(BaseModel):
    model_config = Strict
    reports: list[ReportIn] = Field(min_length=1, max_length=1000)


class InboundIn(BaseModel):
    model_config = Strict
    sender: str = Field(min_length=1, max_length=64)
    text: str = Field(max_length=10_000)
    received_at: AwareDatetime | None = None
    sim: int | None = Field(None, ge=1, le=8)


class InboundBatchIn(BaseModel):
    model_config = Strict
    messages: list[InboundIn] = Field(min_length=1, max_length=1000)


class SimIn(BaseModel):
    model_config = Strict
    slot: int = Field(ge=1, le=8)
    number: str | None = Field(None, max_length=32)
    carrier: str | None = Field(None, max_length=100)


class HeartbeatIn(BaseModel):
    model_config = Strict
    battery: int | None = Field(None, ge=0, le=100)
    charging: bool | None = None
    sims: list[SimIn] | None = Field(None, max_length=8)
    app_version: str | None = Field(None, max_length=50)
    manufacturer: str | None = Field(None, max_length=100)
    model: str | None = Field(None, max_length=100)
    os_version: str | None = Field(None, max_length=50)


def _work(m: Message) -> dict[str, object]:
    return {
        "id": m.id,
        "to": m.to,
        "text": m.text,
        "sim": m.sim_slot,
        "priority": "urgent" if m.priority >= Priority.URGENT else "normal",  # as /api/v1 says it
        "valid_until": m.valid_until.isoformat() if m.valid_until else None,
        "lease_until": m.lease_until.isoformat() if m.lease_until else None,
    }


@router.get("/messages")
async def pull(
    request: Request,
    device: Phone,
    wait: Annotated[float, Query(ge=0, le=60)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 10,
) -> Response:
    """Leases up to `limit` messages. Report `taken` before `lease_until`, or they go back to the queue."""
    gateway = gateway_of(request)
    await gateway.devices.heartbeat(device, Heartbeat())
    leased = await gateway.dispatch.pull(device, limit=limit, wait=wait)
    return schemas.json({"messages": [_work(m) for m in leased]})


@router.post("/reports")
async def report(body: ReportsIn, request: Request, device: Phone) -> Response:
    """Statuses in a batch; each gets its own result. Repeats and late reports are harmless."""
    reports = [
        Report(
            message_id=r.id,
            state=State.QUEUED if r.status == "returned" else State(r.status),
            reason=r.reason,
            at=r.at,
        )
        for r in body.reports
    ]
    results = await gateway_of(request).dispatch.report(device, reports)
    return schemas.json(
        {
            "results": [
                {"id": r.message_id, "applied": r.applied, "status": r.state, "detail": r.detail}
                for r in results
            ]
        }
    )


@router.post("/inbound", status_code=201)
async def inbound(body: InboundBatchIn, request: Request, device: Phone) -> Response:
    stored = await gateway_of(request).inbound.receive(
        device, [(m.sender, m.text, m.received_at, m.sim) for m in body.messages]
    )
    return schemas.json({"ids": [i.id for i in stored]}, 201)


@router.post("/heartbeat", status_code=204)
async def heartbeat(body: HeartbeatIn, request: Request, device: Phone) -> Response:
    sims = (
        tuple(Sim(slot=s.slot, number=s.number, carrier=s.carrier) for s in body.sims)
        if body.sims is not None
        else None
    )
    beat = Heartbeat(
        battery=body.battery,
        charging=body.charging,
        sims=sims,
        app_version=body.app_version,
        manufacturer=body.manufacturer,
        model=body.model,
        os_version=body.os_version,
    )
    await gateway_of(request).devices.heartbeat(device, beat)
    return Response(status_code=204)
