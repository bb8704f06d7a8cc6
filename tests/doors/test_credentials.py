"""Credentials, read the one way every door reads them."""

from __future__ import annotations

import base64

import pytest

from smsgate.core import errors
from smsgate.doors import credentials


def basic(pair: bytes) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(pair).decode()}


def test_bearer_and_key_header_and_token_parameter() -> None:
    assert credentials.bearer({"authorization": "Bearer  sg_abc "}) == "sg_abc"
    assert credentials.bearer({"authorization": "bearer sg_abc"}) == "sg_abc"
    assert credentials.bearer({"authorization": "Basic xyz"}) is None
    assert credentials.api_key({"x-api-key": "sg_k"}) == "sg_k"
    assert credentials.api_key({"apikey": "sg_k"}, header="apikey") == "sg_k"
    assert credentials.api_key({}, {"token": "sg_t"}, names=("token",)) == "sg_t"
    assert (
        credentials.api_key({"authorization": "Bearer sg_b"}, {"token": "sg_t"}, names=("token",))
        == "sg_b"
    )
    assert credentials.api_key({}, {"token": " "}, names=("token",)) is None


def test_basic_pairs() -> None:
    assert credentials.basic(basic(b"me@x.org:pa:ss")) == credentials.Basic("me@x.org", "pa:ss")
    assert credentials.basic(basic("я:пароль".encode())) == credentials.Basic("я", "пароль")
    assert credentials.basic(basic("me:mot de passé".encode("latin-1"))).password == "mot de passé"  # type: ignore[union-attr]
    assert credentials.basic({}) is None
    for bad in ({"authorization": "Basic !!!"}, basic(b"no-colon"), basic(b"a\x00:b")):
        with pytest.raises(errors.Unauthorized):
            credentials.basic(bad)


def test_key_id_and_secret() -> None:
    assert credentials.Basic("12", "sg_secret").key == "sg_secret"
    assert credentials.Basic("sg_secret", "").key == "sg_secret"
    assert credentials.Basic("me@x.org", "password").key is None
    headers = basic(b"key-id:sg_secret")
    assert credentials.api_key(headers, basic_pair=True) == "sg_secret"
    assert credentials.api_key(headers) is None


def test_login_and_password_plain_or_md5() -> None:
    plain = credentials.password_sign_in({"login": "me", "psw": "secret"}, md5_allowed=True)
    assert plain == credentials.PasswordSignIn("me", "secret", True)
    assert not plain.may_be_md5
    hashed = credentials.password_sign_in(
        {"login": "me", "psw": credentials.md5_hex("secret")}, md5_allowed=True
    )
    assert hashed is not None and hashed.may_be_md5
    assert credentials.md5_hex("secret") == "5ebe2294ecd0e0f08eab7690d2a6ee69"
    assert credentials.password_sign_in({"psw": "x"}) is None
    with pytest.raises(errors.Unauthorized, match="psw is missing"):
        credentials.password_sign_in({"login": "me"})
    sign_in = credentials.basic_sign_in(basic(b"me:pw"))
    assert sign_in == credentials.PasswordSignIn("me", "pw")


@pytest.mark.parametrize("secret", ["a\x00b", "x" * 2000, "\ud800"])
def test_secrets_no_one_was_given_are_refused_early(secret: str) -> None:
    with pytest.raises(errors.Unauthorized):
        credentials.api_key({}, {"token": secret}, names=("token",))
