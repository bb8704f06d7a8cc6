"""Accounts, passwords and API keys: who is calling."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import sys
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from smsgate.core import accounts, errors
from smsgate.core.accounts import Account, ApiKey
from smsgate.core.attempts import Attempts
from smsgate.service.context import Context

MIN_PASSWORD = 8
MD5 = re.compile(r"[0-9a-f]{32}")
FAILED_PER_ACCOUNT = 10  # wrong passwords for one account per minute, from anywhere
FAILED_PER_CLIENT = 30  # wrong passwords from one client address per minute, for any accounts


class Accounts:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._hasher = PasswordHasher()
        self._keys: dict[str, tuple[Account, float]] = {}  # key hash -> account, until
        # vendor APIs sign in with a login and password on every request (SMSC): a success is
        # remembered for the key cache's TTL, so argon2 runs once, not per request
        self._signed_in: dict[str, tuple[Account, float]] = {}
        # password sign-ins are throttled per account and per client address (on this node); an
        # unknown email costs the same hashing as a wrong password, so it cannot be told apart
        self._per_account = Attempts(per_client=FAILED_PER_ACCOUNT, overall=sys.maxsize)
        self._per_client = Attempts(per_client=FAILED_PER_CLIENT, overall=sys.maxsize)
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    async def create(self, email: str, password: str, *, is_admin: bool = False) -> Account:
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            raise errors.InvalidInput(f"{email!r} is not an email address")
        _check_password(password)
        password_hash, md5_hash = await self._hashes(password)
        return await self._ctx.directory.add_account(
            email=email,
            password_hash=password_hash,
            password_md5_hash=md5_hash,
            is_admin=is_admin,
            now=self._ctx.clock.now(),
        )

    async def _hashes(self, password: str) -> tuple[str, str]:
        """argon2 of the password, and of its lower-case hex md5 (vendors that sign in with it)."""
        md5 = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
        return (
            await asyncio.to_thread(self._hasher.hash, password),
            await asyncio.to_thread(self._hasher.hash, md5),
        )

    async def get(self, account_id: int) -> Account:
        return await self._ctx.directory.get_account(account_id)

    async def list_all(self) -> list[Account]:
        return await self._ctx.directory.list_accounts()

    async def count(self) -> int:
        return await self._ctx.directory.count_accounts()

    async def login(
        self, email: str, password: str, *, client: str = "", md5_allowed: bool = False
    ) -> Account:
        """The account of this email and password; raises Unauthorized, or TooManyAttempts after
        too many failures for the account or from the client (`client`: the caller's address).
        With `md5_allowed`, the password may also be the lower-case hex md5 of the real one."""
        email = email.strip().lower()
        remembered = accounts.secret_hash(f"{email}\x00{password}\x00{md5_allowed}")
        cached = self._signed_in.get(remembered)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        now = self._ctx.clock.now()
        self._per_account.check(email, now)
        self._per_client.check(client, now)
        found = await self._ctx.directory.find_account_by_email(email)
        account, password_hash, md5_hash = found or (None, self._decoy, self._decoy)
        if not await self._verifies(password_hash, password):
            as_md5 = md5_allowed and MD5.fullmatch(password) is not None
            if not (as_md5 and await self._verifies(md5_hash or self._decoy, password)):
                account = None
        if account is None:
            self._per_account.failed(email, now)
            self._per_client.failed(client, now)
            raise errors.Unauthorized("wrong email or password")
        if len(self._signed_in) > 10_000:
            self._signed_in.clear()
        self._signed_in[remembered] = (account, time.monotonic() + self._ctx.policy.key_cache_ttl)
        return account

    async def _verifies(self, stored_hash: str, given: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, stored_hash, given)
        except (VerifyMismatchError, InvalidHashError):
            return False

    async def set_password(self, account: Account, password: str) -> None:
        _check_password(password)
        password_hash, md5_hash = await self._hashes(password)
        await self._ctx.directory.set_password(account.id, password_hash, md5_hash)
        self._signed_in.clear()

    async def change_password(
        self, account: Account, current: str, new: str, *, client: str = ""
    ) -> None:
        await self.login(account.email, current, client=client)
        await self.set_password(account, new)

    async def create_key(self, account: Account, name: str = "default") -> tuple[ApiKey, str]:
        secret = accounts.new_secret(accounts.KEY_PREFIX)
        key = await self._ctx.directory.add_key(
            account_id=account.id,
            name=name.strip() or "default",
            prefix=accounts.shown_prefix(secret),
            key_hash=accounts.secret_hash(secret),
            now=self._ctx.clock.now(),
        )
        return key, secret

    async def import_key(self, account: Account, secret: str, name: str = "imported") -> ApiKey:
        """Keeps a token the account's clients already hold (another service's, moving here) as
        an API key of it; Conflict if that secret is a key already."""
        secret = secret.strip()
        if not 16 <= len(secret) <= 200 or not re.fullmatch(r"[\x21-\x7e]+", secret):
            raise errors.BadParameter("an imported key has 16 to 200 printable characters")
        return await self._ctx.directory.add_key(
            account_id=account.id,
            name=name.strip() or "imported",
            prefix=accounts.shown_prefix(secret),
            key_hash=accounts.secret_hash(secret),
            now=self._ctx.clock.now(),
        )

    async def login_key(
        self, email: str, password: str, *, name: str, client: str = ""
    ) -> tuple[Account, str]:
        """Signs in and answers an API key named `name` that stays the same for this password
        (derived from the stored password hash), so a client that asks for a token on every start
        gets one key, not one per start; a new password gives a new one. If that key was revoked,
        a fresh random key is made."""
        account = await self.login(email, password, client=client)
        found = await self._ctx.directory.find_account_by_email(account.email)
        assert found is not None
        material = f"{name}:{account.id}".encode()
        digest = hmac.new(found[1].encode(), material, hashlib.sha256).digest()
        secret = accounts.KEY_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")
        if await self._ctx.directory.find_account_by_key(accounts.secret_hash(secret)) is None:
            try:
                await self._ctx.directory.add_key(
                    account_id=account.id,
                    name=name,
                    prefix=accounts.shown_prefix(secret),
                    key_hash=accounts.secret_hash(secret),
                    now=self._ctx.clock.now(),
                )
            except errors.Conflict:  # revoked (or made by a node at this very moment)
                if await self._ctx.directory.find_account_by_key(accounts.secret_hash(secret)):
                    return account, secret
                _, secret = await self.create_key(account, name)
        return account, secret

    async def list_keys(self, account: Account) -> list[ApiKey]:
        return await self._ctx.directory.list_keys(account.id)

    async def revoke_key(self, account: Account, key_id: int) -> ApiKey:
        key = await self._ctx.directory.revoke_key(account.id, key_id, now=self._ctx.clock.now())
        self._keys.clear()
        return key

    async def authenticate(self, secret: str | None) -> Account:
        """The account an API key belongs to; raises Unauthorized."""
        if not secret:
            raise errors.Unauthorized("an API key is required")
        key_hash = accounts.secret_hash(secret.strip())
        cached = self._keys.get(key_hash)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        account = await self._ctx.directory.find_account_by_key(key_hash)
        if account is None:
            raise errors.Unauthorized("the API key is wrong or revoked")
        self._keys[key_hash] = (account, time.monotonic() + self._ctx.policy.key_cache_ttl)
        return account


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise errors.InvalidInput(f"the password needs at least {MIN_PASSWORD} characters")
