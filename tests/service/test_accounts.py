"""Accounts: password sign-in (plain, or its md5 where a door allows it) on both databases."""

from __future__ import annotations

import hashlib

import pytest

from smsgate import app as application
from smsgate.core import errors


async def test_a_door_may_allow_the_passwords_md5(gateway_app: application.App) -> None:
    accounts = gateway_app.gateway.accounts
    account = await accounts.create("md5@example.com", "Secret-password-1")
    md5 = hashlib.md5(b"Secret-password-1").hexdigest()
    assert (await accounts.login("md5@example.com", md5, md5_allowed=True)).id == account.id
    assert (await accounts.login("MD5@example.com ", "Secret-password-1")).id == account.id
    with pytest.raises(errors.Unauthorized):
        await accounts.login("md5@example.com", md5)  # not allowed by this door
    with pytest.raises(errors.Unauthorized):
        await accounts.login("md5@example.com", md5.upper(), md5_allowed=True)  # lower-case only
    await accounts.set_password(account, "Another-password-2")
    with pytest.raises(errors.Unauthorized):
        await accounts.login("md5@example.com", md5, md5_allowed=True)  # the old one is gone
    new_md5 = hashlib.md5(b"Another-password-2").hexdigest()
    assert (await accounts.login("md5@example.com", new_md5, md5_allowed=True)).id == account.id


async def test_failed_sign_ins_are_held_per_account(gateway_app: application.App) -> None:
    accounts = gateway_app.gateway.accounts
    await accounts.create("held@example.com", "Secret-password-1")
    for _ in range(10):
        with pytest.raises(errors.Unauthorized):
            await accounts.login("held@example.com", "wrong-password", client="10.0.0.1")
    with pytest.raises(errors.TooManyAttempts):  # from any address, with the right password
        await accounts.login("held@example.com", "Secret-password-1", client="10.0.0.2")
