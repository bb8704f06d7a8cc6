"""The `smsgate` command, run in-process with typer's CliRunner on a fresh SQLite data directory."""

from __future__ import annotations

import asyncio
import csv
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from smsgate import app as application
from smsgate.cli import cli
from smsgate.config import Settings
from smsgate.core.messages import Message, MessageFilter

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SMSGATE_DATABASE_URL", "SMSGATE_DATABASE_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMSGATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "data"


def smsgate(*args: str, ok: bool = True) -> str:
    result = runner.invoke(cli, list(args))
    if ok:
        assert result.exit_code == 0, (args, result.output, result.exception)
    else:
        assert result.exit_code == 1, (args, result.output, result.exception)
        assert "Traceback" not in result.output and "error:" in result.output
    return result.output


def stored(data_dir: Path, email: str = "owner@example.com") -> list[Message]:
    async def read() -> list[Message]:
        app = application.build(Settings(data_dir=data_dir))
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

    created = smsgate("keys", "create", "--name", "ci", "-a", owner)
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


def test_db_upgrade(data_dir: Path) -> None:
    assert re.search(r"database at revision \S+", smsgate("db", "upgrade"))
    assert (data_dir / "smsgate.db").exists()
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
    assert re.search(r"row 4: .*12345", out) and "row 5:" in out
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
