"""One worker thread for a plugin whose broker library blocks (MetaTrader 5, NinjaTrader).

The calls run one at a time, in the order they were made, off the event loop: such libraries
are neither asynchronous nor safe to call from two threads at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from plugins.errors import NotStarted

T = TypeVar("T")


class WorkerThread:
    """`start()`, then any number of `await run(call)`, then `await close()`.

    `run` raises `NotStarted` (naming `plugin`) before `start` and after `close`. The thread is
    named after `thread_name`.
    """

    def __init__(self, plugin: str, thread_name: str) -> None:
        self._plugin = plugin
        self._thread_name = thread_name
        self._executor: ThreadPoolExecutor | None = None

    @property
    def running(self) -> bool:
        return self._executor is not None

    def start(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=self._thread_name)

    async def run(self, call: Callable[[], T]) -> T:
        """Run `call` on the thread, after the calls made before it, and return its result."""
        if self._executor is None:
            raise NotStarted(self._plugin)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def close(self, last: Callable[[], object] | None = None) -> None:
        """Run `last` (a disconnect) on the thread, if given, then let the thread end. Calls
        made from now on raise `NotStarted`."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            if last is not None:
                await asyncio.get_running_loop().run_in_executor(executor, last)
        finally:
            executor.shutdown(wait=False)
