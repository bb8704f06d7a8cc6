"""Failed sign-in attempts in a sliding window, per client and in all.

A one-time sign-in code has six digits and lives 60 s: unthrottled, a fast server would let a
client try a good share of all codes in that minute. Past the limits, sign-ins by code and by
password are refused for the rest of the window (the per-client limit stops one address; the
overall one stops many addresses sharing the work).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from smsgate.core import errors


class Attempts:
    def __init__(
        self, *, per_client: int = 10, overall: int = 100, window: timedelta = timedelta(seconds=60)
    ) -> None:
        self._per_client = per_client
        self._overall = overall
        self._window = window
        self._failures: deque[tuple[datetime, str]] = deque()
        self._by_client: dict[str, int] = {}

    def check(self, client: str, now: datetime) -> None:
        """Raises errors.TooManyAttempts when this client, or everyone together, failed too often."""
        self._forget_before(now - self._window)
        if (
            self._by_client.get(client, 0) >= self._per_client
            or len(self._failures) >= self._overall
        ):
            raise errors.TooManyAttempts("too many failed sign-ins; wait a minute and try again")

    def failed(self, client: str, now: datetime) -> None:
        self._failures.append((now, client))
        self._by_client[client] = self._by_client.get(client, 0) + 1

    def _forget_before(self, start: datetime) -> None:
        while self._failures and self._failures[0][0] <= start:
            _, client = self._failures.popleft()
            left = self._by_client[client] - 1
            if left:
                self._by_client[client] = left
            else:
                del self._by_client[client]
