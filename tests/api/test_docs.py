"""/docs and /redoc work with no internet: every file they load is served by the gateway itself."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from smsgate import app as application
from smsgate.config import Settings

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.parametrize(("page", "needs"), [("/docs", "SwaggerUIBundle"), ("/redoc", "<redoc ")])
async def test_docs_pages_load_nothing_from_elsewhere(
    tmp_path: Path, page: str, needs: str
) -> None:
    api = application.asgi(application.build(Settings(data_dir=tmp_path)))
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        answer = await client.get(page)
        assert answer.status_code == 200 and needs in answer.text
        html = answer.text
        assert "://" not in html.replace("http://www.w3.org", ""), html  # no CDN, no fonts
        assets = ASSET.findall(html)
        assert any(a.endswith(".js") for a in assets), html
        for asset in assets:
            assert asset.startswith("/docs/assets/"), asset
            got = await client.get(asset)
            assert got.status_code == 200 and len(got.content) > 1000, asset
        assert "validatorUrl" not in html or '"validatorUrl": null' in html
        spec = await client.get("/openapi.json")
        assert spec.status_code == 200 and "/api/v1/messages" in spec.json()["paths"]
