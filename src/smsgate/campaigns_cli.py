"""`smsgate contacts ...`, `smsgate lists ...`, `smsgate optouts ...`, `smsgate campaigns ...`.

Registered by cli.py; runs on the same database as the server. A campaign created here expands in
the server at its send time (or here at once with `--expand`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from smsgate.cli import AccountOption, Table, console, pick_account, read_rows, run
from smsgate.core import errors
from smsgate.core.accounts import Account
from smsgate.core.campaigns import Campaign

if TYPE_CHECKING:  # imported where used: `smsgate --help` stays fast
    from smsgate import app as application

contacts_cli: typer.Typer = typer.Typer(
    help="Contacts and their import from CSV/XLSX.", no_args_is_help=True
)
lists_cli: typer.Typer = typer.Typer(help="Contact lists (tags).", no_args_is_help=True)
optouts_cli: typer.Typer = typer.Typer(help="Numbers no campaign sends to.", no_args_is_help=True)
campaigns_cli: typer.Typer = typer.Typer(
    help="Campaigns (newsletters) to contact lists.", no_args_is_help=True
)

CHUNK = 1000


async def _list_ids(app: application.App, owner: Account, names: list[str]) -> list[int]:
    """Lists named by id or by name (made when a name is new)."""
    found = []
    for name in names:
        if name.isdigit():
            found.append((await app.gateway.contacts.get_list(int(name), account=owner)).id)
        else:
            found.append((await app.gateway.contacts.list_named(name, account=owner)).id)
    return found


@contacts_cli.command("import")
def contacts_import(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="a CSV or XLSX file with a header row"),
    ],
    lists: Annotated[
        list[str], typer.Option("--list", "-l", help="put every contact in this list (name or id)")
    ],
    phone: Annotated[str, typer.Option(help="the column with the phone numbers")] = "phone",
    name: Annotated[str, typer.Option(help="the column with the names")] = "name",
    account: AccountOption = None,
) -> None:
    """Import contacts (one per number; the other columns become fields for {placeholders})."""
    lines = [line for line, _ in read_rows(file)]
    rows = [row for _, row in read_rows(file)]
    if rows and phone not in rows[0]:
        console.print(f"[red]error:[/red] no column {phone!r}; the file has {', '.join(rows[0])}")
        raise typer.Exit(1)

    async def work(app: application.App) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from smsgate.service import ContactInput

        owner = await pick_account(app, account)
        list_ids = await _list_ids(app, owner, lists)
        stored, refused = 0, list[tuple[int, str]]()
        columns = Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console._real or None,
        )
        with columns as progress:
            task = progress.add_task("import", total=len(rows))
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                items = [
                    ContactInput(
                        phone=row.get(phone, ""),
                        name=row.get(name) or None,
                        fields={k: v for k, v in row.items() if k not in (phone, name)},
                    )
                    for row in chunk
                ]
                done = await app.gateway.contacts.add_many(
                    items, account=owner, lists=list_ids, strict=False
                )
                stored += len(done.contacts)
                refused += [(lines[start + index], why) for index, why in done.refused]
                progress.advance(task, len(chunk))
        console.print(
            f"{stored} contacts imported into list {', '.join(map(str, list_ids))}, "
            f"{len(refused)} rows refused"
        )
        for line, why in refused[:20]:
            console.print(f"  line {line}: {why}")

    run(work)


@contacts_cli.command("list")
def contacts_list(
    list_name: Annotated[str | None, typer.Option("--list", "-l", help="name or id")] = None,
    limit: int = 50,
    account: AccountOption = None,
) -> None:
    """The newest contacts (of one list)."""

    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        list_id = (await _list_ids(app, owner, [list_name]))[0] if list_name else None
        page = await app.gateway.contacts.list(account=owner, list_id=list_id, limit=limit)
        table = Table("id", "phone", "name", "lists", "fields")
        for c in page.items:
            fields = ", ".join(f"{k}={v}" for k, v in c.fields.items())
            table.add_row(str(c.id), c.phone, c.name, ",".join(map(str, c.lists)), fields)
        console.print(table)

    run(work)


@lists_cli.command("list")
def lists_list(account: AccountOption = None) -> None:
    """Contact lists and how many contacts each holds."""

    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        table = Table("id", "name", "contacts", "created")
        for lst in await app.gateway.contacts.lists(account=owner):
            table.add_row(str(lst.id), lst.name, str(lst.size), f"{lst.created_at:%Y-%m-%d %H:%M}")
        console.print(table)

    run(work)


@lists_cli.command("create")
def lists_create(name: str, account: AccountOption = None) -> None:
    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        made = await app.gateway.contacts.create_list(name, account=owner)
        console.print(f"list {made.id} {made.name!r} created")

    run(work)


@optouts_cli.command("add")
def optouts_add(phones: list[str], account: AccountOption = None) -> None:
    """Put numbers on the opt-out list (replies of a stop word do it by themselves)."""

    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        added = await app.gateway.contacts.opt_out(phones, account=owner, source="cli")
        console.print(f"{added} numbers added to the opt-out list")

    run(work)


@optouts_cli.command("list")
def optouts_list(account: AccountOption = None) -> None:
    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        table = Table("phone", "source", "since")
        for o in await app.gateway.contacts.optouts(account=owner, limit=1000):
            table.add_row(o.phone, o.source, f"{o.created_at:%Y-%m-%d %H:%M}")
        console.print(table)

    run(work)


@campaigns_cli.command("create")
def campaigns_create(
    name: str,
    text: Annotated[str, typer.Option("--text", "-t", help="{name}, {phone}, {field} are filled")],
    lists: Annotated[list[str], typer.Option("--list", "-l", help="name or id")],
    device: Annotated[list[int] | None, typer.Option("--device", "-d")] = None,
    at: Annotated[
        datetime | None, typer.Option(help="expand at this time (UTC unless it has an offset)")
    ] = None,
    expand: Annotated[
        bool, typer.Option(help="expand it here and now (else the server does)")
    ] = False,
    account: AccountOption = None,
) -> None:
    """Create a campaign: one message per distinct number of its lists, opted-out ones skipped."""

    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        known = {lst.name: lst.id for lst in await app.gateway.contacts.lists(account=owner)}
        list_ids = []
        for item in lists:
            if item.isdigit():
                list_ids.append(int(item))
            elif item in known:
                list_ids.append(known[item])
            else:
                raise errors.NotFound(f"no contact list named {item!r}")
        send_at = at.replace(tzinfo=at.tzinfo or datetime.now().astimezone().tzinfo) if at else None
        made = await app.gateway.campaigns.create(
            account=owner,
            name=name,
            text=text,
            lists=list_ids,
            devices=device or (),
            send_at=send_at,
        )
        if expand:
            await app.gateway.campaigns.expand(made.id)
            made = await app.gateway.campaigns.get(made.id, account=owner)
        await _show(app, made)

    run(work)


async def _show(app: application.App, campaign: Campaign) -> None:
    p = await app.gateway.campaigns.progress(campaign)
    console.print(
        f"campaign {campaign.id} {campaign.name!r}: {campaign.state}, lists "
        f"{','.join(map(str, campaign.lists))}, send at {campaign.send_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    table = Table("contacts", "messages", "skipped (opted out)", "pending", "queued", "sending")
    table.add_column("sent")
    table.add_column("delivered")
    table.add_column("failed")
    table.add_column("cancelled")
    table.add_row(
        *map(
            str,
            (
                p.contacts,
                p.expanded,
                p.skipped,
                p.pending,
                p.queued,
                p.sending,
                p.sent,
                p.delivered,
                p.failed,
                p.cancelled,
            ),
        )
    )
    console.print(table)


@campaigns_cli.command("list")
def campaigns_list(account: AccountOption = None) -> None:
    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        table = Table("id", "name", "status", "send at (UTC)", "messages", "skipped")
        for c in await app.gateway.campaigns.list(account=owner):
            table.add_row(
                str(c.id),
                c.name,
                c.state,
                f"{c.send_at:%Y-%m-%d %H:%M}",
                str(c.expanded),
                str(c.skipped),
            )
        console.print(table)

    run(work)


@campaigns_cli.command("show")
def campaigns_show(campaign_id: int, account: AccountOption = None) -> None:
    """A campaign and its progress."""

    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        await _show(app, await app.gateway.campaigns.get(campaign_id, account=owner))

    run(work)


@campaigns_cli.command("pause")
def campaigns_pause(campaign_id: int, account: AccountOption = None) -> None:
    """Stop expanding and hold the messages no phone has taken."""

    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        await _show(app, await app.gateway.campaigns.pause(campaign_id, account=owner))

    run(work)


@campaigns_cli.command("resume")
def campaigns_resume(campaign_id: int, account: AccountOption = None) -> None:
    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        await _show(app, await app.gateway.campaigns.resume(campaign_id, account=owner))

    run(work)


@campaigns_cli.command("cancel")
def campaigns_cancel(campaign_id: int, account: AccountOption = None) -> None:
    """Stop it and cancel every message of it no phone has taken."""

    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        campaign, count = await app.gateway.campaigns.cancel(campaign_id, account=owner)
        console.print(f"{count} messages cancelled")
        await _show(app, campaign)

    run(work)
