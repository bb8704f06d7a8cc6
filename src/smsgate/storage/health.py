"""Whether the store can write: driver errors that mean "not now" become errors.Unavailable.

A full disk, a read-only file system, a database locked past its busy timeout, a PostgreSQL server
that is restarting or refusing connections: none is the client's fault nor a bug, and each passes
by itself. The store answers them as `errors.Unavailable` (503 with Retry-After at the doors),
remembers the cause for /healthz, logs each cause once per minute instead of a traceback per
request, and the next write that succeeds clears it.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass

log = logging.getLogger("smsgate.storage")

LOG_EVERY = 60.0  # seconds between two log lines about the same cause

_SQLITE_CAUSES = {
    "database or disk is full": "the disk is full",
    "readonly database": "the database is read-only",
    "database is locked": "the database is locked by another process",
    "disk i/o error": "the disk failed to read or write",
    "unable to open database file": "the database file cannot be opened",
}
# PostgreSQL SQLSTATE classes and codes that mean "not now"
_PG_CAUSES = {
    "53100": "the database server's disk is full",
    "53200": "the database server is out of memory",
    "53300": "the database server has too many connections",
    "25006": "the database is read-only",
    "57P01": "the database server is shutting down",
    "57P02": "the database server is shutting down",
    "57P03": "the database server is starting and cannot take connections yet",
    "40001": "the database could not serialise this transaction",
    "40P01": "the database found a deadlock",
}


def unwritable_cause(exc: BaseException) -> str | None:
    """The cause, if this error (or one it wraps) means the store cannot do it right now."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.OperationalError):
            text = str(current).lower()
            for marker, cause in _SQLITE_CAUSES.items():
                if marker in text:
                    return cause
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str):
            if state in _PG_CAUSES:
                return _PG_CAUSES[state]
            if state.startswith("08"):
                return "the connection to the database server failed"
        if isinstance(current, (ConnectionRefusedError, ConnectionResetError)):
            return "the database server is not reachable"
        if isinstance(current, OSError) and current.errno == 28:  # ENOSPC
            return "the disk is full"
        orig = getattr(current, "orig", None)
        current = (
            orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
        )
    return None


@dataclass
class Failure:
    cause: str
    at: float  # time.monotonic()


class Health:
    """The store's last write failure (None once a write succeeded after it)."""

    def __init__(self) -> None:
        self.failure: Failure | None = None
        self._logged: dict[str, float] = {}

    def failed(self, cause: str) -> None:
        now = time.monotonic()
        self.failure = Failure(cause, now)
        if now - self._logged.get(cause, -LOG_EVERY) >= LOG_EVERY:
            self._logged[cause] = now
            log.error("the store cannot write: %s (answering 503 until it can)", cause)

    def succeeded(self) -> None:
        if self.failure is not None:
            log.warning("the store writes again (after: %s)", self.failure.cause)
            self.failure = None
            self._logged.clear()
