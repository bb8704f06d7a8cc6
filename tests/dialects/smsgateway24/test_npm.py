"""The npm package `sms-gateway24` (smsgateway24/npm 1.0.3).

The vendor documents `npm i sms-gateway24`, but the registry answers 404 for it, and its client keeps
the base URL in a private field: it cannot be pointed elsewhere. So this test checks the registry
(and would say if that changed) and replays the package's exact requests (from its source, as
shared/protocols/vendor-wire-formats.md records them): gettoken urlencoded, addsms multipart with
urgent=1 by default, savetag/savecontact/savepaket urlencoded (reads `paket`), the GET methods as
query strings, and addalotofsms as a JSON body.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.dialects.smsgateway24.conftest import Tenant, ok


def test_the_npm_package_is_not_on_the_registry() -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed here")
    found = subprocess.run(
        ["npm", "view", "sms-gateway24", "--json"], capture_output=True, text=True, timeout=120
    )
    if found.returncode == 0:
        pytest.fail(
            "sms-gateway24 is on the registry now: drive it against smsgate instead of the replay"
        )
    assert "404" in found.stdout + found.stderr or "E404" in found.stdout + found.stderr


@pytest.mark.asyncio(loop_scope="package")
async def test_the_npm_clients_requests_replayed(tenant: Tenant) -> None:
    device = tenant.simulated.id
    async with tenant.http() as http:
        token = ok(
            await http.post(
                "/getdata/gettoken", data={"email": tenant.email, "pass": tenant.password}
            )
        )["token"]
        sms = ok(
            await http.post(
                "/getdata/addsms",
                files={
                    k: (None, v)
                    for k, v in {
                        "token": token,
                        "sendto": "+4915752982212",
                        "body": "npm",
                        "device_id": str(device),
                        "urgent": "1",
                    }.items()
                },
            )
        )
        assert isinstance(sms["sms_id"], int)
        tag = ok(await http.post("/getdata/savetag", data={"token": token, "title": "npm"}))[
            "tag_id"
        ]
        ok(
            await http.post(
                "/getdata/savecontact",
                data={"token": token, "phone": "+4915752982212", "fullname": "N", "tag_id": tag},
            )
        )
        paket = ok(
            await http.post(
                "/getdata/savepaket",
                data={
                    "token": token,
                    "title": "t",
                    "device_id": device,
                    "body": "b",
                    "tags": str(tag),
                },
            )
        )
        assert "paket" in paket
        ok(await http.get("/getdata/getdevicestatus", params={"token": token, "device_id": device}))
        ok(await http.get("/getdata/getalldevices", params={"token": token}))
        ok(
            await http.get(
                "/getdata/getsmsstatus", params={"token": token, "sms_id": sms["sms_id"]}
            )
        )
        assert "smss" in ok(await http.get("/getdata/getallsms", params={"token": token}))
        bulk = ok(
            await http.post(
                "/getdata/addalotofsms",
                json={
                    "token": token,
                    "smsdata": [{"sendto": "+4915752982212", "body": "b1", "device_id": device}],
                },
            )
        )
        assert bulk["count"] == 1
