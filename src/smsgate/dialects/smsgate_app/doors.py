"""Mounts the SMSGate app's two doors: the mobile API (phones) and the client API (its SDKs)."""

from __future__ import annotations

from fastapi import FastAPI

from smsgate.api import problems
from smsgate.dialects.smsgate_app import client, errors, hooks, mobile
from smsgate.dialects.smsgate_app.service import AppService


def install(api: FastAPI, service: AppService) -> None:
    api.state.smsgate_app = service
    problems.add_door(api, mobile.PREFIX, errors.render)
    problems.add_door(api, client.PREFIX, errors.render)
    api.include_router(mobile.router)
    api.include_router(hooks.router)
    api.include_router(client.router)
