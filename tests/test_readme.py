"""Every shell command of the README's code blocks, run against a fresh server: the README
cannot drift from what smsgate does.

The server is `smsgate serve` started in a temporary directory, as `./scripts/serve` starts it
(data in `./data`); the blocks run in that directory, in order, in one bash, with the README's
host and port replaced by the server's, `KEY=sg_...` by the key of `data/first-start.txt`, and
`.venv/bin/smsgate` by this environment's, a second between blocks (as a person reads on: work
that happens in the background, such as webhook fan-out, has begun). curl fails on an error
status. A block whose first
line says `# not run by tests/test_readme.py: <why>` is left out (the two setup commands and the
benchmarks), in plain sight in the README itself.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_URL, _pg_admin
from tests.served import served

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SKIP = "# not run by tests/test_readme.py"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[tuple[int, str]]:
    """(line, text) of each fenced block in this language."""
    text = README.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(2))
        for m in FENCE.finditer(text)
        if m.group(1) == language
    ]


def runnable() -> list[tuple[int, str]]:
    return [(line, body) for line, body in blocks("sh") if not body.lstrip().startswith(SKIP)]


def test_the_readme_marks_the_few_blocks_it_cannot_run() -> None:
    left_out = [body for _, body in blocks("sh") if body.lstrip().startswith(SKIP)]
    assert len(left_out) == 3, left_out  # ./scripts/serve, ./scripts/test, ./scripts/bench
    assert all(re.match(rf"{re.escape(SKIP)}: \S", body.lstrip()) for body in left_out)
    assert len(runnable()) >= 8


def test_every_setting_is_in_the_readme() -> None:
    used = {
        name
        for path in (ROOT / "src").rglob("*.py")
        for name in re.findall(r"SMSGATE_[A-Z][A-Z_]*[A-Z]", path.read_text(encoding="utf-8"))
    }
    table = README.read_text(encoding="utf-8").split("## Settings", 1)[1]
    assert sorted(n for n in used if f"`{n}`" not in table) == []


@pytest.fixture
def database(backend: str) -> Iterator[dict[str, str]]:
    """The environment a user's shell would have: nothing set on SQLite (data in ./data)."""
    if backend == "sqlite":
        yield {}
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE SCHEMA "{schema}"'))
    yield {"SMSGATE_DATABASE_URL": PG_URL, "SMSGATE_DATABASE_SCHEMA": schema}
    asyncio.run(_pg_admin(f'DROP SCHEMA "{schema}" CASCADE'))


def script(url: str, key: str) -> str:
    smsgate = Path(sys.executable).parent / "smsgate"
    assert smsgate.exists(), f"{smsgate}: install smsgate into this environment first"
    parts = ["set -euo pipefail", 'curl() { command curl --fail-with-body "$@"; }']
    for line, body in runnable():
        body = body.replace("http://127.0.0.1:8080", url)
        body = re.sub(r"^KEY=sg_\.\.\..*$", f"KEY={key}", body, flags=re.MULTILINE)
        body = body.replace(".venv/bin/smsgate", str(smsgate))
        parts += [f"echo '### the block at README.md line {line}'", body, "sleep 1"]
    return "\n".join(parts) + "\n"


@pytest.mark.timeout(1800)  # some twenty commands, each a fresh process: slow on a loaded machine
def test_every_readme_command_works(
    tmp_path: Path, database: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert shutil.which("curl"), "the README's commands use curl"
    for name in [n for n in os.environ if n.startswith("SMSGATE_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "smsgate"
    home.mkdir()
    with served(database, tmp_path, cwd=home) as server:
        credentials = (home / "data" / "first-start.txt").read_text()
        key = re.search(r"api key: (sg_\S+)", credentials)[1]
        done = subprocess.run(
            ["bash", "-c", script(server.url, key)],
            cwd=home,
            env={**os.environ, **database},
            capture_output=True,
            text=True,
            timeout=1500,
            stdin=subprocess.DEVNULL,
        )
        started = server.output()
    said = done.stdout + done.stderr
    failed_in = re.findall(r"### the block at README.md line \d+", said)
    assert done.returncode == 0, f"{failed_in[-1] if failed_in else 'README'} failed:\n{said}"
    assert len(failed_in) == len(runnable())
    # what the README shows of the start and of the answers is what came
    for shown in ("listening on", "data ", "access log", str(home / "data" / "first-start.txt")):
        assert shown in started, (shown, started)
    shown_fields = {name for _, body in blocks("json") for name in re.findall(r'"(\w+)":', body)}
    assert shown_fields, "the README shows the answers"
    assert sorted(f for f in shown_fields if f'"{f}":' not in said) == []
    for comment in re.findall(r"^# (\{.*\})$", "\n".join(b for _, b in runnable()), re.MULTILINE):
        for name in re.findall(r'"(\w+)":', comment):
            assert f'"{name}":' in said, (comment, said)
    assert re.search(r"line 3: '12345' is not a valid", said), said
