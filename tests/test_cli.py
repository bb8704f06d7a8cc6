"""The `smsgate` command, run in-process with typer's CliRunner on a fresh SQLite data directory."""

from __future__ import annotations

import asyncio
import csv
import json
import re
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from smsgate import app as application
from smsgate.cli import cli
from smsgate.config import Settings
from smsgate.core import errors
from smsgate.core.messages import Message, MessageFilter
from tests.conftest import PG_URL, _pg_admin
from tests.served import served

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> Iterator[Path]:
    """A fresh data directory, and on PostgreSQL a fresh schema: the CLI reads SMSGATE_* as a user's shell would."""
    for name in ("SMSGATE_DATABASE_URL", "SMSGATE_DATABASE_SCHEMA", "SMSGATE_ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMSGATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMSGATE_SQLITE_SYNCHRONOUS", "NORMAL")
    monkeypatch.setenv("COLUMNS", "200")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    if backend == "postgres":
        asyncio.run(_pg_admin(f'CREATE SCHEMA "{schema}"'))
        monkeypatch.setenv("SMSGATE_DATABASE_URL", PG_URL)
        monkeypatch.setenv("SMSGATE_DATABASE_SCHEMA", schema)
    yield tmp_path / "data"
    if backend == "postgres":
        asyncio.run(_pg_admin(f'DROP SCHEMA "{schema}" CASCADE'))


def smsgate(*args: str, ok: bool = True) -> str:
    result = runner.invoke(cli, list(args))
    if ok:
        assert result.exit_code == 0, (args, result.output, result.exception)
    else:
        assert result.exit_code == 1, (args, result.output, result.exception)
        assert "Traceback" not in result.output and "error:" in result.output, result.output
    return result.output


def stored(data_dir: Path, email: str = "owner@example.com") -> list[Message]:
    async def read() -> list[Message]:
        app = application.build(Settings.from_env())
        await app.start(background=False, welcome=False)
        try:
            [account] = [a for a in await app.gateway.accounts.list_all() if a.email == email]
            return (
                await app.gateway.messages.list(
                    MessageFilter(limit=1000, ascending=True), account=account
                )
            ).items
        finally:
            await app.stop()

    return asyncio.run(read())


@pytest.fixture
def owner(data_dir: Path) -> str:
    out = smsgate(
        "accounts", "create", "Owner@Example.com", "--password", "correct horse", "--admin"
    )
    assert re.search(r"API key \(shown once\): sg_\S+", out)
    return "owner@example.com"


def test_accounts_and_keys(owner: str) -> None:
    smsgate("accounts", "create", "second@example.com")
    out = smsgate("accounts", "list")
    assert "owner@example.com" in out and "second@example.com" in out
    smsgate("accounts", "create", "owner@example.com", "--password", "whatever1", ok=False)
    smsgate("accounts", "create", "not-an-email", "--password", "whatever1", ok=False)

    created = smsgate("keys", "create", "ci", "-a", owner)
    key_id = int(re.search(r"key (\d+) \(ci\): sg_\S+", created).group(1))
    listed = smsgate("keys", "list", "-a", owner)
    assert "first key" in listed and "ci" in listed
    smsgate("keys", "revoke", str(key_id), "-a", "second@example.com", ok=False)  # not theirs
    assert f"key {key_id} revoked" in smsgate("keys", "revoke", str(key_id), "-a", owner)
    row = next(line for line in smsgate("keys", "list", "-a", owner).splitlines() if " ci " in line)
    assert re.search(
        r"\d{4}-\d\d-\d\d \d\d:\d\d\s*\S*$", row.rstrip("│ ").rstrip()
    )  # a revoked date


def test_devices_send_and_messages(owner: str, data_dir: Path) -> None:
    added = smsgate("devices", "add", "Office phone")
    device_id = int(
        re.search(r"device (\d+) \(android\) registered; its token: sgd_\S+", added).group(1)
    )
    assert "Office phone" in smsgate("devices", "list")
    out = smsgate(
        "send", "+79201234567", "89201234568", "-t", "Hello there", "-d", str(device_id), "--urgent"
    )
    assert re.findall(r"message \d+ to (\+\d+): queued", out) == ["+79201234567", "+79201234568"]
    smsgate("send", "12345", "-t", "x", ok=False)
    smsgate("send", "+79201234567", "-t", "   ", ok=False)
    smsgate("send", "+79201234567", "-t", "x", "-d", "999", ok=False)
    later = smsgate("send", "+79201234569", "-t", "later", "--at", "2099-01-01T10:00:00+00:00")
    assert "scheduled" in later
    listing = smsgate("messages")
    assert listing.count("+7920123456") == 3 and "scheduled" in listing and "Hello there" in listing
    assert "+79201234569" not in smsgate("messages", "--status", "queued")
    messages = stored(data_dir)
    assert [(m.to, m.text, m.devices, m.priority) for m in messages[:2]] == [
        ("+79201234567", "Hello there", (device_id,), 100),
        ("+79201234568", "Hello there", (device_id,), 100),
    ]


def test_commands_need_an_account(data_dir: Path) -> None:
    smsgate("send", "+79201234567", "-t", "hi", ok=False)
    smsgate("messages", "-a", "nobody@example.com", ok=False)


def test_db_upgrade(data_dir: Path, backend: str) -> None:
    assert re.search(r"database at revision \S+", smsgate("db", "upgrade"))
    assert (data_dir / "smsgate.db").exists() == (backend == "sqlite")
    smsgate("db", "upgrade")


ROWS = [
    ("phone", "name"),
    ("+79201234567", "Ann"),
    ("8 920 123-45-68", "Boris"),
    ("12345", "Bad"),
    ("", "Nobody"),
    ("+79201234569", ""),
]


def check_import(out: str, data_dir: Path) -> None:
    assert "3 messages queued, 2 rows skipped" in out
    assert "5 rows read: 3 messages queued, 2 rows skipped" in out
    assert re.search(r"line 4: .*12345", out) and "line 5:" in out  # the file's own lines
    assert "5/5" in out  # the progress bar went all the way
    messages = stored(data_dir)
    assert [(m.to, m.text) for m in messages] == [
        ("+79201234567", "Hello Ann!"),
        ("+79201234568", "Hello Boris!"),
        ("+79201234569", "Hello !"),
    ]


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_import_csv(owner: str, data_dir: Path, tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "contacts.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(ROWS)
    check_import(smsgate("import", str(path), "--text", "Hello {name}!"), data_dir)


def test_import_xlsx(owner: str, data_dir: Path, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    for row in ROWS:
        sheet.append(list(row))
    sheet["A2"] = 79201234567  # a number cell, as spreadsheets keep phone numbers
    path = tmp_path / "contacts.xlsx"
    book.save(path)
    check_import(smsgate("import", str(path), "--text", "Hello {name}!", "--chunk", "2"), data_dir)


def test_import_refuses_a_missing_column_or_a_broken_template(
    owner: str, data_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("number,name\n+79201234567,Ann\n", encoding="utf-8")
    out = smsgate("import", str(path), "--text", "hi", ok=False)
    assert "no column 'phone'" in out and "number" in out
    for template in ("Hi {name.title}", "Hi {name[0]}", "Hi {0}", "Hi {}", "Hi {name"):
        out = smsgate("import", str(path), "--column", "number", "--text", template, ok=False)
        assert "template" in out, template
    assert stored(data_dir) == []


# --- for scripts: --json everywhere, plain columns in a pipe, a password from standard input ----


def as_json(*args: str) -> Any:
    return json.loads(smsgate(*args, "--json"))


def test_json_on_every_listing_and_showing_command(owner: str) -> None:
    device = as_json("devices", "add", "Office phone")
    assert device["name"] == "Office phone" and device["token"].startswith("sgd_")
    sent = as_json("send", "+79201234567", "-t", "Hello\nthere", "-d", str(device["id"]))
    [message] = sent["messages"]
    assert message["to"] == "+79201234567" and message["status"] == "queued"
    assert message["priority"] == "normal" and message["devices"] == [device["id"]]
    listed = as_json("messages")
    assert [m["id"] for m in listed] == [message["id"]] and listed[0]["text"] == "Hello\nthere"
    assert listed[0]["created_at"].startswith("20")  # RFC 3339
    assert as_json("messages", "--status", "delivered") == []
    devices = as_json("devices", "list")
    assert [d["name"] for d in devices] == ["Office phone"] and devices[0]["kind"] == "android"
    assert devices[0]["limits"]["period"] == "day"
    queued = as_json("queue")
    assert queued[0]["device_id"] == device["id"] and queued[0]["queued"] == 1
    accounts = as_json("accounts", "list")
    assert [(a["email"], a["is_admin"]) for a in accounts] == [(owner, True)]
    key = as_json("keys", "create", "phones")
    assert key["name"] == "phones" and key["key"].startswith("sg_")
    keys = as_json("keys", "list")
    assert [k["name"] for k in keys] == ["first key", "phones"]
    assert all("key" not in k and k["prefix"].startswith("sg_") for k in keys)
    made = as_json("accounts", "create", "second@example.com")
    assert made["email"] == "second@example.com" and made["key"].startswith("sg_")


def test_piped_listings_are_plain_full_columns(owner: str) -> None:
    long_text = "A rather long message that a terminal table would fold, " * 2
    smsgate("devices", "add", "Simulated-looking phone with a very long name indeed")
    smsgate("send", "+79201234567", "-t", long_text)
    listing = smsgate("messages")  # CliRunner's output is not a terminal
    assert "│" not in listing and "…" not in listing
    header, line = listing.splitlines()
    assert header.split() == ["id", "to", "status", "reason", "device", "created", "text"]
    assert long_text.strip() in line and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line)
    assert "Simulated-looking phone with a very long name indeed" in smsgate("devices", "list")


def test_keys_create_takes_the_name_as_the_readme_says(owner: str) -> None:
    assert re.search(r"key \d+ \(phones\): sg_\S+", smsgate("keys", "create", "phones"))
    assert re.search(r"key \d+ \(cli\): sg_\S+", smsgate("keys", "create"))


def test_password_from_standard_input(owner: str, data_dir: Path) -> None:
    result = runner.invoke(cli, ["accounts", "password", owner], input="a new password\n")
    assert result.exit_code == 0 and "password of owner@example.com changed" in result.output

    async def login(password: str) -> bool:
        app = application.build(Settings.from_env())
        await app.start(background=False, welcome=False)
        try:
            await app.gateway.accounts.login(owner, password)
            return True
        except errors.Unauthorized:
            return False
        finally:
            await app.stop()

    assert asyncio.run(login("a new password")) and not asyncio.run(login("correct horse"))
    short = runner.invoke(cli, ["accounts", "password", owner], input="short\n")
    assert short.exit_code == 1 and "8 characters" in short.output


def test_import_names_the_files_own_lines(owner: str, data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        'phone,name\n+79201234567,Ann\n\n12345,Bad\n+79201234568,"two\nlines"\n,Nobody\n',
        encoding="utf-8",
    )
    out = smsgate("import", str(path), "--text", "Hello {name}")
    assert "4 rows read: 2 messages queued, 2 rows skipped" in out
    assert re.search(r"line 4: .*12345", out) and "line 7:" in out, out


def test_help_does_not_import_the_server() -> None:
    """`smsgate --help` must start fast: neither the web framework nor the store is loaded."""
    probe = (
        "import sys\n"
        "from smsgate.cli import main\n"
        "sys.argv = ['smsgate', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('smsgate.app', 'fastapi', 'sqlalchemy', 'uvicorn', 'smsgate.service')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "Commands:" in done.stdout and "HEAVY []" in done.stdout, done.stdout + done.stderr


# --- serve: what every start says, and where a fresh install's secrets go -----------------------


def serve_once(data_dir: Path, tmp_path: Path) -> str:
    """Runs `smsgate serve` (output piped, so not a terminal) until it answers; its output."""
    with served({"SMSGATE_DATA_DIR": str(data_dir)}, tmp_path) as server:
        httpx.get(f"{server.url}/api/3/sms.php?token=not-a-real-key-42&msg=x")
    return server.output()


def test_serve_says_where_and_how_to_get_in_without_printing_secrets(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    first = serve_once(data_dir, tmp_path)
    credentials = data_dir / "first-start.txt"
    if backend == "sqlite":
        assert f"SQLite {data_dir.resolve() / 'smsgate.db'}" in first
    else:
        assert "postgresql://postgres@127.0.0.1:5432/test (schema t_" in first
    assert "listening on" in first
    assert str(credentials.resolve()) in first
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    saved = credentials.read_text()
    password = re.search(r"password: (\S+)", saved).group(1)
    key = re.search(r"api key: (sg_\S+)", saved).group(1)
    assert "admin@localhost" in saved and password not in first and key not in first
    assert "dashboard" not in first.lower()
    assert re.search(r"\d\d:\d\d:\d\d GET /api/3/sms.php 200 [\d.]+ms", first)  # the access log
    assert "not-a-real-key-42" not in first  # query strings (tokens) stay out of it

    again = serve_once(data_dir, tmp_path)
    assert "smsgate keys create NAME" in again and "smsgate accounts password EMAIL" in again
    assert "still in" in again and password not in again and key not in again
    credentials.unlink()
    monkeypatch.setenv("SMSGATE_ACCESS_LOG", "0")
    third = serve_once(data_dir, tmp_path)
    assert "still in" not in third and "smsgate keys create NAME" in third
    assert "access log     off" in third and "GET /api/3/sms.php" not in third
