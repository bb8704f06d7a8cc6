"""/api/v1/senders: the sender names an account may send from (none: any)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from smsgate.api import auth, schemas
from smsgate.api.auth import gateway_of
from smsgate.core.accounts import Account

router = APIRouter(prefix="/api/v1")
Caller = Annotated[Account, Depends(auth.account)]


class SenderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


@router.get("/senders", response_model=list[str], tags=["senders"])
async def list_senders(request: Request, account: Caller) -> Response:
    return schemas.json(await gateway_of(request).senders.list(account=account))


@router.post("/senders", status_code=201, response_model=list[str], tags=["senders"])
async def add_sender(body: SenderBody, request: Request, account: Caller) -> Response:
    """Adds a name; once an account has names, a send naming another is refused."""
    gateway = gateway_of(request)
    await gateway.senders.add(body.name, account=account)
    return schemas.json(await gateway.senders.list(account=account), 201)


@router.delete("/senders/{name}", status_code=204, tags=["senders"])
async def remove_sender(name: str, request: Request, account: Caller) -> Response:
    await gateway_of(request).senders.remove(name, account=account)
    return Response(status_code=204)
