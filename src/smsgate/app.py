"""app.build(settings) wires everything; app.asgi(app) is the HTTP face of it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from smsgate import __version__, access
from smsgate.api import billing as api_billing
from smsgate.api import problems
from smsgate.api import routes as api_routes
from smsgate.api import senders as api_senders
from smsgate.api import webhooks as webhook_routes
from smsgate.api.hot import NATIVE, HotPaths
from smsgate.channels.runner import Runner, RunnerSettings
from smsgate.channels.simulator import SimulatedPhone
from smsgate.config import Settings
from smsgate.core import errors
from smsgate.core.clock import SystemClock
from smsgate.core.devices import Kind
from smsgate.core.ports import Clock
from smsgate.devices import routes as device_routes
from smsgate.dialects.semysms import errors as semysms_errors
from smsgate.dialects.semysms import routes as semysms_routes
from smsgate.dialects.smsc import errors as smsc_errors
from smsgate.dialects.smsc import routes as smsc_routes
from smsgate.dialects.smsgate_app import doors as android_doors
from smsgate.dialects.smsgate_app.service import AppService
from smsgate.dialects.smsgate_app.store import Links
from smsgate.dialects.smsgateway24 import errors as sg24_errors
from smsgate.dialects.smsgateway24 import routes as sg24_routes
from smsgate.dialects.voipcomms import errors as voipcomms_errors
from smsgate.dialects.voipcomms import routes as voipcomms_routes
from smsgate.dispatch.hub import Hub
from smsgate.dispatch.worker import Worker
from smsgate.metrics import CONTENT_TYPE_LATEST, Metrics
from smsgate.service import Gateway
from smsgate.service.channels import ChannelDispatcher
from smsgate.storage import migrate, notify
from smsgate.storage.billing import Ledger
from smsgate.storage.campaigns import CampaignStore
from smsgate.storage.contacts import ContactStore
from smsgate.storage.database import Database, Options
from smsgate.storage.directory import Directory
from smsgate.storage.leases import LeaseRules
from smsgate.storage.limits import Limiter
from smsgate.storage.messages import MessageStore, RetryRules
from smsgate.storage.senders import SenderStore
from smsgate.storage.webhooks import WebhookStore
from smsgate.webhooks.deliver import Deliverer
from smsgate.webhooks.telegram import TelegramBot

log = logging.getLogger("smsgate")

ADMIN_EMAIL = "admin@localhost"
CREDENTIALS_FILE = "first-start.txt"  # in the data directory, readable by its owner only
DOCS_ASSETS = "/docs/assets"


@dataclass
class Welcome:
    """What a fresh install made; the secrets go to the person (terminal, owner-only file), never to logs."""

    email: str
    password: str
    key: str
    device_id: int
    path: Path | None = None  # the credentials file

    @property
    def text(self) -> str:
        return (
            f"# smsgate: the first start's credentials ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC).\n"
            "# Keep them somewhere safe, then delete this file. Lost them? `smsgate keys create NAME`\n"
            "# makes a new API key, `smsgate accounts password EMAIL` sets a password.\n"
            f"email: {self.email}\n"
            f"password: {self.password}\n"
            f"api key: {self.key}\n"
            f"simulated phone: device {self.device_id}\n"
        )


def shared_metrics(settings: Settings) -> Metrics:
    """Metrics every process on this data directory adds to (server workers, CLI commands)."""
    return Metrics(directory=settings.data_dir / "metrics")


def save_credentials(directory: Path, welcome: Welcome) -> Path:
    """Writes the welcome's secrets to a file only its owner can read (0600, from its creation on)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = (directory / CREDENTIALS_FILE).resolve()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)  # an older file of another mode is narrowed too
        handle.write(welcome.text)
    return path


@dataclass
class App:
    """Everything wired: the gateway every door calls, its workers, and the parts behind it (the
    stores, hub and clock are here for the wiring and for tests; doors never touch them)."""

    settings: Settings
    db: Database
    gateway: Gateway
    smsgate_app: AppService
    worker: Worker
    channels: list[Runner]  # one runner per server-side channel: the simulated phone first
    deliverer: Deliverer
    metrics: Metrics
    store: MessageStore
    directory: Directory
    hub: Hub
    clock: Clock
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self, *, background: bool = True, welcome: bool = True) -> Welcome | None:
        """Migrates; on a fresh install (and `welcome`) makes the first account; starts the workers."""
        await migrate.upgrade(self.db)
        greeting = await first_run(self.gateway) if welcome else None
        if greeting is not None:
            greeting.path = save_credentials(self.settings.data_dir, greeting)
        if background:
            self.tasks = [
                asyncio.create_task(self.worker.run(), name="dispatch"),
                *(asyncio.create_task(c.run(), name=f"channel {c.kind}") for c in self.channels),
                asyncio.create_task(self.deliverer.run(), name="webhooks"),
                asyncio.create_task(
                    self.gateway.campaigns.run(self.settings.sweep_interval), name="campaigns"
                ),
            ]
            if not self.db.is_sqlite:
                self.tasks.append(asyncio.create_task(self._listen(), name="listen"))
        return greeting

    async def _listen(self) -> None:
        await notify.listen(self.db.url, self.gateway.dispatch.wake)

    async def schema_revision(self) -> str | None:
        """The database's migration revision (None before the first)."""
        return await migrate.current(self.db)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks = []
        await self.gateway.dispatch.drain()
        await self.db.close()
        self.metrics.close()


def build(settings: Settings, *, clock: Clock | None = None, metrics: Metrics | None = None) -> App:
    """Wires the gateway for these settings; tests pass a fake `clock`. `smsgate serve` and the
    CLI pass `shared_metrics(settings)`: counts of every process on the data directory."""
    db = Database(
        settings.url,
        Options(
            synchronous=settings.sqlite_synchronous, search_path=settings.database_schema or None
        ),
    )
    metrics = metrics or Metrics()
    policy = settings.policy
    store = MessageStore(
        db,
        rules=LeaseRules(urgent_bypasses_pace=policy.urgent_bypasses_pace),
        retry=RetryRules(max_attempts=policy.max_attempts, backoff=policy.retry_backoff),
    )
    directory, hub, clock = Directory(db), Hub(), clock or SystemClock()
    gateway = Gateway(
        store=store,
        directory=directory,
        ledger=Ledger(db),
        limiter=Limiter(db),
        webhooks=WebhookStore(db),
        senders=SenderStore(db),
        hub=hub,
        clock=clock,
        policy=policy,
        metrics=metrics,
        delivery=settings.delivery,
        contacts=ContactStore(db),
        campaigns=CampaignStore(db),
        telegram=TelegramBot(settings.telegram_bot_token, api=settings.telegram_api),
    )
    channels = ChannelDispatcher(gateway)
    simulated = RunnerSettings(batch=settings.simulator.batch, rescan=settings.simulator.rescan)
    return App(
        settings=settings,
        db=db,
        gateway=gateway,
        smsgate_app=AppService(gateway, Links(db)),
        worker=Worker(
            gateway.dispatch.sweep,
            gauges=gateway.devices.refresh_gauges,
            interval=settings.sweep_interval,
        ),
        channels=[
            Runner(channels, SimulatedPhone(settings.simulator), simulated),
        ],
        deliverer=Deliverer(gateway),
        metrics=metrics,
        store=store,
        directory=directory,
        hub=hub,
        clock=clock,
    )


async def first_run(gateway: Gateway) -> Welcome | None:
    """A fresh install gets an admin account, an API key and a simulated phone."""
    if await gateway.accounts.count():
        return None
    password = secrets.token_urlsafe(12)
    try:
        account = await gateway.accounts.create(ADMIN_EMAIL, password, is_admin=True)
    except errors.Conflict:  # another node starting at the same moment made it
        return None
    _, key = await gateway.accounts.create_key(account, "first key")
    device, _ = await gateway.devices.register(
        "Simulated phone", account=account, kind=Kind.SIMULATOR
    )
    return Welcome(email=account.email, password=password, key=key, device_id=device.id)


def asgi(
    app: App,
    *,
    on_welcome: Callable[[Welcome], object] | None = None,
    on_restart: Callable[[], object] | None = None,
    background: bool = True,
) -> FastAPI:
    """`on_welcome` hears of a fresh install's first start, `on_restart` of every later one."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        welcome = await app.start(background=background)
        if welcome is not None and on_welcome is not None:
            on_welcome(welcome)
        elif welcome is None and on_restart is not None:
            on_restart()
        try:
            yield
        finally:
            await app.stop()

    api = FastAPI(
        title="smsgate",
        version=__version__,
        summary="A self-hosted SMS gateway: the native API. Errors are problem+json (RFC 9457).",
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False},  # it read the environment on every request
        docs_url=None,  # served below from files installed with fastapi-offline: no CDN
        redoc_url=None,
    )
    install_docs(api)
    api.state.gateway = app.gateway
    api.state.app = app
    problems.install(api)
    hot = {
        **NATIVE,
        **{
            (method, f"{semysms_routes.PREFIX}/sms.php"): semysms_routes.send_one
            for method in ("GET", "POST")
        },
        ("POST", voipcomms_routes.SEND): voipcomms_routes.send,
        **smsc_routes.HOT,
        **sg24_routes.HOT,
    }
    api.add_middleware(HotPaths, routes=hot)
    if app.settings.access_log:
        api.add_middleware(access.AccessLog)  # outermost: it times and logs the hot paths too
    api.include_router(api_routes.router)
    api.include_router(api_billing.router)
    api.include_router(webhook_routes.router)
    api.include_router(api_senders.router)
    api.include_router(device_routes.router)
    android_doors.install(api, app.smsgate_app)
    api.include_router(semysms_routes.router)
    problems.add_door(api, semysms_routes.PREFIX + "/", semysms_errors.render)
    api.include_router(voipcomms_routes.router)
    problems.add_door(api, voipcomms_errors.DOOR.prefix, voipcomms_errors.render)
    api.include_router(smsc_routes.router)
    problems.add_door(api, smsc_routes.PREFIX + "/", smsc_errors.render)
    api.include_router(sg24_routes.router)
    problems.add_door(api, sg24_errors.PREFIX + "/", sg24_errors.answer)

    @api.get("/healthz", tags=["operations"])
    async def healthz() -> Response:
        """ok, or 503 with the reason while the store cannot write (it recovers by itself)."""
        from sqlalchemy import text

        async with app.db.read() as connection:
            await connection.execute(text("SELECT 1"))
        failure = app.db.health.failure
        if failure is not None:
            body = {"status": "unavailable", "reason": failure.cause}
            return Response(
                orjson.dumps(body),
                status_code=503,
                media_type="application/json",
                headers={"Retry-After": "5"},
            )
        return Response('{"status":"ok"}', media_type="application/json")

    @api.get("/metrics", tags=["operations"])
    async def metrics(_: Request) -> Response:
        app.metrics.waiting_devices.set(app.gateway.dispatch.waiting)
        return Response(app.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return api


def install_docs(api: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc from the assets the fastapi-offline package ships."""
    import fastapi_offline

    assets = Path(fastapi_offline.__file__).parent / "static"
    api.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")
    oauth = api.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @api.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{api.openapi_url}",
            title=f"{api.title} - API documentation",
            oauth2_redirect_url=f"{root}{oauth}",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},  # its badge is fetched from the internet
        )

    @api.get(oauth, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @api.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{api.openapi_url}",
            title=f"{api.title} - API reference",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
