"""/sys/*.php: each method reads SMSC's wire, calls the Gateway, renders SMSC's answer."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from smsgate.api.auth import gateway_of
from smsgate.core import billing, errors, limits, numbers
from smsgate.core.accounts import Account
from smsgate.core.limits import Limit, Once
from smsgate.core.messages import Message, MessageFilter
from smsgate.core.requests import SendRequest
from smsgate.dialects.smsc import errors as smsc_errors
from smsgate.dialects.smsc import schemas, wire
from smsgate.doors import credentials, parsers
from smsgate.doors.params import Params

log = logging.getLogger(__name__)

PREFIX: Final = "/sys"
BOTH: Final = ["GET", "POST"]
HISTORY_LIMITS: Final = (Limit(3, timedelta(minutes=1)), Limit(30, timedelta(hours=1)))
COST_LIMITS: Final = (Limit(5, timedelta(minutes=1)),)
UNSIGNED: Final = frozenset({"login", "psw", "apikey"})  # not part of a request's identity


class Guarded(APIRoute):
    """Every failure inside a method answers in SMSC's format right here (HTTP 200)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # rendered; logged when unexpected
                return await smsc_errors.render(request, exc)

        return guarded


router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=Guarded)


async def caller(request: Request, p: Params) -> Account:
    """`apikey`, or `login` + `psw` (the password or its lower-case md5), or an empty login with
    the API key as `psw`. The login is the smsgate account's email."""
    gateway = gateway_of(request)
    key = credentials.token(p, "apikey")
    if key is None and not (p.get("login") or "").strip() and (p.get("psw") or "").strip():
        key = credentials.token(p, "psw")
    if key is not None:
        return await credentials.account_by_key(gateway.accounts, key)
    sign_in = credentials.password_sign_in(p, md5_allowed=True)
    if sign_in is None:
        raise errors.Unauthorized("login and psw, or apikey, are required")
    client = request.client.host if request.client else ""
    return await gateway.accounts.login(
        sign_in.login, sign_in.password, client=client, md5_allowed=True
    )


def identity(p: Params, *drop: str) -> list[str]:
    """The parameters that make two requests identical (credentials aside)."""
    return sorted(f"{k}={v}" for k in p if k not in UNSIGNED and k not in drop for v in p.every(k))


def done(text: str, request: Request) -> Response:
    return schemas.answer(text, wire.wire_of(request))


# --- send.php ---------------------------------------------------------------------------------


@router.api_route("/send.php", methods=BOTH)
async def send(request: Request) -> Response:
    p = await wire.read(request)
    client_id = wire.client_id(p)
    request.state.smsc_id = client_id
    account = await caller(request, p)
    gateway = gateway_of(request)
    mode = wire.number(p, "cost", low=0, high=3, default=0)
    if wire.flag(p, "hlr") or wire.flag(p, "ping"):
        return _lookup(request, p, client_id)
    sends = _requests(p, client_id, gateway.now())
    if mode == 1:
        await gateway.limits.check("smsc-cost", identity(p), COST_LIMITS, account=account)
        quotes = [await gateway.billing.quote(s.to, s.text) for s in sends]
        cnt = sum(q.parts * len(q.costs) for q in quotes)
        return done(_cost_only(sum(q.total for q in quotes), cnt, request), request)
    once = Once(limits.key("smsc-send", account.id, *identity(p)))
    if len(sends) == 1:
        sent = await gateway.messages.send(_once(sends[0], once), account=account)
    else:
        sent = await gateway.messages.send_batch(
            [_once(s, once) if i == 0 else s for i, s in enumerate(sends)], account=account
        )
    balance = await gateway.billing.balance(account) if mode == 3 else None
    return done(_sent(sent, client_id, mode, balance, p, request), request)


def _once(request: SendRequest, once: Once) -> SendRequest:
    from dataclasses import replace

    return replace(request, once=once)


def _requests(p: Params, client_id: int | str | None, now: Any) -> list[SendRequest]:
    send_at = wire.send_time(p.get("time"), wire.zone(p), now)
    valid_for = wire.validity(p.get("valid"))
    sender = parsers.text("sender", p.get("sender"), max_length=64)
    convert = wire.translit if wire.flag(p, "translit") else (lambda t: t)
    listed = p.get("list")
    if listed is not None and listed.strip():
        pairs = [(wire.international(ph), convert(wire.text(t))) for ph, t in wire.entries(listed)]
    else:
        pairs = [(ph, convert(wire.text(p.get("mes")))) for ph in wire.phones(p.get("phones"))]
    many = len(pairs) > 1
    if client_id is not None:
        reference: str | None = str(client_id)
    else:  # one id answers for every number of the send: status.php finds each by it + phone
        reference = f"smsc-{secrets.token_hex(6)}" if many else None
    if listed is not None and listed.strip():
        return [
            SendRequest(
                to=(ph,),
                text=t,
                send_at=send_at,
                valid_for=valid_for,
                reference=reference,
                sender_name=sender,
            )
            for ph, t in pairs
        ]
    return [
        SendRequest(
            to=tuple(ph for ph, _ in pairs),
            text=pairs[0][1],
            send_at=send_at,
            valid_for=valid_for,
            reference=reference,
            sender_name=sender,
        )
    ]


def _cost_only(total: int, cnt: int, request: Request) -> str:
    w = wire.wire_of(request)
    cost = billing.shown(total)
    if w.fmt == 1:
        return f"{cost},{cnt}"
    if w.fmt == 2:
        return schemas.xml({"cost": cost, "cnt": cnt})
    if w.fmt == 3:
        return schemas.json_text({"cost": cost, "cnt": cnt})
    return f"OK - {cnt} SMS, COST - {cost}"


def _sent(
    sent: list[Message],
    client_id: int | str | None,
    mode: int,
    balance: billing.Balance | None,
    p: Params,
    request: Request,
) -> str:
    w = wire.wire_of(request)
    answer_id: int | str = client_id if client_id is not None else sent[0].id
    cnt = sum(m.segments for m in sent)
    fields: dict[str, Any] = {"id": answer_id, "cnt": cnt}
    if mode >= 2:
        fields["cost"] = billing.shown(sum(m.cost for m in sent))
    if mode == 3:
        fields["balance"] = billing.shown(balance.amount if balance else schemas.UNLIMITED)
    if w.fmt == 1:
        return ",".join(str(v) for v in fields.values())
    if w.fmt == 2:
        return schemas.xml(
            {"cnt": cnt, "id": answer_id, **{k: fields[k] for k in list(fields)[2:]}}
        )
    if w.fmt == 3:
        if wire.flag(p, "op"):
            fields["phones"] = [
                {"phone": schemas.phone(m), "mccmnc": m.mccmnc, "cost": billing.shown(m.cost), "status": 0, "error": 0}
                for m in sent
            ]  # fmt: skip
        return schemas.json_text(fields)
    text = f"OK - {cnt} SMS, ID - {answer_id}"
    if mode >= 2:
        text += f", COST - {fields['cost']}"
    if mode == 3:
        text += f", BALANCE - {fields['balance']}"
    return text


def _lookup(request: Request, p: Params, client_id: int | str | None) -> Response:
    """HLR and ping requests, answered from number intelligence: no operator is asked here."""
    w = wire.wire_of(request)
    found = []
    for raw in wire.phones(p.get("phones")):
        number = numbers.parse(raw, gateway_of(request).default_region)
        info = numbers.intelligence(number.e164, number.country)
        found.append(
            {
                "phone": number.e164.lstrip("+"),
                "mccmnc": info.mccmnc,
                "country": numbers.country_name(info.country, "ru"),
                "operator": info.operator,
                "type": info.kind,
                "status": "number intelligence only (no operator was asked)",
            }
        )
    answer_id = client_id if client_id is not None else 0
    if w.fmt == 3:
        return done(
            schemas.json_text({"id": answer_id, "cnt": 0, "cost": "0.00", "phones": found}), request
        )
    if w.fmt == 2:
        return done(schemas.xml_list(found, "phone"), request)
    if w.fmt == 1:
        return done(schemas.listing(found, w, "phone"), request)
    return done(f"OK - 0 SMS, ID - {answer_id}\n" + schemas.listing(found, w, "phone"), request)


# --- status.php -------------------------------------------------------------------------------


@router.api_route("/status.php", methods=BOTH)
async def status(request: Request) -> Response:
    p = await wire.read(request)
    account = await caller(request, p)
    raw_ids = (p.get("id") or "").strip()
    raw_phones = (p.get("phone") or "").strip()
    if not raw_ids:
        raise errors.MissingParameter("id is missing")
    ids = [i.strip() for i in raw_ids.split(",") if i.strip()]
    phones = [ph.strip() for ph in raw_phones.split(",") if ph.strip()]
    if phones and len(phones) not in (1, len(ids)):
        raise errors.BadParameter("give one phone per id, in the same order")
    multi = raw_ids.endswith(",") or len(ids) > 1
    if len(ids) > 1000:
        raise errors.BadParameter("at most 1000 ids")
    found = [await _find(request, account, i, ph or None) for i, ph in _pairs(ids, phones)]
    if wire.flag(p, "del"):
        for m in found:
            if m is not None:
                await gateway_of(request).messages.delete(m.id, account=account)
        return done(_ok(request), request)
    level = wire.number(p, "all", low=0, high=2, default=0)
    items = [
        _status(m, i, ph, level) for m, (i, ph) in zip(found, _pairs(ids, phones), strict=True)
    ]
    w = wire.wire_of(request)
    if not multi:
        return done(_one_status(items[0], w), request)
    return done(schemas.listing(items, w, "status"), request)


def _pairs(ids: list[str], phones: list[str]) -> list[tuple[str, str]]:
    if len(phones) > 1:
        return list(zip(ids, phones, strict=True))
    return [(i, phones[0] if phones else "") for i in ids]


async def _find(
    request: Request, account: Account, given: str, phone: str | None
) -> Message | None:
    gateway = gateway_of(request)
    e164 = numbers.parse(wire.international(phone), gateway.default_region).e164 if phone else None
    page = await gateway.messages.list(
        MessageFilter(references=(given,), phone=e164, limit=1), account=account
    )
    if page.items:
        return page.items[0]
    message_id = (
        parsers.integer("id", given, low=1, high=parsers.INT64_MAX) if given.isdigit() else None
    )
    if message_id is None:
        return None
    try:
        m = await gateway.messages.get(message_id, account=account)
    except errors.NotFound:
        return None
    if e164 is not None and m.to != e164:
        if m.reference and m.reference.startswith("smsc-"):  # another number of the same send
            page = await gateway.messages.list(
                MessageFilter(references=(m.reference,), phone=e164, limit=1), account=account
            )
            return page.items[0] if page.items else None
        return None
    return m


def _status(m: Message | None, given: str, phone: str, level: int) -> dict[str, Any]:
    if m is None:
        return {"id": given, "phone": phone, "status": schemas.NOT_FOUND, "status_name": schemas.NAMES[-3], "err": 0}  # fmt: skip
    code, err = schemas.status_of(m)
    changed = schemas.last_change(m)
    item: dict[str, Any] = {
        "status": code,
        "last_date": wire.moscow(changed),
        "last_timestamp": wire.stamp(changed),
        "err": err,
    }
    if level >= 1:
        item.update(
            send_date=wire.moscow(m.created_at),
            send_timestamp=wire.stamp(m.created_at),
            phone=schemas.phone(m),
            cost=billing.shown(m.cost),
            sender_id=m.sender_name or m.sender or "",
            status_name=schemas.NAMES.get(code, ""),
        )
        if level == 2:
            item.update(
                country=numbers.country_name(m.country, "ru"), operator=m.operator, region=m.region
            )
        item["message"] = m.text
    item["id"] = schemas.client_id(m)
    if "phone" not in item:
        item["phone"] = schemas.phone(m)
    if "status_name" not in item:
        item["status_name"] = schemas.NAMES.get(code, "")
    return item


def _one_status(item: dict[str, Any], w: wire.Wire) -> str:
    if w.fmt == 3:
        return schemas.json_text(item)
    if w.fmt == 2:
        return schemas.xml(item)
    if w.fmt == 1:
        keys = [k for k in item if k not in ("id", "phone", "status_name")] if "message" not in item else [
            "status", "last_timestamp", "err", "send_timestamp", "phone", "cost", "sender_id", "status_name",
            *(["country", "operator", "region"] if "country" in item else []), "message",
        ]  # fmt: skip
        return ",".join(str(item.get(k, "")) for k in keys)
    text = f"Status = {item['status']}, check_time = {item.get('last_date', '')}"
    if item.get("err"):
        text += f", err = {item['err']}"
    extra = {k: v for k, v in item.items() if k not in ("status", "last_date", "err", "last_timestamp", "id")}  # fmt: skip
    if "message" in item:
        text += ", " + schemas.pairs(extra)
    return text


def _ok(request: Request) -> str:
    fmt = wire.wire_of(request).fmt
    return {1: "0", 2: "<result><result>OK</result></result>", 3: '{"result":"OK"}'}.get(fmt, "OK")


# --- balance.php ------------------------------------------------------------------------------


@router.api_route("/balance.php", methods=BOTH)
async def balance(request: Request) -> Response:
    p = await wire.read(request)
    account = await caller(request, p)
    gateway = gateway_of(request)
    found = await gateway.billing.balance(account)
    fields: dict[str, Any] = {
        "balance": billing.shown(found.amount if found else schemas.UNLIMITED)
    }
    if found is not None and found.credit:
        fields["credit"] = billing.shown(found.credit)
    if wire.flag(p, "cur"):
        fields["currency"] = gateway.billing.currency
    w = wire.wire_of(request)
    if w.fmt == 3:
        return done(schemas.json_text(fields), request)
    if w.fmt == 2:
        return done(schemas.xml(fields), request)
    return done(",".join(str(v) for v in fields.values()), request)


# --- get.php: history, incoming ----------------------------------------------------------------


@router.api_route("/get.php", methods=BOTH)
async def get(request: Request) -> Response:
    p = await wire.read(request)
    account = await caller(request, p)
    if "get_messages" in p:
        return await _history(request, p, account)
    if "get_answers" in p:
        return await _answers(request, p, account)
    raise errors.BadParameter("get.php answers get_messages and get_answers here")


async def _history(request: Request, p: Params, account: Account) -> Response:
    gateway = gateway_of(request)
    await gateway.limits.check("smsc-history", identity(p), HISTORY_LIMITS, account=account)
    start = wire.date("start", p.get("start"))
    end = wire.date("end", p.get("end"), end=True)
    if start is not None and end is not None and end - start > timedelta(days=186):
        raise smsc_errors.BadDate("start to end spans at most 6 months")
    if wire.number(p, "format", low=0, high=20, default=0) != 0:
        raise smsc_errors.NothingFound("only SMS (format 0) are kept here")
    phones = None
    if (p.get("phone") or "").strip():
        phones = tuple(
            numbers.parse(ph, gateway.default_region).e164 for ph in wire.phones(p.get("phone"))
        )
    f = MessageFilter(
        phones=phones,
        since=start,
        until=end,
        before_id=parsers.identifier("prev_id", p.get("prev_id")),
        limit=wire.number(p, "cnt", low=1, high=1000, default=1000),
    )
    page = await gateway.messages.list(f, account=account)
    if not page.items:
        raise smsc_errors.NothingFound("no messages match")
    items = [schemas.history(m) for m in page.items]
    return done(schemas.listing(items, wire.wire_of(request), "sms"), request)


async def _answers(request: Request, p: Params, account: Account) -> Response:
    gateway = gateway_of(request)
    hours = wire.number(p, "hour", low=1, high=24 * 31, default=1)
    after = parsers.identifier("after_id", p.get("after_id"))
    f = MessageFilter(
        min_id=after + 1 if after else None,
        since=None if after else gateway.now() - timedelta(hours=hours),
        limit=1000,
        ascending=True,
    )
    page = await gateway.inbound.list(f, account=account)
    if not page.items:
        raise smsc_errors.NothingFound("no incoming messages")
    items = [schemas.inbound(i) for i in page.items]
    return done(schemas.listing(items, wire.wire_of(request), "sms"), request)


# --- info.php: operator lookup; senders.php ------------------------------------------------------


@router.api_route("/info.php", methods=BOTH)
async def info(request: Request) -> Response:
    p = await wire.read(request)
    await caller(request, p)
    if "get_operator" not in p:
        raise errors.BadParameter("info.php answers get_operator here")
    raw = (p.get("phone") or "").strip()
    if not raw:
        raise smsc_errors.BadPhone("phone is missing")
    number = numbers.parse(wire.international(raw), gateway_of(request).default_region)
    found = numbers.intelligence(number.e164, number.country)
    fields: dict[str, Any] = {
        "country": numbers.country_name(found.country, "ru"),
        "operator": found.operator,
        "region": found.region,
        "mcc": int(found.mcc) if found.mcc else 0,
        "mnc": int(found.mnc) if found.mnc else 0,
    }
    w = wire.wire_of(request)
    if w.fmt == 3:
        return done(schemas.json_text(fields), request)
    if w.fmt == 2:
        return done(schemas.xml(fields), request)
    if w.fmt == 1:
        return done(",".join(str(v) for v in fields.values()), request)
    return done(schemas.pairs(fields), request)


@router.api_route("/senders.php", methods=BOTH)
async def senders(request: Request) -> Response:
    """get=1 lists the account's sender names; add=1 / del=1 with sender=NAME change them."""
    p = await wire.read(request)
    account = await caller(request, p)
    gateway = gateway_of(request)
    name = (p.get("sender") or "").strip()
    if wire.flag(p, "add") or wire.flag(p, "del"):
        if not name:
            raise errors.MissingParameter("sender is missing")
        if wire.flag(p, "add"):
            await gateway.senders.add(name, account=account)
        else:
            await gateway.senders.remove(name, account=account)
        return done(_ok(request), request)
    found = [{"sender": s} for s in await gateway.senders.list(account=account)]
    if not found:
        raise smsc_errors.NothingFound("the account has no sender names (any is accepted)")
    return done(schemas.listing(found, wire.wire_of(request), "sender"), request)


HOT: Final = {(method, f"{PREFIX}/send.php"): send for method in BOTH}
