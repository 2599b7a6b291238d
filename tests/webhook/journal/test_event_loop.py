"""A PostgreSQL journal on Windows runs on the selector loop: `tradehook serve` configures
uvicorn for it and the CLI's journal commands run on it.

No Windows here: `sys.platform` is patched to "win32" and `asyncio.ProactorEventLoop` (absent on
Linux) stands for Windows' default loop, which psycopg refuses by that check; the journal then
really opens, stores and reads a signal on the loop the configuration chose, against the
PostgreSQL server of tests/webhook/journal/postgres_helpers.py.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from tests.webhook.journal.journal_helpers import queued_signal
from tests.webhook.journal.postgres_helpers import scratch_schema
from webhook import serve as serve_module
from webhook.config.settings import Settings
from webhook.errors import JournalError
from webhook.journal.event_loop import LoopFactory, journal_loop_factory, run_with_journal
from webhook.journal.postgres import PostgresJournal


class StandInProactorLoop(asyncio.SelectorEventLoop):
    """Windows' default loop, as far as psycopg's `isinstance` check can tell."""


@pytest.fixture
def on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(asyncio, "ProactorEventLoop", StandInProactorLoop, raising=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with scratch_schema() as url:
        yield url


def uvicorn_config_of_serve(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> uvicorn.Config:
    """The uvicorn configuration `tradehook serve` builds, without serving."""
    built: list[uvicorn.Config] = []
    monkeypatch.setattr(serve_module._Server, "run", lambda self, sockets=None: built.append(
        self.config))
    monkeypatch.setattr(serve_module.gc, "freeze", lambda: None)
    monkeypatch.setattr(serve_module.gc, "set_threshold", lambda *thresholds: None)
    serve_module.serve(Starlette(), settings)
    return built[0]


async def store_and_read_back(url: str) -> list[str]:
    journal = PostgresJournal(url)
    await journal.open()
    try:
        stored = await journal.record(queued_signal())
        listed = await journal.list_signals(limit=5)
        return [stored.signal_id, *(record.id for record in listed)]
    finally:
        await journal.close()


def run_on(factory: LoopFactory | None, work: Any) -> Any:
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(work)


@pytest.mark.usefixtures("on_windows")
def test_psycopg_refuses_the_loop_uvicorn_picks_on_windows(postgres_url: str) -> None:
    uvicorns_choice = uvicorn.Config(Starlette(), loop="asyncio", log_config=None)
    windows_default = uvicorns_choice.get_loop_factory()
    with pytest.raises(JournalError, match="cannot use the 'ProactorEventLoop'"):
        run_on(windows_default, store_and_read_back(postgres_url))


@pytest.mark.usefixtures("on_windows")
def test_serve_runs_a_postgres_journal_on_the_selector_loop(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    config = uvicorn_config_of_serve(monkeypatch, Settings(journal=postgres_url))
    factory = config.get_loop_factory()
    assert factory is asyncio.SelectorEventLoop
    stored, listed = run_on(factory, store_and_read_back(postgres_url))
    assert listed == stored


@pytest.mark.usefixtures("on_windows")
def test_cli_journal_commands_run_a_postgres_journal_on_the_selector_loop(
    postgres_url: str,
) -> None:
    stored, listed = run_with_journal(postgres_url, store_and_read_back(postgres_url))
    assert listed == stored


@pytest.mark.usefixtures("on_windows")
def test_sqlite_keeps_the_default_loop_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    config = uvicorn_config_of_serve(monkeypatch, Settings(journal="sqlite:///x.db"))
    assert config.loop == "auto"
    assert journal_loop_factory("sqlite:///x.db") is None


def test_other_platforms_keep_the_default_loop_for_postgres() -> None:
    assert journal_loop_factory("postgresql://u@h/d", platform="linux") is None
    assert journal_loop_factory("postgres://u@h/d", platform="win32") is asyncio.SelectorEventLoop
