"""Mounts the SMSGate app's two doors: the mobile API (phones) and the client API (its SDKs)."""

from __future__ import annotations

from fastapi import FastAPI

from smsgate.api import problems
from smsgate.devices.android import errors, hooks, routes


def install(api: FastAPI) -> None:
    from smsgate.api.thirdparty import routes as thirdparty

    problems.add_door(api, routes.PREFIX, errors.render)
    problems.add_door(api, thirdparty.PREFIX, errors.render)
    api.include_router(routes.router)
    api.include_router(hooks.router)
    api.include_router(thirdparty.router)
