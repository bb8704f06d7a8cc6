"""Who is calling: an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`."""

from __future__ import annotations

from fastapi import Request

from smsgate.core.accounts import Account
from smsgate.core.devices import Device
from smsgate.service import Gateway


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def account(request: Request) -> Account:
    return await gateway_of(request).accounts.authenticate(
        bearer(request) or request.headers.get("x-api-key")
    )


async def device(request: Request) -> Device:
    return await gateway_of(request).devices.authenticate(bearer(request))
