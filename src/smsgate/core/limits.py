"""Request limits a door configures ("3 identical history requests a minute, 30 an hour"; "one
identical send a minute"): fixed windows counted in the database, so they hold across every node
sharing it. Pure values here; storage/limits.py counts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` requests with the same key in each window of `per`."""

    count: int
    per: timedelta

    def window(self, now: datetime) -> datetime:
        """The start of the fixed window `now` falls in."""
        size = self.per.total_seconds()
        index = (now - EPOCH).total_seconds() // size
        return EPOCH + timedelta(seconds=index * size)


def key(*parts: object) -> str:
    """A short, fixed-size key for a request's identity (its kind, account and parameters)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class Once:
    """A send that may not be repeated with the same key within `per` (SMSC's error 9): marked in
    the transaction that stores it, so a repeat on any node at the same moment is refused."""

    key: str
    per: timedelta = timedelta(minutes=1)

    def mark(self, now: datetime) -> tuple[str, datetime, datetime]:
        """(key, window start, expiry) as stored."""
        start = Limit(1, self.per).window(now)
        return self.key, start, start + self.per
