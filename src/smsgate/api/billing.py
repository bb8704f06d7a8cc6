"""/api/v1 prices and balances: the price list (an admin loads it as CSV), quotes, balances."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from smsgate.api import auth, schemas
from smsgate.api.auth import gateway_of
from smsgate.core import billing, errors
from smsgate.core.accounts import Account
from smsgate.core.billing import Balance, Price

router = APIRouter(prefix="/api/v1")
Caller = Annotated[Account, Depends(auth.account)]
MAX_CSV = 16 * 1024 * 1024


class PriceOut(BaseModel):
    country: str
    prefix: str
    operator: str
    price: str = Field(description="per message part, in the gateway's currency")


class PricesOut(BaseModel):
    currency: str
    prices: list[PriceOut]


class BalanceOut(BaseModel):
    unlimited: bool
    balance: str | None
    credit: str
    currency: str


class BalanceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    balance: str | None = Field(description='the amount, e.g. "100.00"; null: unlimited')
    credit: str = "0"


class TopUpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str = Field(description="added to the balance (negative: taken from it)")


class QuoteOut(BaseModel):
    parts: int
    total: str
    currency: str
    recipients: list[dict[str, Any]]


def price(p: Price) -> dict[str, Any]:
    return {
        "country": p.country,
        "prefix": p.prefix,
        "operator": p.operator,
        "price": billing.shown(p.per_part),
    }


def balance(found: Balance | None, currency: str) -> dict[str, Any]:
    return {
        "unlimited": found is None,
        "balance": billing.shown(found.amount) if found else None,
        "credit": billing.shown(found.credit if found else 0),
        "currency": currency,
    }


@router.get("/prices", response_model=PricesOut, tags=["billing"])
async def list_prices(request: Request, account: Caller) -> Response:
    """The price list: what one message part costs, by country, operator and number prefix."""
    gateway = gateway_of(request)
    found = await gateway.billing.prices()
    return schemas.json({"currency": gateway.billing.currency, "prices": [price(p) for p in found]})


@router.put("/prices", response_model=PricesOut, tags=["billing"])
async def load_prices(request: Request, account: Caller) -> Response:
    """Replaces the price list with a CSV body (`country,prefix,operator,price`); admins only."""
    raw = await request.body()
    if len(raw) > MAX_CSV:
        raise errors.BadParameter("the price list is larger than 16 MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.MalformedBody("the price list is not UTF-8 text") from None
    gateway = gateway_of(request)
    found = await gateway.billing.load_prices(text, by=account)
    return schemas.json({"currency": gateway.billing.currency, "prices": [price(p) for p in found]})


@router.get("/prices/quote", response_model=QuoteOut, tags=["billing"])
async def quote(
    request: Request,
    account: Caller,
    to: Annotated[list[str], Query(description="recipients")],
    text: Annotated[str, Query(min_length=1, max_length=10_000)],
) -> Response:
    """What sending `text` to `to` would cost, without sending."""
    gateway = gateway_of(request)
    found = await gateway.billing.quote(to, text)
    return schemas.json(
        {
            "parts": found.parts,
            "total": billing.shown(found.total),
            "currency": gateway.billing.currency,
            "recipients": [{"to": e164, "cost": billing.shown(c)} for e164, c in found.costs],
        }
    )


@router.get("/balance", response_model=BalanceOut, tags=["billing"])
async def own_balance(request: Request, account: Caller) -> Response:
    gateway = gateway_of(request)
    return schemas.json(balance(await gateway.billing.balance(account), gateway.billing.currency))


@router.get("/accounts/{account_id}/balance", response_model=BalanceOut, tags=["billing"])
async def account_balance(account_id: int, request: Request, account: Caller) -> Response:
    gateway = gateway_of(request)
    found = await gateway.billing.balance_of(account_id, by=account)
    return schemas.json(balance(found, gateway.billing.currency))


@router.put("/accounts/{account_id}/balance", response_model=BalanceOut, tags=["billing"])
async def set_balance(
    account_id: int, body: BalanceBody, request: Request, account: Caller
) -> Response:
    """Sets an account's balance (null: unlimited); admins only."""
    gateway = gateway_of(request)
    wanted = (
        None
        if body.balance is None
        else Balance(
            amount=billing.amount(body.balance, what="the balance"),
            credit=billing.amount(body.credit, what="the credit"),
        )
    )
    found = await gateway.billing.set_balance(account_id, wanted, by=account)
    return schemas.json(balance(found, gateway.billing.currency))


@router.post("/accounts/{account_id}/balance/top-up", response_model=BalanceOut, tags=["billing"])
async def top_up(account_id: int, body: TopUpBody, request: Request, account: Caller) -> Response:
    """Adds to an account's balance; admins only."""
    gateway = gateway_of(request)
    amount = billing.amount(body.amount)
    found = await gateway.billing.top_up(account_id, amount, by=account)
    return schemas.json(balance(found, gateway.billing.currency))
