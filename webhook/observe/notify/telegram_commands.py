"""Chat commands for a Telegram notification target (`commands = true`), over the Bot API.

The bot asks for its messages by long polling (`getUpdates`, https://core.telegram.org/bots/api
#getupdates: `offset` one more than the last `update_id` confirms what came before, `timeout`
seconds of waiting) and answers with `sendMessage`. Only messages from `command_chats` (or the
target's `chat_id`) are obeyed; any other chat is told it is not allowed, and nothing happens.

    /status     the kill switch, each plugin's health, the journal
    /positions  balances and open positions per plugin
    /signals    the newest signals
    /kill       engage the kill switch (releasing it stays in the dashboard)

An `awaiting_approval` message carries Approve and Decline buttons (`InlineKeyboardMarkup`,
`messages.approval_buttons`). A press arrives as a `callback_query` update (https://core.telegram
.org/bots/api#callbackquery: `id`, `data`, and the `message` it was under, whose `chat` is where
it was pressed); it is obeyed only from the same chats as the commands, answered with
`answerCallbackQuery` (#answercallbackquery: `text` of 0-200 characters shown to the presser),
the outcome is written to the chat, and the buttons are taken off the message
(#editmessagereplymarkup: without `reply_markup`, the inline keyboard is removed).

The bot token is in the target's `url` (`https://api.telegram.org/bot<token>/sendMessage`): the
method URLs are made from it, and no log line or error carries it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import httpx

from webhook.observe.notify.messages import APPROVE, DECLINE
from webhook.observe.notify.targets import NotificationTarget

logger = logging.getLogger("tradehook.notify.commands")

POLL_SECONDS = 25
"""How long one `getUpdates` waits for a message (long polling)."""
RETRY_SECONDS = (1.0, 2.0, 5.0, 15.0, 30.0)
"""Pauses after failed polls, the last repeated: an unreachable Bot API is not hammered."""
MAX_TEXT = 4096
"""sendMessage's `text` limit (https://core.telegram.org/bots/api#sendmessage)."""
MAX_NOTICE = 200
"""answerCallbackQuery's `text` limit."""
REFUSED = "This chat may not command tradehook."
HELP = ("/status: kill switch, plugins, journal\n/positions: balances and positions\n"
        "/signals: the newest signals\n/kill: engage the kill switch")


class BotApiError(Exception):
    """A Bot API call failed: unreachable, or it answered without `ok`."""


class CommandActions(Protocol):
    """What the commands do in the running server."""

    async def status(self) -> str: ...
    async def positions(self) -> str: ...
    async def signals(self) -> str: ...
    async def kill(self, reason: str) -> str: ...
    async def approve(self, signal_id: str, by: str) -> str: ...
    async def decline(self, signal_id: str, by: str) -> str: ...


async def run_command(actions: CommandActions, command: str, by: str) -> str | None:
    """The answer to `status`, `positions`, `signals` or `kill` (named without its slash, in
    lower case) from `by`; None for any other command."""
    if command == "status":
        return await actions.status()
    if command == "positions":
        return await actions.positions()
    if command == "signals":
        return await actions.signals()
    if command == "kill":
        return await actions.kill(f"/kill from {by}")
    return None


class TelegramCommands:
    def __init__(self, target: NotificationTarget, actions: CommandActions, *,
                 poll_seconds: int = POLL_SECONDS) -> None:
        self._api = target.url.get_secret_value().rsplit("/", 1)[0]
        self._chats = set(target.command_chats or (target.chat_id or "",)) - {""}
        self._actions = actions
        self._poll_seconds = poll_seconds
        self._offset: int | None = None
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=poll_seconds + 10))
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telegram-commands")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._client.aclose()

    async def poll_once(self) -> int:
        """One `getUpdates`; every message it brought is answered. Returns how many."""
        params: dict[str, Any] = {"timeout": self._poll_seconds,
                                  "allowed_updates": '["message", "callback_query"]'}
        if self._offset is not None:
            params["offset"] = self._offset
        updates = await self._call("getUpdates", params)
        if not isinstance(updates, list):
            raise BotApiError("getUpdates: result is not a list")
        for update in updates:
            if isinstance(update, dict) and isinstance(update.get("update_id"), int):
                self._offset = update["update_id"] + 1
                await self._answer(update.get("message"))
                await self._pressed(update.get("callback_query"))
        return len(updates)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self.poll_once()
                failures = 0
            except BotApiError as exc:
                pause = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                logger.warning("telegram commands: %s; polling again in %gs", exc, pause)
                await asyncio.sleep(pause)

    async def _answer(self, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            return
        chat = message.get("chat")
        chat_id = str(chat.get("id")) if isinstance(chat, dict) else ""
        if not chat_id:
            return
        if chat_id not in self._chats:
            logger.warning("telegram commands: refused a command from chat %s", chat_id)
            await self._send(chat_id, REFUSED)
            return
        command = message["text"].split(maxsplit=1)[0].split("@", 1)[0].lower()
        if not command.startswith("/"):
            reply: str | None = None
        else:
            reply = await run_command(self._actions, command[1:], f"Telegram chat {chat_id}")
        await self._send(chat_id, reply or HELP)

    async def _pressed(self, query: Any) -> None:
        """An Approve or Decline button was pressed under an approval message."""
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            return
        message = query.get("message")
        chat = message.get("chat") if isinstance(message, dict) else None
        chat_id = str(chat.get("id")) if isinstance(chat, dict) else ""
        action, _, signal_id = str(query.get("data") or "").partition(":")
        if chat_id not in self._chats:
            logger.warning("telegram commands: refused a button from chat %s", chat_id or "?")
            await self._notice(query["id"], REFUSED)
            return
        by = f"Telegram chat {chat_id}"
        if action == APPROVE and signal_id:
            reply = await self._actions.approve(signal_id, by)
        elif action == DECLINE and signal_id:
            reply = await self._actions.decline(signal_id, by)
        else:
            reply = "This button is not one of tradehook's."
        await self._notice(query["id"], reply)
        await self._send(chat_id, reply)
        if isinstance(message, dict) and isinstance(message.get("message_id"), int):
            await self._call("editMessageReplyMarkup",
                             {"chat_id": chat_id, "message_id": message["message_id"]})

    async def _notice(self, query_id: str, text: str) -> None:
        await self._call("answerCallbackQuery",
                         {"callback_query_id": query_id, "text": text[:MAX_NOTICE]})

    async def _send(self, chat_id: str, text: str) -> None:
        await self._call("sendMessage", {"chat_id": chat_id, "text": text[:MAX_TEXT],
                                         "disable_web_page_preview": True})

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        """A Bot API method: `{"ok": true, "result": ...}` or `{"ok": false, "description"}`
        (https://core.telegram.org/bots/api#making-requests)."""
        try:
            response = await self._client.post(f"{self._api}/{method}", json=params)
        except httpx.HTTPError as exc:
            raise BotApiError(f"{method}: {type(exc).__name__}") from None  # no token in it
        try:
            answer = response.json()
        except ValueError:
            raise BotApiError(f"{method}: answered {response.status_code}, not JSON") from None
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            described = answer.get("description") if isinstance(answer, dict) else None
            raise BotApiError(f"{method}: refused ({response.status_code}): {described}")
        return answer.get("result")
