"""Who is calling, read from the request as each vendor's clients send it. One place for every door.

- an API key: `Authorization: Bearer <key>`, an API-key header (`X-API-Key` unless the door names
  another), a token parameter (`token`, `apikey`...), or a Basic pair whose password (or, with an
  empty password, whose user) is the key (`curl -u KEY:SECRET`, key-id:secret);
- a login and password: Basic `user:password`, or parameters (`login` + `psw`); some vendors let
  the client send the lower-case hex md5 of the password instead (SMSC, node-smsc).

Reading never checks a secret: `account_by_key` and `account_by_password` ask the Gateway.
Malformed credentials raise errors.Unauthorized with the reason, in the door's own format.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from smsgate.core import accounts, errors
from smsgate.core.accounts import Account

MAX_SECRET: Final = 1024  # longer than any key, token or password smsgate gives out or accepts
_MD5: Final = re.compile(r"[0-9a-f]{32}")
_UNSTORABLE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Basic:
    """The two halves of `Authorization: Basic base64(user:password)`."""

    user: str
    password: str

    @property
    def key(self) -> str | None:
        """The API key of a key-id:secret pair: the password if it is a key, else a key as the
        user with an empty password (`curl -u KEY:`); None when neither half is an API key."""
        if self.password.startswith(accounts.KEY_PREFIX):
            return self.password
        if self.user.startswith(accounts.KEY_PREFIX) and not self.password:
            return self.user
        return None


@dataclass(frozen=True, slots=True)
class PasswordSignIn:
    """A login and a password, or the lower-case hex md5 of it where the vendor allows that."""

    login: str
    password: str
    md5_allowed: bool = False

    @property
    def may_be_md5(self) -> bool:
        return self.md5_allowed and _MD5.fullmatch(self.password) is not None


def md5_hex(password: str) -> str:
    """What node-smsc and django-fs-smsc send as `psw`."""
    return hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()


def authorization(headers: Mapping[str, str]) -> tuple[str, str]:
    """The scheme (lower case) and value of the Authorization header, ("", "") without one."""
    scheme, _, value = headers.get("authorization", "").strip().partition(" ")
    return scheme.lower(), value.strip()


def _secret(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_SECRET or _UNSTORABLE.search(value):
        raise errors.Unauthorized(f"the {what} is not one smsgate gives out")
    return value


def bearer(headers: Mapping[str, str]) -> str | None:
    scheme, value = authorization(headers)
    return _secret(value, "bearer token") if scheme == "bearer" else None


def basic(headers: Mapping[str, str]) -> Basic | None:
    """The Basic pair, None without Basic auth; Unauthorized when it is not base64 of user:password."""
    scheme, value = authorization(headers)
    if scheme != "basic" or not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise errors.Unauthorized(
            "the Basic credentials are not base64 of login:password"
        ) from None
    try:
        decoded = raw.decode()
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")  # RFC 7617 leaves the charset open; old clients use this
    user, sep, password = decoded.partition(":")
    if not sep:
        raise errors.Unauthorized("the Basic credentials are not login:password")
    if len(decoded) > 2 * MAX_SECRET or _UNSTORABLE.search(decoded):
        raise errors.Unauthorized("the Basic credentials hold characters no login or password has")
    return Basic(user, password)


def api_key_header(headers: Mapping[str, str], name: str = "x-api-key") -> str | None:
    return _secret(headers.get(name), "API key")


def token(params: Mapping[str, Any], *names: str) -> str | None:
    """The first of these parameters that is given (a token, an apikey...)."""
    for name in names:
        value = params.get(name)
        if isinstance(value, str) and value.strip():
            return _secret(value, name)
    return None


def api_key(
    headers: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
    *,
    names: tuple[str, ...] = (),
    header: str = "x-api-key",
    basic_pair: bool = False,
) -> str | None:
    """An API key from Bearer, the key header, then the token parameters `names` (and a Basic
    key-id:secret pair when `basic_pair`): the first that is given."""
    found = bearer(headers) or api_key_header(headers, header)
    if found is None and params is not None and names:
        found = token(params, *names)
    if found is None and basic_pair:
        pair = basic(headers)
        found = pair.key if pair is not None else None
    return found


def password_sign_in(
    params: Mapping[str, Any],
    *,
    login: str = "login",
    password: str = "psw",
    md5_allowed: bool = False,
) -> PasswordSignIn | None:
    """login + password parameters; None when no login is given."""
    name = token(params, login)
    if name is None:
        return None
    secret = params.get(password)
    if not isinstance(secret, str) or not secret:
        raise errors.Unauthorized(f"{password} is missing")
    if len(secret) > MAX_SECRET or _UNSTORABLE.search(secret):
        raise errors.Unauthorized(f"{password} is not a password smsgate accepts")
    return PasswordSignIn(name, secret, md5_allowed)


def basic_sign_in(headers: Mapping[str, str]) -> PasswordSignIn | None:
    pair = basic(headers)
    return PasswordSignIn(pair.user, pair.password) if pair is not None else None


async def account_by_key(gateway: Any, secret: str | None, *, what: str = "API key") -> Account:
    """The account an API key belongs to; Unauthorized names what was missing or wrong."""
    if secret is None:
        raise errors.Unauthorized(f"the {what} is missing")
    try:
        account: Account = await gateway.authenticate(secret)
    except errors.Unauthorized:
        raise errors.Unauthorized(f"the {what} is wrong or revoked") from None
    return account


async def account_by_password(gateway: Any, sign_in: PasswordSignIn) -> Account:
    """Signs in with a login and password. (The md5 form, `sign_in.may_be_md5`, needs a Gateway
    operation that can check it: smsgate stores only an argon2 hash of the password.)"""
    account: Account = await gateway.login(sign_in.login, sign_in.password)
    return account
