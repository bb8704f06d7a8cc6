"""Request limits hold across nodes sharing one database; a repeated send is refused and writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from smsgate import app as application
from smsgate.config import Settings
from smsgate.core import errors
from smsgate.core.limits import Limit, Once
from smsgate.core.requests import SendRequest
from tests import conftest

HISTORY = (Limit(3, timedelta(minutes=1)), Limit(30, timedelta(hours=1)))


async def test_limits_count_across_two_nodes(settings_for: Callable[..., Settings]) -> None:
    clock = conftest.TestClock()
    nodes = [application.build(settings_for(), clock=clock) for _ in range(2)]
    await nodes[0].start(background=False)
    await nodes[1].start(background=False, welcome=False)
    try:
        account = (await nodes[0].gateway.accounts.list_all())[0]

        async def ask(i: int) -> bool:
            try:
                await nodes[i % 2].gateway.limits.check(
                    "history", ["same"], HISTORY, account=account
                )
            except errors.TooManyRequests:
                return False
            return True

        assert sum(await asyncio.gather(*(ask(i) for i in range(6)))) == 3
        await nodes[0].gateway.limits.check("history", ["other"], HISTORY, account=account)
        clock.shift(timedelta(minutes=1))
        for i in range(3):
            assert await ask(i)
        with pytest.raises(errors.TooManyRequests) as caught:
            await nodes[1].gateway.limits.check("history", ["same"], HISTORY, account=account)
        assert "a minute" in caught.value.detail
    finally:
        await nodes[1].stop()
        await nodes[0].stop()


async def test_a_repeated_send_is_refused_within_its_window(gateway_app: application.App) -> None:
    gateway = gateway_app.gateway
    account = (await gateway.accounts.list_all())[0]
    request = SendRequest(to=("+79261234567",), text="hi", once=Once("k1"))
    results = await asyncio.gather(
        *(gateway.messages.send(request, account=account) for _ in range(3)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, errors.TooManyRequests) for r in results if isinstance(r, Exception))
    assert sum((await gateway_app.store.count()).values()) == 1
    gateway_app.clock.shift(timedelta(minutes=1))  # type: ignore[attr-defined]
    await gateway.messages.send(request, account=account)
    await gateway.dispatch.sweep()
