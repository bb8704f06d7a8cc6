"""How `smsgate serve` holds its connections: uvicorn on uvloop and httptools, with limits.

uvicorn closes idle keep-alive connections, but a client that sends a request's head slowly (one
byte every few seconds: "slow loris") keeps its connection, and a few hundred such clients use up
the server's file descriptors. `GuardedHttp` gives every request head a deadline: from the moment
a connection opens (or its previous response ends) the client has `head_timeout` seconds to finish
the request line and headers, or the connection is closed. Connections beyond `max_connections`
are answered 503 by uvicorn; the process's open-file limit is raised to its hard limit so that
thousands of phones (event streams, long-polls) fit.
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_TIMEOUT = 10.0  # seconds a client has to send a request's line and headers
KEEP_ALIVE = 30.0  # seconds an idle keep-alive connection is kept (phones poll every few seconds)
MAX_CONNECTIONS = 20_000  # beyond this, new requests are answered 503


class GuardedHttp(HttpToolsProtocol):
    """httptools with a deadline for each request's head (see the module's docstring)."""

    head_timeout: float = HEAD_TIMEOUT
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head()

    def on_headers_complete(self) -> None:
        self._disarm_head()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head()
        super().connection_lost(exc)

    def _arm_head(self) -> None:
        self._disarm_head()
        self._head_deadline = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _disarm_head(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.cycle is None or self.cycle.response_complete:  # no request of it is running
            self.transport.close()


def raise_open_files_limit() -> int:
    """Raises this process's soft limit of open files to the hard one; returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def options(
    *, head_timeout: float = HEAD_TIMEOUT, max_connections: int = MAX_CONNECTIONS
) -> dict[str, Any]:
    """uvicorn's settings for smsgate (merged into its Config by `smsgate serve` and the tests)."""
    GuardedHttp.head_timeout = head_timeout
    raise_open_files_limit()
    return {
        "loop": "uvloop",
        "http": GuardedHttp,
        "timeout_keep_alive": KEEP_ALIVE,
        "limit_concurrency": max_connections,
        "backlog": 4096,
        "h11_max_incomplete_event_size": 64 * 1024,
    }
