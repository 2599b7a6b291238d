"""A local fake of the Telegram Bot API: `getUpdates` (long polling) and `sendMessage`.

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
  Message.
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
            with self._lock:
                self.sent.append(body)
            return web.json_response({"ok": True, "result": {"message_id": len(self.sent),
                                      "chat": {"id": body["chat_id"]}, "text": text}})
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
