"""The `smsgate` command: serve, send, messages, devices, queue, accounts, keys, db, import.

It starts fast: the server, the store and the web framework are imported by the command that
needs them, never by `smsgate --help`. Listings print a table on a terminal, plain columns in a
pipe, and JSON with `--json`.
"""

from __future__ import annotations

import csv
import string
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from smsgate import output
from smsgate.core import errors
from smsgate.core.devices import Kind
from smsgate.core.events import ALL as ALL_EVENTS
from smsgate.core.events import DeliveryState
from smsgate.core.messages import MessageFilter, Priority, State
from smsgate.core.requests import SendRequest

if TYPE_CHECKING:
    from smsgate import app as application
    from smsgate.app import App, Welcome
    from smsgate.config import Settings
    from smsgate.core.accounts import Account
    from smsgate.core.messages import Message
    from smsgate.core.requests import SendRequest

cli = typer.Typer(
    help="smsgate: a self-hosted SMS gateway.", no_args_is_help=True, rich_markup_mode=None
)
accounts_cli = typer.Typer(
    help="Accounts (people who own devices and messages).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
keys_cli = typer.Typer(help="API keys of an account.", no_args_is_help=True, rich_markup_mode=None)
devices_cli = typer.Typer(
    help="Devices of an account.", no_args_is_help=True, rich_markup_mode=None
)
db_cli = typer.Typer(help="The database.", no_args_is_help=True, rich_markup_mode=None)
cli.add_typer(accounts_cli, name="accounts")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(devices_cli, name="devices")
cli.add_typer(db_cli, name="db")
T = TypeVar("T")
AccountOption = Annotated[
    str | None, typer.Option("--account", "-a", help="account email (default: the first admin)")
]
Json = Annotated[bool, typer.Option("--json", help="print JSON, for scripts")]


class _Console:
    """rich's Console, made on first use: `smsgate --help` does not pay for importing rich."""

    _real: Any = None

    def __getattr__(self, name: str) -> Any:
        if _Console._real is None:
            from rich.console import Console

            _Console._real = Console(soft_wrap=True)
        return getattr(_Console._real, name)


console: Any = _Console()


def Table(*columns: str, **options: Any) -> Any:
    """rich's Table, imported on first use."""
    from rich.table import Table as RichTable

    return RichTable(*columns, **options)


def run(work: Callable[[App], Awaitable[T]]) -> T:
    """Runs `work` on the gateway's store, without the HTTP server; errors become clean messages."""
    import asyncio

    from smsgate import app as application
    from smsgate.config import Settings

    async def main() -> T:
        settings = Settings.from_env()
        app = application.build(settings, metrics=application.shared_metrics(settings))
        try:
            await app.start(background=False, welcome=False)
            return await work(app)
        finally:
            await app.stop()

    try:
        return asyncio.run(main())
    except errors.GatewayError as exc:
        output.error(exc.detail)
        raise typer.Exit(1) from None


async def pick_account(app: App, email: str | None) -> Account:
    found = await app.gateway.accounts.list_all()
    for account in found:
        if (email is None and account.is_admin) or (
            email is not None and account.email == email.strip().lower()
        ):
            return account
    raise errors.NotFound(
        f"no account {email}"
        if email
        else "no admin account yet: start `smsgate serve` once, or `smsgate accounts create EMAIL --admin`"
    )


# --- serve --------------------------------------------------------------------------------------


def where(settings: Settings, url: str) -> str:
    """Every start says where the gateway listens and where its data is."""
    if settings.database_url:
        from sqlalchemy.engine import make_url

        shown = make_url(settings.url).render_as_string(hide_password=True)
        schema = f" (schema {settings.database_schema})" if settings.database_schema else ""
        data = f"{shown}{schema}"
    else:
        data = f"SQLite {Path(settings.url.removeprefix('sqlite:///'))}"
    from smsgate import __version__

    return (
        f"smsgate {__version__}\n"
        f"  listening on   {url}   (API documentation: {url}/docs)\n"
        f"  data           {data}\n"
        f"  access log     {'on (SMSGATE_ACCESS_LOG=0 turns it off)' if settings.access_log else 'off'}"
    )


def welcome_text(welcome: Welcome, url: str, *, terminal: bool) -> str:
    """A fresh install's first start. The secrets go to a person at a terminal and to an
    owner-only file, never into output a log collector keeps."""
    head = (
        "\nA fresh install: smsgate made an account, an API key and a simulated phone "
        "(test mode: what it 'delivers' no phone sent).\n"
    )
    if not terminal:
        return (
            f"{head}  account          {welcome.email}\n"
            f"  simulated phone  device {welcome.device_id}\n"
            f"  The password and the API key are not printed here (this is not a terminal): they are in\n"
            f"  {welcome.path}, which only its owner can read. Keep them, then delete the file.\n"
        )
    return (
        f"{head}  email / password {welcome.email} / {welcome.password}\n"
        f"  API key          {welcome.key}\n"
        f"  simulated phone  device {welcome.device_id}\n"
        f"They are also in {welcome.path} (only you can read it): keep them, then delete the file.\n"
        f"Send a first message:\n"
        f"  curl -s {url}/api/v1/messages -H 'Authorization: Bearer {welcome.key}' \\\n"
        f'       -H \'Content-Type: application/json\' -d \'{{"to": "+79201234567", "text": "Hello"}}\'\n'
    )


def restart_text(settings: Settings) -> str:
    from smsgate.app import CREDENTIALS_FILE

    left = (settings.data_dir / CREDENTIALS_FILE).resolve()
    text = (
        "To get in: a new API key with `smsgate keys create NAME`; a password with\n"
        "`smsgate accounts password EMAIL` (`smsgate accounts list` shows the emails). Run them\n"
        "with the same SMSGATE_* settings, from the same directory."
    )
    if left.exists():
        text += f"\nThe first start's credentials are still in {left}: delete it once you have kept them."
    return text


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
) -> None:
    """Run the gateway: HTTP APIs, dispatch and the simulated phone."""
    import uvicorn

    from smsgate import access, serving
    from smsgate import app as application
    from smsgate.config import Settings

    settings = Settings.from_env()
    host, port = host or settings.host, port or settings.port
    url = settings.public_url or f"http://{host}:{port}"
    terminal = output.is_terminal()

    def welcome(w: Welcome) -> None:
        print(where(settings, url), welcome_text(w, url, terminal=terminal), sep="\n", flush=True)

    def restart() -> None:
        print(where(settings, url), restart_text(settings), sep="\n", flush=True)

    from smsgate import metrics

    metrics.compact(settings.data_dir / "metrics")  # the counts of ended processes, in one file
    app = application.build(settings, metrics=application.shared_metrics(settings))
    api = application.asgi(app, on_welcome=welcome, on_restart=restart)
    uvicorn.run(
        api,
        host=host,
        port=port,
        **serving.options(),
        log_config=access.logging_config(settings.log_level, access=settings.access_log),
        log_level=settings.log_level,
        access_log=False,  # smsgate's own, shorter and with no query string: smsgate.access
        timeout_graceful_shutdown=5,
    )


# --- messages -----------------------------------------------------------------------------------


def message_row(m: Message) -> output.Row:
    """The fields the native API answers with, under the same names."""
    return output.row(
        m,
        status=m.state,
        sim=m.sim_slot,
        priority="urgent" if m.priority >= Priority.URGENT else "normal",
    )


MESSAGE_COLUMNS = {
    "id": "id",
    "to": "to",
    "status": "status",
    "reason": "reason",
    "device_id": "device",
    "created_at": "created",
    "text": "text",
}


def _without(r: output.Row, *names: str) -> output.Row:
    return {k: v for k, v in r.items() if k not in names}


@cli.command()
def send(
    to: Annotated[list[str], typer.Argument(help="one or more phone numbers")],
    text: Annotated[str, typer.Option("--text", "-t", help="the message")],
    device: Annotated[
        list[int] | None, typer.Option("--device", "-d", help="send through these devices")
    ] = None,
    urgent: Annotated[
        bool, typer.Option(help="before any normal message (one-time codes)")
    ] = False,
    at: Annotated[
        datetime | None, typer.Option(help="send at this time (UTC unless it has an offset)")
    ] = None,
    account: AccountOption = None,
    as_json: Json = False,
) -> None:
    """Send a message: one per recipient."""
    from smsgate.core.requests import SendRequest

    async def work(app: App) -> None:
        owner = await pick_account(app, account)
        send_at = at.replace(tzinfo=at.tzinfo or datetime.now().astimezone().tzinfo) if at else None
        request = SendRequest(
            to=tuple(to),
            text=text,
            devices=tuple(device or ()),
            send_at=send_at,
            priority=Priority.URGENT if urgent else Priority.NORMAL,
        )
        sent = await app.gateway.messages.send(request, account=owner)
        rows = [_without(message_row(m), "account_id", "lease_until") for m in sent]
        output.say(
            "\n".join(f"message {m.id} to {m.to}: {m.state}" for m in sent),
            as_json=as_json,
            data={"messages": rows},
        )

    run(work)


@cli.command()
def messages(
    status: Annotated[list[State] | None, typer.Option(help="only these statuses")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    account: AccountOption = None,
    as_json: Json = False,
) -> None:
    """The newest messages and their statuses."""

    async def work(app: App) -> None:
        owner = await pick_account(app, account)
        f = MessageFilter(states=frozenset(status) if status else None, limit=limit)
        page = await app.gateway.messages.list(f, account=owner)
        rows = [_without(message_row(m), "account_id", "lease_until") for m in page.items]
        output.show(rows, MESSAGE_COLUMNS, as_json=as_json)

    run(work)


# --- devices and their queues -------------------------------------------------------------------


@devices_cli.command("list")
def devices_list(
    account: AccountOption = None, archived: bool = False, as_json: Json = False
) -> None:
    """The account's devices."""

    async def work(app: App) -> None:
        owner = await pick_account(app, account)
        streaming = await app.smsgate_app.streaming(account=owner)
        rows = []
        for d in await app.gateway.devices.list(account=owner, archived=archived):
            stream = (
                None
                if d.id not in streaming
                else ("connected" if streaming[d.id] else "polling only")
            )
            rows.append(
                output.row(
                    d,
                    can_send=d.can_send,
                    event_stream=stream,
                )
                | {"sims_shown": [f"{s.slot}:{s.number or '?'}" for s in d.sims]}
            )
        columns = {
            "id": "id",
            "name": "name",
            "kind": "kind",
            "can_send": "enabled",
            "app_version": "app",
            "last_seen_at": "last seen",
            "battery": "battery %",
            "sims_shown": "SIMs",
            "event_stream": "event stream",
        }
        if as_json:
            rows = [_without(r, "sims_shown", "account_id") for r in rows]
        output.show(rows, columns, as_json=as_json)

    run(work)


@devices_cli.command("add")
def devices_add(
    name: str,
    kind: Annotated[Kind, typer.Option(help="android (a phone) or simulator")] = Kind.ANDROID,
    account: AccountOption = None,
    as_json: Json = False,
) -> None:
    """Register a device; a phone's token is printed once."""

    async def work(app: App) -> None:
        owner = await pick_account(app, account)
        device, token = await app.gateway.devices.register(name, account=owner, kind=kind)
        output.say(
            f"device {device.id} ({device.kind}) registered"
            + (f"; its token: {token}" if token else ""),
            as_json=as_json,
            data={"id": device.id, "name": device.name, "kind": device.kind.value, "token": token},
        )

    run(work)


@cli.command()
def queue(account: AccountOption = None, as_json: Json = False) -> None:
    """Per device: what waits for it, what it holds, its quota use, and whether it is ready (or why not)."""

    async def work(app: App) -> None:
        owner = await pick_account(app, account)
        rows = []
        for state in await app.gateway.devices.states(account=owner):
            d, q = state.device, state.queue
            whole = q.usage.get(0)
            nxt = (
                whole.next_send_at
                if whole and whole.next_send_at and whole.next_send_at > state.now
                else None
            )
            rows.append(
                {
                    "device_id": d.id,
                    "name": d.name,
                    "state": state.waiting.value,
                    "queued": q.queued,
                    "leased": q.leased,
                    "taken": q.taken,
                    "used": whole.messages if whole else 0,
                    "quota": d.limits.quota,
                    "period": d.limits.period.value,
                    "next_send_at": output.value(nxt),
                }
            )
        columns = {
            "device_id": "device",
            "name": "name",
            "state": "state",
            "queued": "queued",
            "leased": "leased",
            "taken": "taken",
            "used": "used",
            "quota": "quota",
            "period": "per",
            "next_send_at": "next send",
        }
        output.show(rows, columns, as_json=as_json)

    run(work)


# --- accounts and keys --------------------------------------------------------------------------


@accounts_cli.command("create")
def accounts_create(
    email: str,
    password: Annotated[str | None, typer.Option(help="default: generated and printed")] = None,
    admin: bool = False,
    as_json: Json = False,
) -> None:
    """Create an account and its first API key (both printed here, once)."""
    import secrets

    password = password or secrets.token_urlsafe(12)

    async def work(app: App) -> None:
        account = await app.gateway.accounts.create(email, password, is_admin=admin)
        _, key = await app.gateway.accounts.create_key(account, "first key")
        output.say(
            f"account {account.id} {account.email} created; password: {password}\nAPI key (shown once): {key}",
            as_json=as_json,
            data={"id": account.id, "email": account.email, "password": password, "key": key},
        )

    run(work)


@accounts_cli.command("list")
def accounts_list(as_json: Json = False) -> None:
    """Every account."""

    async def work(app: App) -> None:
        rows = [output.row(a) for a in await app.gateway.accounts.list_all()]
        columns = {"id": "id", "email": "email", "is_admin": "admin", "created_at": "created"}
        output.show(rows, columns, as_json=as_json)

    run(work)


def read_password() -> str:
    """From the terminal (asked twice), or the first line of standard input in a script."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise errors.InvalidInput("the two passwords differ")
    return first


@accounts_cli.command("password")
def accounts_password(email: str) -> None:
    """Set an account's password: asked for on a terminal, read from standard input otherwise
    (`echo "$PASSWORD" | smsgate accounts password EMAIL`)."""
    try:
        password = read_password()
    except errors.GatewayError as exc:
        output.error(exc.detail)
        raise typer.Exit(1) from None

    async def work(app: App) -> None:
        account = await pick_account(app, email)
        await app.gateway.accounts.set_password(account, password)
        print(f"password of {account.email} changed")

    run(work)


@keys_cli.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="what the key is for, e.g. phones")] = "cli",
    name_option: Annotated[str | None, typer.Option("--name", hidden=True)] = None,
    account: AccountOption = None,
    as_json: Json = False,
) -> None:
    """A new API key, printed once: `smsgate keys create phones`."""

    async def work(app: App) -> None:
        key, secret = await app.gateway.accounts.create_key(
            await pick_account(app, account), name_option or name
        )
        output.say(
            f"key {key.id} ({key.name}): {secret}",
            as_json=as_json,
            data=_key_row(key, secret),
        )

    run(work)


def _key_row(key: Any, secret: str | None = None) -> output.Row:
    found = output.row(key)
    found.pop("account_id", None)
    if secret is not None:
        found["key"] = secret
    return found


@keys_cli.command("list")
def keys_list(account: AccountOption = None, as_json: Json = False) -> None:
    """The account's keys (only their first characters: a key is shown once, when made)."""

    async def work(app: App) -> None:
        keys = await app.gateway.accounts.list_keys(await pick_account(app, account))
        columns = {
            "id": "id",
            "name": "name",
            "prefix": "starts with",
            "created_at": "created",
            "revoked_at": "revoked",
        }
        output.show([_key_row(k) for k in keys], columns, as_json=as_json)

    run(work)


@keys_cli.command("import")
def keys_import(
    secret: Annotated[str, typer.Argument(help="a token your clients already hold")],
    name: str = "imported",
    account: AccountOption = None,
) -> None:
    """Keep a token from another service (SmsGateway24's, say) as an API key of the account."""

    async def work(app: application.App) -> None:
        owner = await pick_account(app, account)
        key = await app.gateway.accounts.import_key(owner, secret, name)
        console.print(f"key {key.id} ({key.name}) imported for {owner.email}")

    run(work)


@keys_cli.command("revoke")
def keys_revoke(key_id: int, account: AccountOption = None) -> None:
    """Revoke a key: it stops working at once."""

    async def work(app: App) -> None:
        await app.gateway.accounts.revoke_key(await pick_account(app, account), key_id)
        print(f"key {key_id} revoked")

    run(work)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply the schema migrations (serve does this by itself on start)."""

    async def work(app: App) -> None:
        print(f"database at revision {await app.schema_revision()}")

    run(work)


# --- import -------------------------------------------------------------------------------------


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) for each row of a CSV (any common delimiter) or XLSX file, keyed by the header.
    `line` is the file's own line (the sheet's row): the header is line 1, blank lines count."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).active
        lines = sheet.iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(lines, ())]
        for number, line in enumerate(lines, start=2):
            if all(v is None or str(v).strip() == "" for v in line):
                continue
            yield (
                number,
                {h: "" if v is None else str(v) for h, v in zip(header, line, strict=False) if h},
            )
        return
    with path.open(newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|") if sample.strip() else csv.excel
        reader = csv.reader(handle, dialect=dialect)
        header = [h.strip() for h in next(reader, [])]
        line = reader.line_num  # where the next row starts, less one: quoted line breaks count
        for found in reader:
            start, line = line + 1, reader.line_num
            if not any(v.strip() for v in found):
                continue  # a blank line
            yield start, {h: v.strip() for h, v in zip(header, found, strict=False) if h}


@cli.command("import")
def import_file(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="a CSV or XLSX file with a header row"),
    ],
    text: Annotated[
        str, typer.Option("--text", "-t", help="the message; {column} puts a column's value in")
    ],
    column: Annotated[str, typer.Option(help="the column with the phone numbers")] = "phone",
    device: Annotated[list[int] | None, typer.Option("--device", "-d")] = None,
    chunk: Annotated[int, typer.Option(min=1, max=10000)] = 1000,
    account: AccountOption = None,
) -> None:
    """Send to every number of a file, with a progress bar. Rows with a bad number are reported
    by their line in the file, not sent."""
    all_rows = list(read_rows(file))
    if all_rows and column not in all_rows[0][1]:
        output.error(f"no column {column!r}; the file has {', '.join(all_rows[0][1])}")
        raise typer.Exit(1)
    try:
        _check_template(text)
    except errors.GatewayError as exc:
        output.error(exc.detail)
        raise typer.Exit(1) from None
    run(lambda app: _import(app, all_rows, text, column, device, chunk, account))


async def _import(
    app: App,
    all_rows: list[tuple[int, dict[str, str]]],
    text: str,
    column: str,
    device: list[int] | None,
    chunk: int,
    account: str | None,
) -> None:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    owner = await pick_account(app, account)
    sent, skipped = 0, list[tuple[int, str]]()
    columns = Progress(
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    with columns as progress:
        task = progress.add_task("import", total=len(all_rows))
        for start in range(0, len(all_rows), chunk):
            lines, requests = [], []
            for line, row in all_rows[start : start + chunk]:
                request = _row_request(row, column, text, device, line, skipped)
                if request is not None:
                    lines.append(line)
                    requests.append(request)
            if requests:  # the service judges each row on its own, as the API's batch does
                done = await app.gateway.messages.send_each(requests, account=owner)
                sent += len(done.messages)
                skipped += [(lines[r.index], r.error.detail) for r in done.refused]
            progress.advance(task, min(chunk, len(all_rows) - start))
    skipped.sort()
    print(f"{len(all_rows)} rows read: {sent} messages queued, {len(skipped)} rows skipped")
    for line, reason in skipped[:20]:
        print(f"  line {line}: {reason}")
    if len(skipped) > 20:
        print(f"  ... and {len(skipped) - 20} more")


def _check_template(text: str) -> None:
    """Only plain {column} fields: a template must not reach into Python objects ({name.upper})."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise errors.InvalidInput(f"the text template does not fit: {exc}") from None
    for name in fields:
        if not name or name.isdigit() or any(c in name for c in ".[]"):
            raise errors.InvalidInput(
                f"the text template can only name columns: {{{name}}} is not one"
            )


def _row_request(
    row: dict[str, str],
    column: str,
    text: str,
    device: list[int] | None,
    line: int,
    skipped: list[tuple[int, str]],
) -> SendRequest | None:
    """The row's message (the service checks its number and text), or None if the template
    does not fit the row."""
    from smsgate.core.requests import SendRequest

    try:
        body = text.format_map(_Blank(row))
    except (ValueError, IndexError) as exc:
        skipped.append((line, f"the text template does not fit: {exc}"))
        return None
    number = row.get(column, "").strip()
    if not number:
        skipped.append((line, "the recipient number is empty"))
        return None
    return SendRequest(to=(number,), text=body, devices=tuple(device or ()))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


# --- prices and balances ------------------------------------------------------------------------

prices_cli = typer.Typer(help="The price list (per message part).", no_args_is_help=True)
balance_cli = typer.Typer(help="Account balances (unlimited unless set).", no_args_is_help=True)
cli.add_typer(prices_cli, name="prices")
cli.add_typer(balance_cli, name="balance")


@prices_cli.command("load")
def prices_load(path: Path) -> None:
    """Replace the price list with a CSV file: country,prefix,operator,price."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        console.print(f"[red]error:[/red] cannot read {path}: {exc}")
        raise typer.Exit(1) from None

    async def work(app: application.App) -> None:
        found = await app.gateway.billing.load_prices(text, by=None)
        console.print(f"{len(found)} prices loaded ({app.gateway.billing.currency} per part)")

    run(work)


@prices_cli.command("list")
def prices_list() -> None:
    """The price list as CSV."""
    from smsgate.core import billing

    async def work(app: application.App) -> None:
        print(billing.to_csv(await app.gateway.billing.prices()), end="")

    run(work)


@prices_cli.command("quote")
def prices_quote(phones: list[str], text: Annotated[str, typer.Option("--text", "-t")]) -> None:
    """What a message would cost, without sending it."""
    from smsgate.core import billing

    async def work(app: application.App) -> None:
        found = await app.gateway.billing.quote(phones, text)
        for e164, cost in found.costs:
            console.print(f"{e164}\t{billing.shown(cost)}")
        console.print(f"{found.parts} part(s), total {billing.shown(found.total)}")

    run(work)


def _balance_text(found: Any, currency: str) -> str:
    from smsgate.core import billing

    if found is None:
        return "unlimited"
    credit = f" (credit {billing.shown(found.credit)})" if found.credit else ""
    return f"{billing.shown(found.amount)} {currency}{credit}"


@balance_cli.command("show")
def balance_show(account: AccountOption = None) -> None:
    async def work(app: application.App) -> None:
        found = await app.gateway.billing.balance(await pick_account(app, account))
        console.print(_balance_text(found, app.gateway.billing.currency))

    run(work)


@balance_cli.command("set")
def balance_set(
    amount: Annotated[str, typer.Argument(help="e.g. 100.00, or `unlimited`")],
    account: AccountOption = None,
    credit: Annotated[str, typer.Option(help="how far below zero it may go")] = "0",
) -> None:
    """Set an account's balance; `unlimited` removes the limit."""
    from smsgate.core import billing

    async def work(app: application.App) -> None:
        who = await pick_account(app, account)
        wanted = (
            None
            if amount.strip().lower() == "unlimited"
            else billing.Balance(amount=billing.amount(amount), credit=billing.amount(credit))
        )
        found = await app.gateway.billing.set_balance(who.id, wanted, by=None)
        console.print(f"{who.email}: {_balance_text(found, app.gateway.billing.currency)}")

    run(work)


@balance_cli.command("add")
def balance_add(amount: str, account: AccountOption = None) -> None:
    """Add to an account's balance (a negative amount takes from it)."""
    from smsgate.core import billing

    async def work(app: application.App) -> None:
        who = await pick_account(app, account)
        found = await app.gateway.billing.top_up(who.id, billing.amount(amount), by=None)
        console.print(f"{who.email}: {_balance_text(found, app.gateway.billing.currency)}")

    run(work)


# --- webhooks -------------------------------------------------------------------------------------

webhooks_cli = typer.Typer(
    help="Webhooks: URLs that receive events, the deliveries log, replays.", no_args_is_help=True
)
cli.add_typer(webhooks_cli, name="webhooks")


@webhooks_cli.command("add")
def webhooks_add(
    url: str,
    events: Annotated[
        str,
        typer.Option(help="kinds, comma-separated: message.sent,inbound.received; message.*; *"),
    ] = "*",
    number: Annotated[
        str | None, typer.Option(help="a two-way number: only what concerns it (replies to it)")
    ] = None,
    account: AccountOption = None,
) -> None:
    """Registers a URL for events; prints its id and the secret deliveries are signed with."""

    async def work(app: application.App) -> None:
        hook = await app.gateway.webhooks.create(
            url, account=await pick_account(app, account), kinds=events, number=number
        )
        console.print(f"webhook {hook.id}: {hook.url} secret {hook.secret}")

    run(work)


@webhooks_cli.command("list")
def webhooks_list(account: AccountOption = None) -> None:
    async def work(app: application.App) -> None:
        table = Table("id", "url", "events", "number", "enabled", "secret")
        for w in await app.gateway.webhooks.list(account=await pick_account(app, account)):
            shown = sorted(k.value for k in w.events)
            table.add_row(
                str(w.id),
                w.url,
                "*" if len(shown) == len(ALL_EVENTS) else ",".join(shown),
                w.number or "",
                "yes" if w.enabled else "no",
                w.secret,
            )
        console.print(table)

    run(work)


@webhooks_cli.command("remove")
def webhooks_remove(webhook_id: int, account: AccountOption = None) -> None:
    """Deletes a webhook with its deliveries."""

    async def work(app: application.App) -> None:
        await app.gateway.webhooks.delete(webhook_id, account=await pick_account(app, account))
        console.print(f"webhook {webhook_id} removed")

    run(work)


@webhooks_cli.command("deliveries")
def webhooks_deliveries(
    state: Annotated[str | None, typer.Option(help="pending, delivered or failed")] = None,
    limit: int = 50,
    account: AccountOption = None,
) -> None:
    """The deliveries log, newest first."""

    async def work(app: application.App) -> None:
        wanted = DeliveryState(state) if state else None
        found = await app.gateway.webhooks.deliveries(
            account=await pick_account(app, account), state=wanted, limit=limit
        )
        table = Table("id", "event", "kind", "webhook", "state", "attempts", "last answer")
        for d in found:
            answer = d.last_error or (str(d.last_status) if d.last_status else "")
            table.add_row(
                str(d.id),
                str(d.event_id),
                d.kind.value,
                str(d.webhook_id),
                d.state.value,
                str(d.attempts),
                answer,
            )
        console.print(table)

    run(work)


@webhooks_cli.command("show")
def webhooks_show(delivery_id: int, account: AccountOption = None) -> None:
    """A delivery: every attempt's answer, and the body it sends."""

    async def work(app: application.App) -> None:
        found, attempts, body = await app.gateway.webhooks.delivery(
            delivery_id, account=await pick_account(app, account)
        )
        console.print(
            f"delivery {found.id}: {found.kind.value} to {found.url}, {found.state.value}, "
            f"{found.attempts} attempt(s)"
        )
        for a in attempts:
            answer = f"HTTP {a.status}" if a.status is not None else "no answer"
            console.print(
                f"  {a.at:%Y-%m-%d %H:%M:%S} {answer} in {a.duration_ms} ms {a.error or ''}".rstrip()
            )
        console.print(body.decode() if body else "")

    run(work)


@webhooks_cli.command("replay")
def webhooks_replay(
    delivery_ids: Annotated[list[int] | None, typer.Argument()] = None,
    failed: Annotated[bool, typer.Option(help="every delivery that gave up")] = False,
    account: AccountOption = None,
) -> None:
    """Sends deliveries again from now (the running server picks them up)."""

    async def work(app: application.App) -> None:
        done = await app.gateway.webhooks.replay(
            account=await pick_account(app, account),
            ids=delivery_ids or None,
            state=DeliveryState.FAILED if failed else None,
        )
        console.print(f"replaying {len(done)} deliver{'y' if len(done) == 1 else 'ies'}")

    run(work)


from smsgate import campaigns_cli  # noqa: E402 (it uses the helpers above)

cli.add_typer(campaigns_cli.contacts_cli, name="contacts")
cli.add_typer(campaigns_cli.lists_cli, name="lists")
cli.add_typer(campaigns_cli.optouts_cli, name="optouts")
cli.add_typer(campaigns_cli.campaigns_cli, name="campaigns")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
