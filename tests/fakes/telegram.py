"""A local fake of the Telegram Bot API: `getUpdates` (long polling), `sendMessage` with inline
keyboards, `answerCallbackQuery` and `editMessageReplyMarkup`.

Rules, each from https://core.telegram.org/bots/api:
- #making-requests: methods are at `/bot<token>/METHOD`, take JSON bodies, and answer
  `{"ok": true, "result": ...}`, or `{"ok": false, "error_code": N, "description": "..."}`; a
  wrong token answers 401 "Unauthorized" (the page names error_code and description; the exact
  401 text is not on the page: unconfirmed, taken from what bots commonly see).
- #getupdates: `offset` confirms every update whose `update_id` is lower; `timeout` is how long
  to wait for one when none is pending (long polling); the result is an array of Update.
- #update / #message / #chat: an Update has `update_id` and `message`; a Message has `chat`
  (with `id`, an integer) and `text`.
- #sendmessage: `chat_id` and `text` (1-4096 characters) are required; the result is the sent
  Message. Its optional `reply_markup` may be an #inlinekeyboardmarkup: `inline_keyboard`, an
  array of rows of #inlinekeyboardbutton, each with `text` and here `callback_data` (1-64 bytes).
- #callbackquery: pressing such a button gives an Update with `callback_query`: `id` (a string),
  `from` (a User), `message` (the message the button was under) and `data` (its callback_data).
- #answercallbackquery: `callback_query_id` is required, `text` is 0-200 characters; the result
  is True.
- #editmessagereplymarkup: `chat_id` and `message_id` name the message; without `reply_markup`
  its inline keyboard is removed. The result is the edited Message (here the page's "or True"
  case for inline messages does not arise). What the real API answers for a message that has no
  keyboard any more is not on the page: the fake answers ok.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web

from tests.fakes.background import BackgroundServer


class FakeBotApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.sent: list[dict[str, Any]] = []
        """Every sendMessage body received, in order."""
        self.notices: list[dict[str, Any]] = []
        """Every answerCallbackQuery body received."""
        self.edits: list[dict[str, Any]] = []
        """Every editMessageReplyMarkup body received."""
        self.polls = 0
        self._pending: list[dict[str, Any]] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._server = BackgroundServer(self._app)
        self._arrived: asyncio.Event | None = None

    def start(self) -> str:
        return self._server.start()

    def stop(self) -> None:
        self._server.stop()

    @property
    def send_url(self) -> str:
        return f"{self._server.url}/bot{self.token}/sendMessage"

    def write(self, chat_id: int, text: str) -> None:
        """A person writes `text` in chat `chat_id`."""
        with self._lock:
            self._pending.append({"update_id": self._next_id, "message": {
                "message_id": self._next_id, "date": 0, "text": text,
                "chat": {"id": chat_id, "type": "private"}}})
            self._next_id += 1
        loop, arrived = self._server_loop(), self._arrived
        if loop is not None and arrived is not None:
            loop.call_soon_threadsafe(arrived.set)

    def press(self, chat_id: int, message: dict[str, Any], button: str) -> None:
        """A person in chat `chat_id` presses the button labelled `button` under `message`
        (a sendMessage body the fake received)."""
        rows = message["reply_markup"]["inline_keyboard"]
        data = next(b["callback_data"] for row in rows for b in row if b["text"] == button)
        with self._lock:
            message_id = self.sent.index(message) + 1
            self._pending.append({"update_id": self._next_id, "callback_query": {
                "id": f"query-{self._next_id}", "from": {"id": chat_id, "is_bot": False,
                                                         "first_name": "Trader"},
                "message": {"message_id": message_id, "date": 0, "text": message["text"],
                            "chat": {"id": chat_id, "type": "private"}},
                "chat_instance": "1", "data": data}})
            self._next_id += 1
        loop, arrived = self._server_loop(), self._arrived
        if loop is not None and arrived is not None:
            loop.call_soon_threadsafe(arrived.set)

    def replies_to(self, chat_id: int) -> list[str]:
        with self._lock:
            return [m["text"] for m in self.sent if str(m["chat_id"]) == str(chat_id)]

    def _server_loop(self) -> asyncio.AbstractEventLoop | None:
        loop: asyncio.AbstractEventLoop = self._server._loop  # noqa: SLF001
        return None if loop.is_closed() else loop

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._method)
        return app

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        body = await request.json()
        method = request.match_info["method"]
        if method == "getUpdates":
            return await self._get_updates(body)
        if method == "sendMessage":
            text = body.get("text")
            if "chat_id" not in body or not isinstance(text, str) or not 1 <= len(text) <= 4096:
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "Bad Request: message text is empty"},
                                         status=400)
            if (problem := _keyboard_problem(body.get("reply_markup"))) is not None:
                return _bad_request(problem)
            with self._lock:
                self.sent.append(body)
            return web.json_response({"ok": True, "result": {"message_id": len(self.sent),
                                      "chat": {"id": body["chat_id"]}, "text": text}})
        if method == "answerCallbackQuery":
            if not isinstance(body.get("callback_query_id"), str) or len(
                    str(body.get("text", ""))) > 200:
                return _bad_request("Bad Request: query is too old or text is too long")
            self.notices.append(body)
            return web.json_response({"ok": True, "result": True})
        if method == "editMessageReplyMarkup":
            if "chat_id" not in body or not isinstance(body.get("message_id"), int):
                return _bad_request("Bad Request: message to edit not found")
            self.edits.append(body)
            return web.json_response({"ok": True, "result": {"message_id": body["message_id"]}})
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"},
                                 status=404)

    async def _get_updates(self, body: dict[str, Any]) -> web.Response:
        self.polls += 1
        if self._arrived is None:
            self._arrived = asyncio.Event()
        offset = body.get("offset")
        with self._lock:
            if isinstance(offset, int):
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            waiting = not self._pending
            if waiting:
                self._arrived.clear()
        if waiting:
            try:
                await asyncio.wait_for(self._arrived.wait(), min(float(body.get("timeout", 0)),
                                                                 30.0))
            except TimeoutError:
                pass
        with self._lock:
            result = list(self._pending)
        return web.json_response({"ok": True, "result": result})


def _bad_request(description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": 400, "description": description},
                             status=400)


def _keyboard_problem(markup: Any) -> str | None:
    if markup is None:
        return None
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        return "Bad Request: can't parse inline keyboard button"
    for button in (b for row in rows for b in row):
        data = button.get("callback_data") if isinstance(button, dict) else None
        if not isinstance(button.get("text"), str) or not isinstance(data, str) or not (
                1 <= len(data.encode()) <= 64):
            return "Bad Request: BUTTON_DATA_INVALID"
    return None
