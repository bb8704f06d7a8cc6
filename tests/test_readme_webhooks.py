"""The README's shell blocks from "## Webhooks" to the vendor APIs run as written against a real
`smsgate serve` (its port put in for 8080): each exits 0 and no answer is an error."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path

from smsgate.config import Settings
from tests.test_durability import free_port, serve
from tests.webhooks.receiver import ready

ROOT = Path(__file__).resolve().parents[1]


def blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    start, end = text.index("## Webhooks"), text.index("## Benchmarks")
    return re.findall(r"```sh\n(.*?)```", text[start:end], re.S)


async def test_the_readme_webhook_and_voip_commands_are_true(
    settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = settings_for()
    port = free_port()
    env = {
        **os.environ,
        "SMSGATE_DATA_DIR": str(tmp_path / "data"),
        "SMSGATE_PORT": str(port),
        "SMSGATE_DATABASE_URL": settings.database_url,
        "SMSGATE_DATABASE_SCHEMA": settings.database_schema,
        "SMSGATE_LOG_LEVEL": "warning",
    }
    url, log = f"http://127.0.0.1:{port}", tmp_path / "serve.log"
    process = serve(env, log)
    try:
        await ready(url, process, log)
        credentials = Path(env["SMSGATE_DATA_DIR"]) / "first-start.txt"  # not a terminal: there
        found = re.search(r"api key: (sg_\S+)", credentials.read_text())
        assert found, log.read_text()
        found_blocks = blocks()
        assert len(found_blocks) >= 5
        for block in found_blocks:
            script = block.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
            run = await asyncio.create_subprocess_exec(
                "bash",
                "-euo",
                "pipefail",
                "-c",
                script,
                cwd=ROOT,
                env={**env, "KEY": found.group(1), "COLUMNS": "200"},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            out = (await run.communicate())[0].decode()
            assert run.returncode == 0, (block, out)
            assert '"error":true' not in out.replace(" ", ""), (block, out)
            assert not re.search(r'"status":\s*[45]\d\d', out), (block, out)
            assert "error:" not in out, (block, out)
            await asyncio.sleep(1.0)  # the events of one block are fanned out before the next
    finally:
        process.terminate()
        process.wait(timeout=15)
