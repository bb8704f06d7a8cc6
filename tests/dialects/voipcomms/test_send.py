"""VoIP-Communications over real HTTP with the vendor's own examples: `curl -u KEY:PASSWORD --data
...` (and -F, as its apps send multipart), the PHP example where PHP is installed; two recipients,
a 400-character message in 3 parts, a scheduled message listed then deleted, bad credentials, an
invalid number among valid ones, a two-way `from`, and every bad input answered in the vendor's
error shape with nothing written."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.helpers import stored_count
from tests.conftest import Server

SEND = "/api-v2/index.php/sms/send"
LIST = "/api-v2/index.php/sms/scheduled"
DELETE = "/api-v2/index.php/sms/scheduled/delete"
TWO_WAY = "+17134567890"


async def curl(*args: str) -> tuple[int, Any]:
    """Runs curl as the vendor's page does; answers the HTTP status and the decoded body."""
    process = await asyncio.create_subprocess_exec(
        "curl", "-s", "-w", "\n%{http_code}", *args, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    body, _, status = out.decode().rpartition("\n")
    return int(status), json.loads(body) if body else None


def creds(server: Server) -> str:
    key = server.key
    return f"{key[:10]}:{key}"  # YOUR_API_KEY = the key's id (as `smsgate keys list` shows it)


def assert_error(status: int, body: Any, expected: int, *says: str) -> None:
    assert status == expected, body
    assert body["error"] is True and isinstance(body["error_message"], str), body
    for text in says:
        assert text.lower() in body["error_message"].lower(), body


async def test_the_vendors_curl_examples(server: Server) -> None:
    await server.app.gateway.billing.load_prices(
        "country,prefix,operator,price\nUS,,,0.01\nRU,,,0.02\n", by=None
    )
    url = server.url + SEND
    status, body = await curl(
        "-u", creds(server), "--data", "to=12812345678,+79201234567&msg=It is a SMS message", url
    )
    assert status == 200, body
    first, second = body["send_log"]
    assert first == {
        "code": 200,
        "code_desc": "",
        "from": "",
        "to": "12812345678",
        "country": "US",
        "msg": "It is a SMS message",
        "delivery_date": first["delivery_date"],
        "sale": 0.01,
        "type": "BULKSMS",
        "status": "QUEUED",
        "smsid": first["smsid"],
        "parts": 1,
    }
    assert second["to"] == "79201234567" and second["country"] == "RU" and second["sale"] == 0.02
    assert first["smsid"].isdigit() and first["smsid"] != second["smsid"]
    async with server.client() as native:
        shown = (await native.get(f"/api/v1/messages/{first['smsid']}")).json()
        assert shown["to"] == "+12812345678"

    long_text = ("0123456789" * 40)[:400]
    status, body = await curl("-u", creds(server), "--data", f"to=12812345678&msg={long_text}", url)
    assert status == 200, body
    [entry] = body["send_log"]
    assert entry["parts"] == 3 and entry["sale"] == 0.03 and entry["msg"] == long_text

    # multipart, as the vendor's own apps send FormData; the key as the user, no password
    status, body = await curl(
        "-u", f"{server.key}:", "-F", "to=12812345678", "-F", "msg=multipart", url
    )
    assert status == 200 and body["send_log"][0]["msg"] == "multipart", body


async def test_a_scheduled_message_is_listed_then_deleted(server: Server) -> None:
    later = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    when = later.strftime("%Y-%m-%d %H:%M")
    status, body = await curl(
        "-u",
        creds(server),
        "--data",
        f"to=12812345678&msg=later&delivery_date={when}",
        server.url + SEND,
    )
    assert status == 200, body
    [entry] = body["send_log"]
    assert entry["status"] == "SCHEDULED" and entry["delivery_date"] == f"{when}:00"
    smsid = entry["smsid"]

    status, listed = await curl("-u", creds(server), server.url + LIST)
    assert status == 200 and [e["smsid"] for e in listed["scheduled"]] == [smsid], listed

    status, deleted = await curl(
        "-u", creds(server), "--data", f"smsid={smsid}", server.url + DELETE
    )
    assert status == 200, deleted
    assert [e["smsid"] for e in deleted["deleted"]] == [smsid]
    assert deleted["deleted"][0]["status"] == "CANCELLED"
    status, listed = await curl("-u", creds(server), server.url + LIST)
    assert listed == {"scheduled": []}

    status, again = await curl(
        "-u", creds(server), "-X", "DELETE", "--data", f"smsid={smsid}", server.url + DELETE
    )
    assert_error(status, again, 404, smsid, "not a scheduled message")


async def test_bad_credentials_and_bad_input_write_nothing(server: Server) -> None:
    url = server.url + SEND
    before = await stored_count(server.app)
    for auth in (
        ["-u", f"{server.key[:10]}:sg_not_a_key_at_all"],
        ["-u", "sg_wrongid0:" + server.key],  # the id is not the start of the key
        ["-u", "someone:password123"],
        [],
    ):
        status, body = await curl(*auth, "--data", "to=12812345678&msg=x", url)
        assert_error(status, body, 401, "invalid api credentials")

    bad = {
        "to=12812345678,123,+79201234567&msg=hello": ("123",),  # one invalid among valid ones
        "to=12812345678": ("msg",),
        "msg=hello": ("to",),
        "to=,,&msg=hello": ("to",),
        "to=12812345678&msg=%20%20": ("msg",),
        "to=12812345678&msg=x&delivery_date=tomorrow-ish": ("delivery_date",),
        "to=12812345678&msg=x&delivery_date=2010-01-01 13:15": ("past",),
        "to=12812345678&msg=x&delivery_date=2026-02-30 10:00": ("delivery_date",),
        f"to=12812345678&msg=x&from={TWO_WAY[1:]}": ("not a number of this account",),
        "to=12812345678&msg=x&from=abc": ("from",),
        "to=12812345678&msg=" + "x" * 40_000: ("parts",),
    }
    for data, says in bad.items():
        status, body = await curl("-u", creds(server), "--data", data, url)
        assert_error(status, body, 400, *says)
    status, body = await curl("-u", creds(server), "--data", "to=1&msg=%00", url)
    assert_error(status, body, 400)
    status, body = await curl("-u", creds(server), "--data", "smsid=abc", server.url + DELETE)
    assert_error(status, body, 400, "smsid")
    status, body = await curl("-u", creds(server), "--data", "x=1", server.url + DELETE)
    assert_error(status, body, 400, "smsid")
    status, body = await curl("-u", creds(server), server.url + "/api-v2/index.php/sms/nothing")
    assert_error(status, body, 404)
    status, body = await curl("-u", creds(server), url)  # GET
    assert_error(status, body, 405)
    assert await stored_count(server.app) == before


async def test_two_way_from_leaves_through_its_sim(server: Server) -> None:
    async with server.client() as native:
        device = server.welcome.device_id
        changed = await native.patch(
            f"/api/v1/devices/{device}", json={"sim_numbers": {"2": TWO_WAY}}
        )
        assert changed.status_code == 200, changed.text
    status, body = await curl(
        "-u",
        creds(server),
        "--data",
        f"from={TWO_WAY[1:]}&to=12812345678&msg=two-way",
        server.url + SEND,
    )
    assert status == 200, body
    [entry] = body["send_log"]
    assert entry["type"] == "2WAYSMS" and entry["from"] == TWO_WAY[1:]
    async with server.client() as native:
        shown = (await native.get(f"/api/v1/messages/{entry['smsid']}")).json()
    assert shown["from"] == TWO_WAY and shown["sim"] == 2 and shown["devices"] == [device]


PHP = """<?php
$service_url = "%(url)s";
$curl = curl_init($service_url);
curl_setopt($curl, CURLOPT_USERPWD, "%(creds)s");
curl_setopt($curl, CURLOPT_RETURNTRANSFER, true);
$post_fields = array("from" => "%(from)s",
"to" => "%(to)s",
"msg" => "%(msg)s",
"delivery_date" => "%(when)s");
curl_setopt($curl, CURLOPT_POST, true);
curl_setopt($curl, CURLOPT_POSTFIELDS, http_build_query($post_fields));
$curl_response = curl_exec($curl);
if ($curl_response !== false) {
$http_code = curl_getinfo($curl,CURLINFO_HTTP_CODE);
if ($http_code == "200") {
$result = json_decode($curl_response,true);
print_r($result);
}
}
curl_close($curl);
"""


@pytest.mark.skipif(shutil.which("php") is None, reason="PHP is not installed here")
async def test_the_vendors_php_example(server: Server, tmp_path: Path) -> None:
    async with server.client() as native:
        await native.patch(
            f"/api/v1/devices/{server.welcome.device_id}", json={"sim_numbers": {"1": TWO_WAY}}
        )
    when = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    script = tmp_path / "send.php"
    script.write_text(
        PHP
        % {
            "url": server.url + SEND,
            "creds": creds(server),
            "from": TWO_WAY[1:],
            "to": "12812345678,79201234567",
            "msg": "Hello from PHP & friends",
            "when": when,
        }
    )
    process = await asyncio.create_subprocess_exec(
        "php", str(script), stdout=asyncio.subprocess.PIPE
    )
    out = (await process.communicate())[0].decode()
    assert "[send_log] => Array" in out, out
    assert out.count("[status] => SCHEDULED") == 2 and out.count("[type] => 2WAYSMS") == 2, out
    assert "[msg] => Hello from PHP & friends" in out
