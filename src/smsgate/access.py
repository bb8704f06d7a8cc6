"""The access log: one short line per HTTP request, with no secret in it.

`12:04:31 POST /api/v1/messages 201 3.2ms` - the method, the path without its query string (the
vendor APIs carry tokens and passwords there), the status and the time to the last byte. Paths
that hold a secret themselves (a phone's webhook URL) show `…` in its place. On by default;
SMSGATE_ACCESS_LOG=0 turns it off (the middleware is then not installed at all).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("smsgate.access")

SECRET_PATHS = ("/api/mobile/v1/hooks/",)  # the rest of such a path is a per-device secret


def shown_path(path: str) -> str:
    for prefix in SECRET_PATHS:
        if path.startswith(prefix) and len(path) > len(prefix):
            return prefix + "…"
    return path


class AccessLog:
    """Pure ASGI (no per-request objects beyond a closure): cheap on the hot send path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            took = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1fms", scope["method"], shown_path(scope["path"]), status, took)


def logging_config(level: str, *, access: bool) -> dict[str, Any]:
    """uvicorn's logging, plus smsgate's own loggers: the access log to stdout, short lines."""
    level = level.upper()
    number = logging.getLevelName(level)
    access = access and (not isinstance(number, int) or number <= logging.INFO)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {"format": "%(asctime)s %(levelname)s %(message)s", "datefmt": "%H:%M:%S"},
            "access": {"format": "%(asctime)s %(message)s", "datefmt": "%H:%M:%S"},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "smsgate": {"handlers": ["default"], "level": level, "propagate": False},
            "smsgate.access": {
                "handlers": ["access"],
                "level": "INFO" if access else "WARNING",
                "propagate": False,
            },
        },
    }
