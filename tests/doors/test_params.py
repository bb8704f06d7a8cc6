"""PHP-style parameters: query and body merged, every body shape, repeated keys, charsets."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from smsgate.core import errors
from smsgate.doors import params


def request(
    method: str = "POST", query: bytes = b"", body: bytes = b"", content_type: str | None = None
) -> Request:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": method,
        "path": "/",
        "query_string": query,
        "headers": headers,
    }
    return Request(scope, receive)


async def test_query_then_body_over_it() -> None:
    found = await params.read(
        request(query=b"token=q&device=1", body=b"device=2&msg=hi", content_type=params.FORM)
    )
    assert dict(found) == {"token": "q", "device": "2", "msg": "hi"}


async def test_get_reads_no_body() -> None:
    found = await params.read(request("GET", b"a=1", b"a=2", params.FORM))
    assert found["a"] == "1"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/octet-stream"])
async def test_json_whatever_the_content_type_says(content_type: str | None) -> None:
    body = orjson.dumps({"token": "t", "n": 2.0, "ok": True, "data": [{"x": 1}], "ids": [1, 2]})
    found = await params.read(request(body=body, content_type=content_type))
    assert found["token"] == "t"
    assert found["n"] == "2"
    assert found["ok"] == "1"
    assert found.every("ids") == ("1", "2")
    assert "data" not in found
    assert found.json["data"] == [{"x": 1}]


async def test_urlencoded_without_content_type() -> None:
    found = await params.read(request(body=b"phone=+7920&msg=a%20b"))
    assert found["phone"] == " 7920"  # a raw + is a space: the core reads it back as +
    assert found["msg"] == "a b"


async def test_multipart() -> None:
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="token"\r\n\r\nabc\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="msg"\r\n\r\nпривет\r\n'  # noqa: RUF001
        f"--{boundary}--\r\n"
    ).encode()
    found = await params.read(
        request(body=body, content_type=f"multipart/form-data; boundary={boundary}")
    )
    assert dict(found) == {"token": "abc", "msg": "привет"}


async def test_repeated_keys_last_wins_and_every_value_kept() -> None:
    found = await params.read(request("GET", b"a[]=1&a[]=2&b=1&b=3"))
    assert found["a"] == "2"
    assert found.every("a") == ("1", "2")
    assert found["b"] == "3"
    assert found.every("missing") == ()


@pytest.mark.parametrize(
    ("charset", "encoded"),
    [
        ("windows-1251", "привет".encode("cp1251")),
        ("koi8-r", "привет".encode("koi8_r")),
        ("utf-8", "привет".encode()),
    ],
)
async def test_charsets_decode_escapes_and_raw_bytes(charset: str, encoded: bytes) -> None:
    escaped = "".join(f"%{b:02X}" for b in encoded).encode()
    by_param = await params.read(
        request(body=b"charset=" + charset.encode() + b"&mes=" + escaped, content_type=params.FORM),
        charset="windows-1251",
        charset_param="charset",
    )
    assert by_param["mes"] == "привет"
    raw = await params.read(
        request(body=b"mes=" + encoded, content_type=params.FORM), charset=charset
    )
    assert raw["mes"] == "привет"


async def test_an_unknown_charset_is_a_bad_parameter() -> None:
    with pytest.raises(errors.BadParameter, match="charset"):
        await params.read(request("GET", b"charset=ebcdic"), charset_param="charset")


async def test_malformed_bodies() -> None:
    with pytest.raises(errors.MalformedBody, match="not JSON"):
        await params.read(request(body=b"{broken", content_type="application/json"))
    with pytest.raises(errors.MalformedBody, match="object"):
        await params.read(request(body=b"[1,2]", content_type="application/json"))
    with pytest.raises(errors.MalformedBody):
        await params.read(request(body=b"[" * 100_000 + b"]" * 100_000))
    with pytest.raises(errors.MalformedBody):
        await params.read(request(body=b"garbage", content_type="multipart/form-data; boundary=x"))


@settings(max_examples=200)
@given(
    st.binary(max_size=300), st.sampled_from([None, params.FORM, "application/json", "text/plain"])
)
async def test_any_bytes_give_parameters_or_a_core_error(
    body: bytes, content_type: str | None
) -> None:
    try:
        found = await params.read(request(query=body[:50], body=body, content_type=content_type))
    except errors.InvalidInput:
        return
    for key in found:
        assert isinstance(found[key], str)
