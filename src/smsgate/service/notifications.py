"""Notifications to people outside SMS (a Telegram chat), for doors whose vendors offer them."""

from __future__ import annotations

from smsgate.core import errors
from smsgate.core.accounts import Account
from smsgate.core.ports import Telegram

MAX_TEXT = 4096  # Telegram's limit for one message


class Notifications:
    def __init__(self, telegram: Telegram | None) -> None:
        self._telegram = telegram

    async def telegram(self, chat_id: str, text: str, *, account: Account) -> None:
        """Sends `text` to a Telegram chat (a user's id) through the configured bot."""
        chat = chat_id.strip()
        if not chat or len(chat) > 64 or not chat.lstrip("-@").replace("_", "").isalnum():
            raise errors.BadParameter("the Telegram id is a number (or @channel name)")
        if not text.strip():
            raise errors.EmptyText("the message text is empty")
        if len(text) > MAX_TEXT:
            raise errors.TextTooLong(f"a Telegram message has at most {MAX_TEXT} characters")
        if self._telegram is None:
            raise errors.Unavailable("no Telegram bot is configured (SMSGATE_TELEGRAM_BOT_TOKEN)")
        await self._telegram.send(chat, text)
