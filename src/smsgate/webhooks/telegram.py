"""A Telegram bot (the Bot API's sendMessage), for notifications a door asks for.

The bot token and the API's base address come from the settings (SMSGATE_TELEGRAM_BOT_TOKEN,
SMSGATE_TELEGRAM_API), so tests and air-gapped installs point it at a stand-in.
"""

from __future__ import annotations

import httpx

from smsgate.core import errors


class TelegramBot:
    def __init__(self, token: str, *, api: str = "https://api.telegram.org", timeout: float = 10.0):
        self._token = token
        self._api = api.rstrip("/")
        self._timeout = timeout

    async def send(self, chat_id: str, text: str) -> None:
        if not self._token:
            raise errors.Unavailable("no Telegram bot is configured (SMSGATE_TELEGRAM_BOT_TOKEN)")
        url = f"{self._api}/bot{self._token}/sendMessage"
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                answer = await http.post(url, json={"chat_id": chat_id, "text": text})
        except httpx.HTTPError as exc:
            raise errors.Unavailable(f"Telegram cannot be reached: {type(exc).__name__}") from None
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if answer.status_code != 200 or not isinstance(body, dict) or body.get("ok") is not True:
            said = body.get("description") if isinstance(body, dict) else None
            if answer.status_code in (400, 403):
                raise errors.BadParameter(
                    f"Telegram refused the message: {said or answer.status_code}"
                )
            raise errors.Unavailable(
                f"Telegram answered {answer.status_code}: {said or 'no reason'}"
            )
