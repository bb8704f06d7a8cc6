"""Failed sign-ins are limited per client and in all, in a sliding window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smsgate.core import errors
from smsgate.core.attempts import Attempts

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_client_is_stopped_after_its_failures_until_the_window_passes() -> None:
    attempts = Attempts(per_client=3, overall=100, window=timedelta(seconds=60))
    for second in range(3):
        attempts.check("10.0.0.1", T0 + timedelta(seconds=second))
        attempts.failed("10.0.0.1", T0 + timedelta(seconds=second))
    with pytest.raises(errors.TooManyAttempts):
        attempts.check("10.0.0.1", T0 + timedelta(seconds=10))
    attempts.check("10.0.0.2", T0 + timedelta(seconds=10))  # another client is not held back
    attempts.check("10.0.0.1", T0 + timedelta(seconds=61))  # the first failure has left the window


def test_many_clients_together_are_stopped_by_the_overall_limit() -> None:
    attempts = Attempts(per_client=3, overall=5, window=timedelta(seconds=60))
    for n in range(5):
        attempts.failed(f"10.0.0.{n}", T0)
    with pytest.raises(errors.TooManyAttempts):
        attempts.check("10.9.9.9", T0 + timedelta(seconds=1))
