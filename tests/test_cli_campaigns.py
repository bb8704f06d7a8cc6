"""`smsgate contacts import` (CSV and XLSX, a progress bar), lists, opt-outs and campaigns."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import Workbook

from tests.test_cli import data_dir, owner, smsgate, stored  # noqa: F401 (fixtures)


def test_import_contacts_and_run_a_campaign_from_the_cli(owner: str, tmp_path: Path) -> None:  # noqa: F811
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text(
        "phone;name;city\n+79201110001;Anna;Tver\n+79201110002;Boris;Omsk\nnonsense;Bad;X\n"
    )
    out = smsgate("contacts", "import", str(csv_file), "--list", "customers", "-a", owner)
    assert "2 contacts imported" in out and "1 rows refused" in out and "line 4" in out
    assert "importing" in out  # the progress bar's label

    book = Workbook()
    sheet = book.active
    sheet.append(["phone", "name"])
    sheet.append(["+79201110002", "Boris"])  # in both lists: one contact, one message
    sheet.append(["+79201110003", "Vera"])
    xlsx = tmp_path / "vip.xlsx"
    book.save(xlsx)
    assert "2 contacts imported" in smsgate(
        "contacts", "import", str(xlsx), "-l", "vip", "-a", owner
    )

    listed = smsgate("lists", "list", "-a", owner)
    assert re.search(r"customers\s+│\s+2", listed) and re.search(r"vip\s+│\s+2", listed)
    assert "Boris" in smsgate("contacts", "list", "--list", "vip", "-a", owner)
    assert "1 numbers added" in smsgate("optouts", "add", "+79201110003", "-a", owner)
    assert "+79201110003" in smsgate("optouts", "list", "-a", owner)

    made = smsgate(
        "campaigns",
        "create",
        "sale",
        "--text",
        "Hi {name} from {city}",
        "-l",
        "customers",
        "-l",
        "vip",
        "--expand",
        "-a",
        owner,
    )
    campaign_id = re.search(r"campaign (\d+) 'sale': expanded", made).group(1)
    assert re.search(r"│\s+3\s+│\s+2\s+│\s+1\s+│\s+0\s+│\s+2\s+│", made), (
        made
    )  # 3 contacts, 2 messages, 1 skipped
    texts = sorted(m.text for m in stored(tmp_path / "data"))
    assert texts == ["Hi Anna from Tver", "Hi Boris from Omsk"]
    assert "sale" in smsgate("campaigns", "list", "-a", owner)
    assert "paused" in smsgate("campaigns", "pause", campaign_id, "-a", owner)
    assert "expanded" in smsgate("campaigns", "resume", campaign_id, "-a", owner)
    assert "2 messages cancelled" in smsgate("campaigns", "cancel", campaign_id, "-a", owner)
    assert "cancelled" in smsgate("campaigns", "show", campaign_id, "-a", owner)
    smsgate("campaigns", "resume", campaign_id, "-a", owner, ok=False)
    smsgate("campaigns", "create", "x", "--text", "hi", "-l", "nope", "-a", owner, ok=False)
    # a token from another service (SmsGateway24's) kept as a key; twice is refused
    assert "imported" in smsgate("keys", "import", "df427bfcf113c9a21c67718035076b5b", "-a", owner)
    smsgate("keys", "import", "df427bfcf113c9a21c67718035076b5b", "-a", owner, ok=False)
