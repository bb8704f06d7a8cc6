"""/api/v1 contact lists, contacts, the opt-out list and campaigns (newsletters)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from smsgate.api import auth, schemas
from smsgate.api.auth import gateway_of
from smsgate.core.accounts import Account
from smsgate.core.campaigns import Campaign, Contact, ContactList, OptOut, Progress
from smsgate.core.messages import Priority
from smsgate.doors.parsers import StoredMoment, StoredText
from smsgate.service import ContactInput

router = APIRouter()  # included by api/routes.py under /api/v1
Caller = Annotated[Account, Depends(auth.account)]
Strict = schemas.Strict


# --- shapes -------------------------------------------------------------------------------------


class ListBody(BaseModel):
    model_config = Strict
    name: StoredText = Field(min_length=1, max_length=200)


class ContactBody(BaseModel):
    model_config = Strict
    phone: StoredText = Field(min_length=1, max_length=64)
    name: StoredText | None = Field(None, max_length=200)
    fields: dict[str, StoredText] = Field(
        default_factory=dict, description="filled into campaign texts as {field}"
    )
    lists: list[int] = Field(default_factory=list, description="put it in these lists too")


class ContactsBody(BaseModel):
    model_config = Strict
    contacts: list[ContactBody] = Field(min_length=1, max_length=10_000)
    lists: list[int] = Field(default_factory=list, description="every contact goes in these")


class OptOutBody(BaseModel):
    model_config = Strict
    phones: list[StoredText] = Field(min_length=1, max_length=10_000)


class CampaignBody(BaseModel):
    model_config = Strict
    name: StoredText = Field(min_length=1, max_length=200)
    text: StoredText = Field(
        min_length=1,
        max_length=5000,
        description="{name}, {phone} and {field} are filled from each contact",
    )
    lists: list[int] = Field(min_length=1, max_length=100)
    devices: list[int] = Field(default_factory=list)
    sim: int | None = Field(None, ge=1, le=8)
    priority: Literal["normal", "urgent"] = "normal"
    send_at: StoredMoment | None = Field(None, description="when it expands; now when absent")


# --- rendering ----------------------------------------------------------------------------------


def contact_list(lst: ContactList) -> dict[str, Any]:
    return {"id": lst.id, "name": lst.name, "size": lst.size, "created_at": lst.created_at}


def contact(c: Contact) -> dict[str, Any]:
    return {
        "id": c.id,
        "phone": c.phone,
        "phone_original": c.phone_original,
        "country": c.country,
        "name": c.name,
        "fields": dict(c.fields),
        "lists": list(c.lists),
        "created_at": c.created_at,
    }


def optout(o: OptOut) -> dict[str, Any]:
    return {"phone": o.phone, "source": o.source, "created_at": o.created_at}


def progress(p: Progress) -> dict[str, Any]:
    return {
        "contacts": p.contacts,
        "expanded": p.expanded,
        "skipped_opted_out": p.skipped,
        "skipped_invalid": p.invalid,
        "pending": p.pending,
        "queued": p.queued,
        "sending": p.sending,
        "sent": p.sent,
        "delivered": p.delivered,
        "failed": p.failed,
        "cancelled": p.cancelled,
    }


def campaign(c: Campaign, p: Progress | None = None) -> dict[str, Any]:
    out = {
        "id": c.id,
        "name": c.name,
        "text": c.text,
        "lists": list(c.lists),
        "devices": list(c.devices),
        "sim": c.sim_slot,
        "priority": "urgent" if c.priority >= Priority.URGENT else "normal",
        "status": c.state.value,
        "send_at": c.send_at,
        "created_at": c.created_at,
        "started_at": c.started_at,
        "expanded_at": c.expanded_at,
        "paused_at": c.paused_at,
        "cancelled_at": c.cancelled_at,
    }
    if p is not None:
        out["progress"] = progress(p)
    return out


# --- lists --------------------------------------------------------------------------------------


@router.get("/lists", tags=["contacts"])
async def list_lists(request: Request, account: Caller) -> Response:
    found = await gateway_of(request).contacts.lists(account=account)
    return schemas.json({"lists": [contact_list(lst) for lst in found]})


@router.post("/lists", status_code=201, tags=["contacts"])
async def create_list(body: ListBody, request: Request, account: Caller) -> Response:
    """A contact list (a tag); names are unique in an account (409 for a second one)."""
    made = await gateway_of(request).contacts.create_list(body.name, account=account)
    return schemas.json(contact_list(made), 201)


@router.get("/lists/{list_id}", tags=["contacts"])
async def get_list(list_id: int, request: Request, account: Caller) -> Response:
    return schemas.json(
        contact_list(await gateway_of(request).contacts.get_list(list_id, account=account))
    )


@router.delete("/lists/{list_id}", tags=["contacts"])
async def delete_list(list_id: int, request: Request, account: Caller) -> Response:
    """Deletes the list; its contacts stay (in their other lists, or in none)."""
    gone = await gateway_of(request).contacts.delete_list(list_id, account=account)
    return schemas.json(contact_list(gone))


@router.put("/lists/{list_id}/contacts/{contact_id}", tags=["contacts"])
async def add_to_list(list_id: int, contact_id: int, request: Request, account: Caller) -> Response:
    found = await gateway_of(request).contacts.add_to_list(contact_id, list_id, account=account)
    return schemas.json(contact(found))


@router.delete("/lists/{list_id}/contacts/{contact_id}", tags=["contacts"])
async def remove_from_list(
    list_id: int, contact_id: int, request: Request, account: Caller
) -> Response:
    found = await gateway_of(request).contacts.remove_from_list(
        contact_id, list_id, account=account
    )
    return schemas.json(contact(found))


# --- contacts -----------------------------------------------------------------------------------


def _input(body: ContactBody) -> ContactInput:
    return ContactInput(
        phone=body.phone, name=body.name, fields=body.fields, lists=tuple(body.lists)
    )


@router.post("/contacts", status_code=201, tags=["contacts"])
async def add_contact(body: ContactBody, request: Request, account: Caller) -> Response:
    """Adds a contact, or updates the one with this number (one contact per number)."""
    found = await gateway_of(request).contacts.add(_input(body), account=account)
    return schemas.json(contact(found), 201)


@router.post("/contacts/batch", status_code=201, tags=["contacts"])
async def add_contacts(body: ContactsBody, request: Request, account: Caller) -> Response:
    """Many contacts at once; one bad entry writes nothing (the error names its index)."""
    done = await gateway_of(request).contacts.add_many(
        [_input(c) for c in body.contacts], account=account, lists=body.lists
    )
    return schemas.json({"count": len(done.contacts), "ids": [c.id for c in done.contacts]}, 201)


@router.get("/contacts", tags=["contacts"])
async def list_contacts(
    request: Request,
    account: Caller,
    list_id: Annotated[int | None, Query(alias="list", ge=1)] = None,
    phone: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Newest first; follow `next_cursor`."""
    page = await gateway_of(request).contacts.list(
        account=account, list_id=list_id, phone=phone, before_id=cursor, limit=limit
    )
    return schemas.json(
        {
            "contacts": [contact(c) for c in page.items],
            "next_cursor": page.next_before_id,
        }
    )


@router.get("/contacts/{contact_id}", tags=["contacts"])
async def get_contact(contact_id: int, request: Request, account: Caller) -> Response:
    return schemas.json(
        contact(await gateway_of(request).contacts.get(contact_id, account=account))
    )


@router.delete("/contacts/{contact_id}", tags=["contacts"])
async def delete_contact(contact_id: int, request: Request, account: Caller) -> Response:
    gone = await gateway_of(request).contacts.delete(contact_id, account=account)
    return schemas.json(contact(gone))


# --- the opt-out list ---------------------------------------------------------------------------


@router.get("/optouts", tags=["contacts"])
async def list_optouts(
    request: Request,
    account: Caller,
    phone: str | None = None,
    after: Annotated[str, Query(max_length=20, description="numbers after this one")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """Numbers no campaign sends to: those who replied a stop word, or were added here."""
    found = await gateway_of(request).contacts.optouts(
        account=account, phone=phone, after=after, limit=limit
    )
    return schemas.json({"optouts": [optout(o) for o in found]})


@router.post("/optouts", status_code=201, tags=["contacts"])
async def add_optouts(body: OptOutBody, request: Request, account: Caller) -> Response:
    added = await gateway_of(request).contacts.opt_out(body.phones, account=account, source="api")
    return schemas.json({"added": added}, 201)


@router.delete("/optouts/{phone}", tags=["contacts"])
async def remove_optout(phone: str, request: Request, account: Caller) -> Response:
    """Takes a number off the opt-out list (it consented again)."""
    await gateway_of(request).contacts.opt_in(phone, account=account)
    return Response(status_code=204)


# --- campaigns ----------------------------------------------------------------------------------


@router.post("/campaigns", status_code=201, tags=["campaigns"])
async def create_campaign(body: CampaignBody, request: Request, account: Caller) -> Response:
    """A newsletter: at `send_at` it expands to one message per distinct number of its lists,
    skipping opted-out numbers, `{name}`-style placeholders filled from each contact."""
    gateway = gateway_of(request)
    made = await gateway.campaigns.create(
        account=account,
        name=body.name,
        text=body.text,
        lists=body.lists,
        devices=body.devices,
        sim_slot=body.sim,
        priority=Priority.URGENT if body.priority == "urgent" else Priority.NORMAL,
        send_at=body.send_at,
    )
    return schemas.json(campaign(made, await gateway.campaigns.progress(made)), 201)


@router.get("/campaigns", tags=["campaigns"])
async def list_campaigns(
    request: Request,
    account: Caller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    found = await gateway_of(request).campaigns.list(account=account, before_id=cursor, limit=limit)
    return schemas.json(
        {
            "campaigns": [campaign(c) for c in found],
            "next_cursor": found[-1].id if len(found) == limit else None,
        }
    )


@router.get("/campaigns/{campaign_id}", tags=["campaigns"])
async def get_campaign(campaign_id: int, request: Request, account: Caller) -> Response:
    """The campaign and its progress: queued, sending, sent, delivered, failed, skipped."""
    gateway = gateway_of(request)
    found = await gateway.campaigns.get(campaign_id, account=account)
    return schemas.json(campaign(found, await gateway.campaigns.progress(found)))


async def _changed(request: Request, found: Campaign, **extra: Any) -> Response:
    progress_now = await gateway_of(request).campaigns.progress(found)
    return schemas.json({**campaign(found, progress_now), **extra})


@router.post("/campaigns/{campaign_id}/pause", tags=["campaigns"])
async def pause_campaign(campaign_id: int, request: Request, account: Caller) -> Response:
    """Stops expanding and holds its messages no phone has taken (409 if it cannot pause)."""
    found = await gateway_of(request).campaigns.pause(campaign_id, account=account)
    return await _changed(request, found)


@router.post("/campaigns/{campaign_id}/resume", tags=["campaigns"])
async def resume_campaign(campaign_id: int, request: Request, account: Caller) -> Response:
    found = await gateway_of(request).campaigns.resume(campaign_id, account=account)
    return await _changed(request, found)


@router.post("/campaigns/{campaign_id}/cancel", tags=["campaigns"])
async def cancel_campaign(campaign_id: int, request: Request, account: Caller) -> Response:
    """Stops it and cancels every message of it no phone has taken; `cancelled` says how many."""
    found, count = await gateway_of(request).campaigns.cancel(campaign_id, account=account)
    return await _changed(request, found, cancelled=count)
