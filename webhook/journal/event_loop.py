"""The event loop a journal can run on.

psycopg's async connection refuses Windows' Proactor loop, which is Python's default there and
the one uvicorn picks, so a PostgreSQL journal on Windows runs on a selector loop instead. A
selector loop on Windows waits with `select()`, which watches at most 512 sockets: keep
`max_connections` below that there (docs/windows.md). Everywhere else, and for SQLite, the
default loop stays.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from webhook.journal.postgres_url import SCHEMES

LoopFactory = Callable[[], asyncio.AbstractEventLoop]
SELECTOR_FOR_UVICORN = "asyncio:SelectorEventLoop"
"""uvicorn's `loop=` setting: a name it knows, or the loop factory itself as `module:name`."""
T = TypeVar("T")
_POSTGRES_PREFIXES = tuple(f"{scheme}://" for scheme in SCHEMES)


def needs_selector_loop(journal: str, platform: str | None = None) -> bool:
    """True when this journal cannot run on the platform's default loop."""
    return (platform or sys.platform) == "win32" and journal.startswith(_POSTGRES_PREFIXES)


def journal_loop_factory(journal: str, platform: str | None = None) -> LoopFactory | None:
    """The loop factory for `asyncio.Runner`: a selector loop where needed, else the default."""
    return asyncio.SelectorEventLoop if needs_selector_loop(journal, platform) else None


def uvicorn_loop(journal: str, platform: str | None = None) -> str:
    """uvicorn's `loop=` setting for this journal."""
    return SELECTOR_FOR_UVICORN if needs_selector_loop(journal, platform) else "auto"


def run_with_journal(journal: str, work: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(work)` on a loop this journal can use (the CLI's journal commands)."""
    with asyncio.Runner(loop_factory=journal_loop_factory(journal)) as runner:
        return runner.run(work)
