"""/getdata/*: each SmsGateway24 method reads its wire, calls the Gateway, renders its answer."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from smsgate.api.auth import gateway_of
from smsgate.core import errors
from smsgate.core.accounts import Account
from smsgate.core.messages import Inbound, Message, MessageFilter
from smsgate.dialects.smsgateway24 import schemas, wire
from smsgate.dialects.smsgateway24.errors import PREFIX
from smsgate.doors import credentials, params, parsers
from smsgate.service import ContactInput

router = APIRouter(prefix=PREFIX, include_in_schema=False)
BOTH: Final = ["GET", "POST"]
TOKEN_NAME: Final = "SmsGateway24"  # the API key gettoken answers
MAX_LISTED: Final = 10_000  # messages in one getallsms answer


async def caller(request: Request, p: params.Params) -> Account:
    """`token` is an smsgate API key (gettoken gives one; any key of the account works)."""
    secret = credentials.token(p, "token")
    return await credentials.account_by_key(gateway_of(request).accounts, secret, what="token")


async def signed_in(request: Request, p: params.Params) -> Account:
    """The old methods' `email` + `pass`."""
    email, password = p.given("email"), p.get("pass")
    if email is None or not password:
        raise errors.Unauthorized("email and pass are required")
    client = request.client.host if request.client else ""
    return await gateway_of(request).accounts.login(email, password, client=client)


def ok(**fields: Any) -> Response:
    return schemas.json({"error": 0, "message": "OK", **fields})


# --- the token ----------------------------------------------------------------------------------


@router.api_route("/gettoken", methods=BOTH)
async def gettoken(request: Request) -> Response:
    """email + pass -> a token (the same one on every call with this password)."""
    p = await params.read(request)
    email, password = p.given("email"), p.get("pass")
    if email is None or not password:
        raise errors.Unauthorized("email and pass are required")
    client = request.client.host if request.client else ""
    _, token = await gateway_of(request).accounts.login_key(
        email, password, name=TOKEN_NAME, client=client
    )
    return ok(token=token)


# --- sending ------------------------------------------------------------------------------------


async def _send(request: Request, p: params.Params, account: Account) -> Response:
    gateway = gateway_of(request)
    tz, _ = wire.zone(p.get("timezone"))
    sent = await gateway.messages.send(wire.send_request(p, tz, gateway.now()), account=account)
    extra = {"sms_ids": [m.id for m in sent]} if len(sent) > 1 else {}
    return schemas.json(
        {"error": 0, "sms_id": sent[0].id, "message": "Sms has been saved successfully", **extra}
    )


@router.api_route("/addsms", methods=BOTH)
async def addsms(request: Request) -> Response:
    p = await params.read(request)
    return await _send(request, p, await caller(request, p))


@router.api_route("/smstosend", methods=BOTH)
async def smstosend(request: Request) -> Response:
    """The old method: email + pass instead of a token."""
    p = await params.read(request)
    return await _send(request, p, await signed_in(request, p))


@router.api_route("/addalotofsms", methods=BOTH)
async def addalotofsms(request: Request) -> Response:
    """All or nothing: one bad entry writes nothing, and the error names it."""
    p = await params.read(request)
    data = wire.datajson(p, p.json)
    token = data.get("token")
    secret = credentials.token({"token": token if isinstance(token, str) else ""}, "token")
    if secret is None:
        secret = credentials.token(p, "token")
    gateway = gateway_of(request)
    account = await credentials.account_by_key(gateway.accounts, secret, what="token")
    tz, _ = wire.zone(data.get("timezone") if isinstance(data.get("timezone"), str) else None)
    sends = []
    for index, entry in enumerate(data["smsdata"]):
        try:
            sends.append(wire.send_request(entry, tz, gateway.now()))
        except errors.GatewayError as exc:
            exc.detail = f"smsdata[{index}]: {exc.detail}"
            exc.context.setdefault("index", index)
            raise
    try:
        sent = await gateway.messages.send_batch(sends, account=account)
    except errors.GatewayError as exc:
        exc.detail = (
            exc.detail.replace("message ", "smsdata[", 1).replace(":", "]:", 1)
            if (exc.detail.startswith("message "))
            else exc.detail
        )
        raise
    return ok(count=len(sent), sms_ids=[m.id for m in sent])


# --- reading ------------------------------------------------------------------------------------


def _filter(p: params.Params, request: Request, tz: Any) -> tuple[MessageFilter, bool, bool]:
    """The filters of getallsms; and whether outgoing / incoming messages can match them."""
    status = parsers.integer("status", p.get("status"), low=0, high=1000)
    if status is not None and status != schemas.INCOMING and status not in schemas.FILTERS:
        raise errors.BadParameter(
            f"status {status} is not one of 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 100, 101"
        )
    states, reasons = schemas.FILTERS.get(status, (None, None)) if status else (None, None)
    device_id = wire.device(p.get("device_id"), required=False)
    phone = p.given("phone")
    begin = parsers.moment("begindate", p.get("begindate"), tz=tz)
    end = parsers.moment("enddate", p.get("enddate"), tz=tz, end=True)
    if begin is not None and end is not None and end < begin:
        raise errors.BadParameter("enddate is before begindate")
    descending = bool(parsers.flag("orderbydesc", p.get("orderbydesc")))
    limit = parsers.integer("limit", p.get("limit"), low=1, high=MAX_LISTED) or MAX_LISTED
    customer = wire.customer(p)
    f = MessageFilter(
        states=states,
        reasons=reasons,
        device_ids=(device_id,) if device_id else None,
        phones=_spellings(phone, gateway_of(request).default_region) if phone else None,
        since=begin,
        until=end,
        reference=customer,
        sim_slot=wire.sim_slot(p.get("sim")),
        limit=limit,
        ascending=not descending,
    )
    outgoing = status != schemas.INCOMING
    incoming = (status is None or status == schemas.INCOMING) and customer is None
    return f, outgoing, incoming


def _spellings(phone: str, region: str | None) -> tuple[str, ...]:
    from smsgate.core import numbers

    found = {phone.strip(), "+" + phone.strip().lstrip("+ ")}
    try:
        found.add(numbers.parse(phone, region).e164)
    except errors.GatewayError:
        pass
    return tuple(sorted(found))


@router.api_route("/getallsms", methods=BOTH)
async def getallsms(request: Request) -> Response:
    """Outgoing and incoming (status 5) messages; `onlycount=1` answers the count alone."""
    p = await params.read(request)
    account = await caller(request, p)
    gateway = gateway_of(request)
    tz, zone_name = wire.zone(p.get("timezone"))
    f, outgoing, incoming = _filter(p, request, tz)
    out_f = MessageFilter(**{**_fields(f), "device_ids": None, "for_devices": f.device_ids})
    count = 0
    if outgoing:
        count += await gateway.messages.count(out_f, account=account)
    if incoming:
        count += await gateway.inbound.count(f, account=account)
    if parsers.flag("onlycount", p.get("onlycount")):
        return ok(count=count)
    sent: list[Message] = (
        (await gateway.messages.list(out_f, account=account)).items if outgoing else []
    )
    received: list[Inbound] = (
        (await gateway.inbound.list(f, account=account)).items if incoming else []
    )
    campaigns = await gateway.campaigns.of_messages(
        [m.campaign_id for m in sent if m.campaign_id is not None]
    )
    rows = [(m.created_at, 0, m.id, schemas.sms(m, tz, zone_name, campaigns)) for m in sent]
    rows += [(i.received_at, 1, i.id, schemas.incoming(i, tz, zone_name)) for i in received]
    rows.sort(key=lambda r: (r[0], r[1], r[2]), reverse=not f.ascending)
    smss = {str(r[3]["id"]): r[3] for r in rows[: f.limit]}
    return ok(count=count, smss=smss)


def _fields(f: MessageFilter) -> dict[str, Any]:
    return {name: getattr(f, name) for name in f.__slots__}


@router.api_route("/getsmsstatus", methods=BOTH)
async def getsmsstatus(request: Request) -> Response:
    p = await params.read(request)
    account = await caller(request, p)
    sms_id = parsers.need("sms_id", parsers.identifier("sms_id", p.get("sms_id")))
    gateway = gateway_of(request)
    if sms_id > schemas.INBOUND_ID_OFFSET:
        found = await gateway.inbound.list(
            MessageFilter(ids=(sms_id - schemas.INBOUND_ID_OFFSET,)), account=account
        )
        if not found.items:
            raise errors.NotFound(f"sms {sms_id} not found")
        code, title = schemas.INCOMING, schemas.TITLES[schemas.INCOMING][0]
    else:
        message = await gateway.messages.get(sms_id, account=account)
        code, title = schemas.code_of(message), schemas.title_of(message)
    return ok(
        sms_id=sms_id,
        status=code,
        statustitle=title,
        status_description=schemas.TITLES[code][1],
    )


@router.api_route("/getalldevices", methods=BOTH)
async def getalldevices(request: Request) -> Response:
    p = await params.read(request)
    account = await caller(request, p)
    devices = gateway_of(request).devices
    found = await devices.list(account=account, archived=False)
    return schemas.json(
        {
            "error": 0,
            "message": "OK",
            "count": len(found),
            "device": {str(d.id): schemas.device(d, online=devices.online(d)) for d in found},
        }
    )


@router.api_route("/getdevicestatus", methods=BOTH)
async def getdevicestatus(request: Request) -> Response:
    p = await params.read(request)
    account = await caller(request, p)
    device_id = wire.device(p.get("device_id"))
    assert device_id is not None
    devices = gateway_of(request).devices
    found = await devices.list(account=account, archived=None, ids=[device_id])
    if not found:
        raise errors.NotFound(f"device {device_id} does not exist in this account")
    shown = schemas.device(found[0], online=devices.online(found[0]))
    return ok(
        device_id=device_id,
        title=shown["title"],
        lastseen=shown["lastseen"],
        lastseenhumanformat=shown["lastseenhumanformat"],
        online=shown["online"],
    )


# --- tags, contacts, newsletters ----------------------------------------------------------------


@router.api_route("/savetag", methods=BOTH)
async def savetag(request: Request) -> Response:
    """A tag is a contact list; a title used before answers that list's id."""
    p = await params.read(request)
    account = await caller(request, p)
    title = wire.text(p, "title", most=200)
    assert title is not None
    made = await gateway_of(request).contacts.list_named(title, account=account)
    return ok(tag_id=made.id)


@router.api_route("/savecontact", methods=BOTH)
async def savecontact(request: Request) -> Response:
    """`tag_id` (English page) or `ctag_id` (French page)."""
    p = await params.read(request)
    account = await caller(request, p)
    raw_tag = p.get("tag_id") if p.given("tag_id") is not None else p.get("ctag_id")
    tag = parsers.need("tag_id", parsers.identifier("tag_id", raw_tag))
    phone = wire.text(p, "phone", most=64)
    assert phone is not None
    name = wire.text(p, "fullname", required=False, most=200)
    contact = await gateway_of(request).contacts.add(
        ContactInput(phone=phone, name=name), account=account, lists=[tag]
    )
    return ok(contact_id=contact.id)


@router.api_route("/savepaket", methods=BOTH)
async def savepaket(request: Request) -> Response:
    """A newsletter to the tags' contacts, sent now or at `time_to_send` (DD.MM.YYYY H:i:s)."""
    p = await params.read(request)
    account = await caller(request, p)
    gateway = gateway_of(request)
    tz, _ = wire.zone(p.get("timezone"))
    title, body = wire.text(p, "title", most=200), wire.text(p, "body", most=5000)
    assert title is not None and body is not None
    device_id = wire.device(p.get("device_id"))
    raw_time = p.get("time_to_send")
    send_at = (
        None
        if raw_time in (None, "", "0")
        else wire.send_time(raw_time, tz, gateway.now(), "time_to_send")
    )
    made = await gateway.campaigns.create(
        account=account,
        name=title,
        text=body,
        lists=wire.tag_ids(p.get("tags")),
        devices=(device_id,) if device_id else (),
        sim_slot=wire.sim_slot(p.get("sim")),
        send_at=send_at,
    )
    return ok(paket=made.id, paket_id=made.id)


@router.api_route("/telegrammessage", methods=BOTH)
async def telegrammessage(request: Request) -> Response:
    """A notification to a Telegram user through the configured bot."""
    p = await params.read(request)
    account = await caller(request, p)
    chat = wire.text(p, "telegramid", most=64)
    body = wire.text(p, "body", most=4096)
    assert chat is not None and body is not None
    await gateway_of(request).notifications.telegram(chat, body, account=account)
    return ok()


HOT: Final = {(method, f"{PREFIX}/addsms"): addsms for method in BOTH}
