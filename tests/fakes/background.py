"""Serve an aiohttp application on 127.0.0.1 from a thread, so that synchronous tests, async
tests and other processes can all reach it by URL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web


class BackgroundServer:
    def __init__(self, make_app: Callable[[], web.Application]) -> None:
        self._make_app = make_app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> str:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self.url = future.result(timeout=10)
        return self.url

    def stop(self) -> None:
        """Stop serving; calling it again does nothing."""
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _stop(self) -> None:
        """Close the server, then end the handlers still running (a long poll the fake holds
        open): a loop closed under a pending task would print "Task was destroyed" at exit."""
        if self._runner is not None:
            await self._runner.cleanup()
        running = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def _start(self) -> str:
        self._runner = web.AppRunner(self._make_app(), handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}"


def routed_app(middleware: Any, routes: Sequence[tuple[str, str, Any]]) -> web.Application:
    """An application with one middleware and these (method, path, handler) routes."""
    app = web.Application(middlewares=[middleware])
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
    return app


class ServedFake:
    """A fake broker served by a `BackgroundServer` (`self._server`): start, stop, its URL."""

    _server: BackgroundServer

    def start(self) -> str:
        return self._server.start()

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url
