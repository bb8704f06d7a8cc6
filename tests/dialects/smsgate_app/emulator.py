"""A phone running the SMSGate app, written from the protocol doc (shared/protocols/android-smsgate-app.md).

It speaks only HTTP to a real smsgate on loopback, the way app v1.68 does: it registers (M1),
patches its device (M3), pulls (M4) and keeps what it pulled by id (a known id only re-sends its
state), reports each local state change with per-recipient states and the whole history (M5),
installs its webhook list (M6) and settings (M7), listens on the event stream (M8; the stream's
User-Agent is okhttp's), and posts signed webhooks (HMAC-SHA256 over raw body + X-Timestamp).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx


def now_text() -> str:
    """The app's time shape, with its own offset: yyyy-MM-dd'T'HH:mm:ss.SSSXXX."""
    now = datetime.now(UTC).astimezone()
    return now.isoformat(timespec="milliseconds")


@dataclass
class Local:
    """The app's own row for one message (it keeps its state per recipient)."""

    id: str
    text: str
    recipients: dict[str, str]  # number -> state
    states: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> str:
        values = list(self.recipients.values())
        if "Pending" in values:
            return "Pending"
        for waiting in ("Cancelling", "Cancelled", "Processed"):
            if waiting in values:
                return waiting
        if all(v == "Failed" for v in values):
            return "Failed"
        if all(v == "Delivered" for v in values):
            return "Delivered"
        return "Sent"


@dataclass
class Event:
    kind: str
    data: Any
    at: float  # time.perf_counter() when the phone read it


class Phone:
    def __init__(
        self, server_url: str, *, version: str = "1.68.0", name: str = "samsung/a52qnsxx"
    ) -> None:
        self.base = f"{server_url}/api/mobile/v1"
        self.version = version
        self.name = name
        self.agent = f"me.capcom.smsgateway/{version}"
        self.http = httpx.AsyncClient(
            base_url=self.base, headers={"User-Agent": self.agent}, timeout=30
        )
        self.id: str | None = None
        self.token: str | None = None
        self.local: dict[str, Local] = {}
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.keepalives = 0
        self.signing_key = "".join(
            secrets.choice("abcdefgh") for _ in range(8)
        )  # the app's random default
        self.hooks: list[dict[str, Any]] = []
        self._stream: asyncio.Task[None] | None = None
        self._stream_open = asyncio.Event()

    async def close(self) -> None:
        await self.close_stream()
        await self.http.aclose()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    # --- M1-M3 ------------------------------------------------------------------------------------

    async def register(
        self,
        *,
        private_token: str | None = None,
        login: tuple[str, str] | None = None,
        code: str | None = None,
        sims: int = 2,
    ) -> httpx.Response:
        if private_token is not None:
            header = f"Bearer {private_token}"
        elif login is not None:
            header = "Basic " + base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
        elif code is not None:
            header = f"Code {code}"
        else:
            header = ""
        body: dict[str, Any] = {"name": self.name, "simCards": self.sim_cards(sims)}
        answer = await self.http.post(
            "/device", json=body, headers={"Authorization": header} if header else {}
        )
        if answer.status_code == 201:
            self.id, self.token = answer.json()["id"], answer.json()["token"]
        return answer

    @staticmethod
    def sim_cards(count: int) -> list[dict[str, Any]]:
        cards = [
            {
                "slotIndex": 0,
                "simNumber": 1,
                "phoneNumber": "*******4567",
                "carrierName": "***Mobile",
                "iccid": "****1234",
            },
            {"slotIndex": 1, "simNumber": 2},
        ]
        return cards[:count]

    async def patch_device(self, **fields: Any) -> httpx.Response:
        return await self.http.patch("/device", json={"id": self.id, **fields}, headers=self.auth)

    # --- M4, M5: the app's GatewayService.processMessage ----------------------------------------

    async def pull(self, order: str = "lifo") -> list[dict[str, Any]]:
        answer = await self.http.get("/message", params={"order": order}, headers=self.auth)
        answer.raise_for_status()
        fresh = []
        for item in answer.json():
            known = self.local.get(item["id"])
            if item.get("state") == "Cancelling":
                if known is None or known.state == "Pending":
                    local = known or Local(
                        item["id"], item["message"], {n: "Pending" for n in item["phoneNumbers"]}
                    )
                    self.local[item["id"]] = local
                    await self.set_state(local, "Cancelled")
                continue
            if known is not None:  # a known id: just re-send its state
                await self.send_state(known)
                continue
            local = Local(
                item["id"],
                item.get("textMessage", {}).get("text", item["message"]),
                {n: "Pending" for n in item["phoneNumbers"]},
                {"Pending": now_text()},
            )
            self.local[item["id"]] = local
            fresh.append(item)
        return fresh

    async def set_state(
        self, local: Local, state: str, *, error: str | None = None, only: str | None = None
    ) -> httpx.Response:
        for number in local.recipients:
            if only is None or number == only:
                local.recipients[number] = state
                if error:
                    local.errors[number] = error
        local.states[state] = now_text()
        return await self.send_state(local)

    async def send_state(self, local: Local) -> httpx.Response:
        recipients = [
            {
                "phoneNumber": n,
                "state": s,
                **({"error": local.errors[n]} if n in local.errors else {}),
            }
            for n, s in local.recipients.items()
        ]
        body = [
            {"id": local.id, "state": local.state, "recipients": recipients, "states": local.states}
        ]
        return await self.http.patch("/message", json=body, headers=self.auth)

    STEPS: ClassVar[dict[str, tuple[str, ...]]] = {
        "Delivered": ("Processed", "Sent", "Delivered"),
        "Sent": ("Processed", "Sent"),
        "Failed": ("Processed", "Failed"),
        "Undelivered": ("Processed", "Sent", "Failed"),
    }

    async def send_through(
        self, message_id: str, final: str = "Delivered", error: str | None = None
    ) -> None:
        """Hands a pulled message to the radio and reports each step, as the app does."""
        local = self.local[message_id]
        for state in self.STEPS[final]:
            answer = await self.set_state(local, state, error=error if state == "Failed" else None)
            assert answer.status_code == 204, answer.text

    # --- M6, M7 -----------------------------------------------------------------------------------

    async def sync_webhooks(self) -> list[dict[str, Any]]:
        answer = await self.http.get("/webhooks", headers=self.auth)
        answer.raise_for_status()
        self.hooks = answer.json()
        for hook in self.hooks:
            assert hook["id"] and hook["url"] and hook["event"]  # the app's toDTO() needs them
        return self.hooks

    async def sync_settings(self) -> dict[str, Any]:
        answer = await self.http.get("/settings", headers=self.auth)
        answer.raise_for_status()
        settings = answer.json()
        key = settings.get("webhooks", {}).get("signing_key")
        if key:
            self.signing_key = key
        return settings

    # --- M8 ---------------------------------------------------------------------------------------

    async def open_stream(self) -> None:
        self._stream_open.clear()
        self._stream = asyncio.create_task(self._listen())
        opened = asyncio.create_task(self._stream_open.wait())
        done, _ = await asyncio.wait(
            {opened, self._stream}, timeout=10, return_when=asyncio.FIRST_COMPLETED
        )
        if self._stream in done:
            opened.cancel()
            self._stream.result()
        assert opened in done, "the event stream did not open"

    async def _listen(self) -> None:
        headers = {**self.auth, "User-Agent": "okhttp/4.10.0", "Accept": "text/event-stream"}
        async with self.http.stream(
            "GET", "/events", headers=headers, timeout=httpx.Timeout(30, read=3600)
        ) as answer:
            answer.raise_for_status()
            assert answer.headers["content-type"].startswith("text/event-stream")
            self._stream_open.set()
            kind, data = None, None
            async for line in answer.aiter_lines():
                if line.startswith(":"):
                    self.keepalives += 1
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data = json.loads(line[5:].strip())
                elif line == "" and kind is not None:
                    await self.events.put(Event(kind, data, time.perf_counter()))
                    kind, data = None, None

    async def close_stream(self) -> None:
        if self._stream is not None:
            self._stream.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._stream
            self._stream = None

    async def next_event(self, kind: str | None = None, timeout: float = 10.0) -> Event:
        while True:
            event = await asyncio.wait_for(self.events.get(), timeout)
            if kind is None or event.kind == kind:
                return event

    # --- webhooks (the app's SendWebhookWorker with PayloadSigningPlugin) ---------------------------

    def hook_for(self, event: str) -> str:
        return next(h["url"] for h in self.hooks if h["event"] == event)

    async def post_hook(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        delivery: str | None = None,
        timestamp: int | None = None,
        key: str | None = None,
        url: str | None = None,
    ) -> httpx.Response:
        envelope = {
            "id": delivery or secrets.token_urlsafe(15),
            "webhookId": f"smsgate-{event}",
            "event": event,
            "deviceId": self.id,
            "payload": payload,
        }
        # the app's Gson escapes <, >, &, = and ': the signature covers these exact bytes
        body = (
            json.dumps(envelope, ensure_ascii=False)
            .replace("&", "\\u0026")
            .replace("=", "\\u003d")
            .encode()
        )
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signature = hmac.new(
            (key or self.signing_key).encode(), body + stamp.encode(), hashlib.sha256
        ).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Signature": signature,
            "X-Timestamp": stamp,
        }
        async with httpx.AsyncClient(timeout=30, headers={"User-Agent": self.agent}) as client:
            return await client.post(url or self.hook_for(event), content=body, headers=headers)
