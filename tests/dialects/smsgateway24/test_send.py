"""gettoken, addsms, smstosend, addalotofsms: the documents' examples and every refusal."""

from __future__ import annotations

import json

import pytest

from smsgate.core.messages import MessageFilter, Priority, State
from tests.dialects.smsgateway24.conftest import Tenant, ok, refused, stored

pytestmark = pytest.mark.asyncio(loop_scope="package")

# the example of both documents, verbatim
DATAJSON = (
    '{"token":"df427bfcf113c9a21c67718035076b5b","smsdata":[{"sendto":"015752982212","body":"Test'
    ' message","sim":1,"timetosend":"2019-07-01 23:50:00","device_id":260},{"sendto":"+4915752982212",'
    '"body":"Test message 2","sim":1,"timetosend":"2019-07-01 23:50:00","device_id":260,"urgent":1}]}'
)
USER_FRIENDLY = """{
   "token":"df427bfcf113c9a21c6771803501",
   "smsdata":[
        {
            "sendto":"015752982212",
            "body":"Your password is 12345",
            "sim":1,
            "timetosend":"2019-07-01 23:50:00",
            "device_id":260,
            "customerid":122,
            "urgent":1
        },
        {
            "sendto":"015752982212",
            "body":"Regular SMS. Not urgnet",
            "sim":1,
            "timetosend":"2019-07-01 23:50:00",
            "device_id":260,
            "customerid":122,
            "urgent":0
        }
    ]
}"""


async def test_gettoken_gives_one_stable_token_and_refuses_a_wrong_password(tenant: Tenant) -> None:
    async with tenant.http() as http:
        first = ok(
            await http.post(
                "/getdata/gettoken", data={"email": tenant.email, "pass": tenant.password}
            )
        )
        again = ok(
            await http.get(
                "/getdata/gettoken", params={"email": tenant.email, "pass": tenant.password}
            )
        )
        assert first["token"] == again["token"] and first["message"] == "OK"
        body = refused(
            await http.post("/getdata/gettoken", data={"email": tenant.email, "pass": "nope"})
        )
        assert body == {"error": 1, "message": "Login or password incorrect"}
        refused(await http.get("/getdata/gettoken", params={"email": tenant.email}), "required")
        # the token works for the other methods
        ok(await http.get("/getdata/getalldevices", params={"token": first["token"]}))


async def test_addsms_get_post_multipart_several_numbers_and_options(tenant: Tenant) -> None:
    device = tenant.simulated.id
    async with tenant.http() as http:
        # GET with %2B for the plus, as the documents say
        answer = await http.get(
            f"/getdata/addsms?token={tenant.key}&sendto=%2B4915752982212&body=Hello&device_id={device}"
        )
        body = ok(answer)
        assert body["message"] == "Sms has been saved successfully" and isinstance(
            body["sms_id"], int
        )
        # a raw + (unencoded) arrives as a space and is still the number's +
        ok(
            await http.get(
                f"/getdata/addsms?token={tenant.key}&sendto=+4915752982213&body=Hi&device_id={device}"
            )
        )
        # POST urlencoded, several numbers, all the options (the PHP SDK's customerId camelCase)
        several = ok(
            await http.post(
                "/getdata/addsms",
                data={
                    "token": tenant.key,
                    "sendto": "+4915752982212, +4917642111111, +7 (920) 123-45-67",
                    "body": "Order 7 is ready",
                    "device_id": str(device),
                    "timetosend": "2099-10-25 00:00:00",
                    "sim": "0",
                    "customerId": "122",
                    "urgent": "1",
                },
            )
        )
        assert len(several["sms_ids"]) == 3 and several["sms_id"] == several["sms_ids"][0]
        # multipart, as the npm client sends it
        ok(
            await http.post(
                "/getdata/addsms",
                files={
                    k: (None, v)
                    for k, v in {
                        "token": tenant.key,
                        "sendto": "+4915752982214",
                        "body": "npm",
                        "device_id": str(device),
                        "urgent": "1",
                    }.items()
                },
            )
        )
    message = await tenant.gateway.messages.get(several["sms_id"], account=tenant.account)
    assert message.state is State.SCHEDULED and message.send_at.year == 2099
    assert (message.reference, message.priority, message.sim_slot) == ("122", Priority.URGENT, 1)
    assert message.devices == (device,)
    first = await tenant.gateway.messages.get(body["sms_id"], account=tenant.account)
    assert first.to == "+4915752982212"


async def test_smstosend_takes_email_and_pass_as_the_1c_sample_sends_them(tenant: Tenant) -> None:
    async with tenant.http() as http:
        # unencoded Cyrillic in the query string, as 1C's v7plus sends it
        url = (
            f"/getdata/smstosend?sendto=+79201234567&body=Привет&device_id={tenant.simulated.id}"
            f"&email={tenant.email}&pass={tenant.password.replace(' ', '%20')}"
        )
        body = ok(await http.get(url))
        refused(
            await http.get(
                "/getdata/smstosend",
                params={
                    "sendto": "+79201234567",
                    "body": "x",
                    "device_id": tenant.simulated.id,
                    "email": tenant.email,
                    "pass": "wrong",
                },
            ),
            "incorrect",
        )
    message = await tenant.gateway.messages.get(body["sms_id"], account=tenant.account)
    assert message.text == "Привет" and message.to == "+79201234567"


async def _device_260(tenant: Tenant) -> None:
    """The documents' example names device 260: register phones until this account has it."""
    while True:
        device = await tenant.phone("doc phone")
        if device.id >= 260:
            break
    if device.id != 260:
        pytest.skip(f"device ids are past 260 already on this database ({device.id})")


async def test_addalotofsms_with_the_documents_datajson_verbatim(tenant: Tenant) -> None:
    await tenant.gateway.accounts.import_key(tenant.account, "df427bfcf113c9a21c67718035076b5b")
    await _device_260(tenant)
    async with tenant.http() as http:
        body = ok(await http.post("/getdata/addalotofsms", data={"datajson": DATAJSON}))
        assert body["count"] == 2
        again = ok(await http.get("/getdata/addalotofsms", params={"datajson": DATAJSON}))
        assert again["count"] == 2
        # the user-friendly example names another token: not this account's, nothing written
        before = await stored(tenant)
        refused(await http.post("/getdata/addalotofsms", data={"datajson": USER_FRIENDLY}), "token")
        assert await stored(tenant) == before
        # the npm client posts the object itself as JSON
        npm = json.loads(USER_FRIENDLY) | {"token": tenant.key}
        ok(await http.post("/getdata/addalotofsms", json=npm))
    found = (
        await tenant.gateway.messages.list(
            MessageFilter(limit=10, ascending=True), account=tenant.account
        )
    ).items
    doc = [m for m in found if m.devices == (260,)]
    assert [m.text for m in doc[:2]] == ["Test message", "Test message 2"]
    assert doc[0].state is State.QUEUED  # 2019: already past, sent at once
    assert [m.priority for m in doc[:2]] == [Priority.NORMAL, Priority.URGENT]
    assert doc[0].sim_slot == 2  # sim 1 counts from 0
    assert [m.reference for m in doc[-2:]] == ["122", "122"]


BAD_SENDS = [
    ({"sendto": "+4915752982212", "body": "x", "device_id": "{dev}", "token": "wrong"}, "token"),
    ({"sendto": "+4915752982212", "body": "x", "device_id": "{dev}"}, "token"),
    ({"sendto": "+4915752982212", "body": "x", "device_id": "999999"}, "device"),
    ({"sendto": "+4915752982212", "body": "x"}, "device_id"),
    ({"sendto": "+4915752982212", "body": "x", "device_id": "abc"}, "device_id"),
    ({"sendto": "not a number", "body": "x", "device_id": "{dev}"}, ""),
    ({"sendto": "", "body": "x", "device_id": "{dev}"}, "sendto"),
    ({"sendto": "+4915752982212", "body": "", "device_id": "{dev}"}, "body"),
    (
        {"sendto": "+4915752982212", "body": "x", "device_id": "{dev}", "timetosend": "25/10/2018"},
        "timetosend",
    ),
    (
        {"sendto": "+4915752982212", "body": "x", "device_id": "{dev}", "timetosend": "2018-13-45"},
        "timetosend",
    ),
    ({"sendto": "+4915752982212", "body": "x", "device_id": "{dev}", "sim": "5x"}, "sim"),
    ({"sendto": "+4915752982212", "body": "x", "device_id": "{dev}", "urgent": "maybe"}, "urgent"),
    (
        {"sendto": "+4915752982212", "body": "x", "device_id": "{dev}", "customerid": "abc"},
        "customerid",
    ),
    (
        {"sendto": "+4915752982212", "body": "x", "device_id": "{dev}", "timezone": "Mars/Base"},
        "timezone",
    ),
    ({"sendto": "+4915752982212", "body": "x" * 40000, "device_id": "{dev}"}, "parts"),
    ({"sendto": "+4915752982212", "body": "a\x00b", "device_id": "{dev}"}, "nul"),
]


@pytest.mark.parametrize(("fields", "says"), BAD_SENDS)
async def test_every_bad_addsms_is_refused_in_the_vendor_format_with_nothing_written(
    tenant: Tenant, fields: dict[str, str], says: str
) -> None:
    values = {
        "token": tenant.key,
        **{k: v.replace("{dev}", str(tenant.simulated.id)) for k, v in fields.items()},
    }
    if "token" in fields and fields["token"] == "wrong":
        values["token"] = "sg_wrong"
    if fields.get("token") is None and "token" not in fields and says == "token":
        values.pop("token")
    async with tenant.http() as http:
        refused(await http.post("/getdata/addsms", data=values), says)
        if sum(len(v) for v in values.values()) < 4000:  # a URL holds no 40,000 characters
            refused(await http.get("/getdata/addsms", params=values), says)
    assert await stored(tenant) == 0


async def test_another_accounts_device_is_unknown(tenant: Tenant) -> None:
    other = await tenant.gateway.accounts.create("x" + tenant.email, "password123")
    theirs, _ = await tenant.gateway.devices.register("theirs", account=other)
    async with tenant.http() as http:
        refused(
            await http.get(
                "/getdata/addsms",
                params={
                    "token": tenant.key,
                    "sendto": "+4915752982212",
                    "body": "x",
                    "device_id": theirs.id,
                },
            ),
            "device",
        )
    assert await stored(tenant) == 0


BAD_DATAJSON = [
    ("{not json", "json"),
    ("[]", "object"),
    ('{"token":"{key}"}', "smsdata"),
    ('{"token":"{key}","smsdata":[]}', "smsdata"),
    ('{"token":"{key}","smsdata":["x"]}', "smsdata[0]"),
    (
        '{"token":"{key}","smsdata":[{"sendto":"+4915752982212","body":"ok","device_id":{dev}},{"sendto":"+4915752982212","body":"x","device_id":{dev},"timetosend":"tomorrow"}]}',
        "smsdata[1]",
    ),
    (
        '{"token":"{key}","smsdata":[{"sendto":"+4915752982212","body":"ok","device_id":{dev}},{"sendto":"+4915752982212","body":"x","device_id":999999}]}',
        "device",
    ),
    (
        '{"token":"bad","smsdata":[{"sendto":"+4915752982212","body":"ok","device_id":{dev}}]}',
        "token",
    ),
]


@pytest.mark.parametrize(("datajson", "says"), BAD_DATAJSON)
async def test_bad_datajson_writes_nothing(tenant: Tenant, datajson: str, says: str) -> None:
    value = datajson.replace("{key}", tenant.key).replace("{dev}", str(tenant.simulated.id))
    async with tenant.http() as http:
        refused(await http.post("/getdata/addalotofsms", data={"datajson": value}), says)
        refused(await http.post("/getdata/addalotofsms", data={}), "datajson")
    assert await stored(tenant) == 0
