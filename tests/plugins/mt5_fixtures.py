"""Fixtures for the mt5 plugin's tests: the fake terminal, over rpyc or in process.

`fake_mt5` is parametrised over both transports: `rpyc` reaches the fake through a real rpyc
classic server in a subprocess (as a Wine or Windows terminal is reached), `native` imports
the same fake module in this process as `MetaTrader5`, as if on Windows.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import tests.fakes.metatrader5 as fake_module
from plugins.mt5 import MT5Config, MT5Plugin
from plugins.mt5 import transports as mt5_transports
from tests.fakes.mt5_server import FakeMT5Server, serve_fake_mt5

SIGNAL_ID = "01JDQ3F6Z8X2K9M4N7P5R0S1T2"


@dataclass
class FakeMT5:
    """The fake terminal as a test sees it, whichever transport the plugin uses."""

    transport: str
    module: Any
    port: int = 0

    def state(self) -> dict[str, Any]:
        raw = self.module.fake_state()
        if self.transport == "rpyc":
            import rpyc

            result: dict[str, Any] = rpyc.classic.obtain(raw)
            return result
        return dict(raw)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("fake_"):
            return getattr(self.module, name)
        raise AttributeError(name)

    def config(self, **options: Any) -> MT5Config:
        options.setdefault("reconcile_timeout", 0.3)
        if self.transport == "rpyc":
            return MT5Config(transport="rpyc", host="127.0.0.1", port=self.port, **options)
        return MT5Config(transport="native", **options)

    def net_position(self, symbol: str) -> float:
        return round(
            sum(p["volume"] * (1 if p["type"] == 0 else -1)
                for p in self.state()["positions"] if p["symbol"] == symbol),
            8,
        )  # fmt: skip


@pytest.fixture(scope="module")
def mt5_server() -> Iterator[FakeMT5Server]:
    with serve_fake_mt5() as server:
        yield server


@pytest.fixture(params=["rpyc", "native"])
def fake_mt5(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeMT5]:
    if request.param == "rpyc":
        server: FakeMT5Server = request.getfixturevalue("mt5_server")
        server.fake.fake_reset()
        yield FakeMT5("rpyc", server.fake, server.port)
        return
    fake_module.fake_reset()
    monkeypatch.setitem(sys.modules, "MetaTrader5", fake_module)
    monkeypatch.setattr(mt5_transports, "running_on_windows", lambda: True)
    yield FakeMT5("native", fake_module)


@contextlib.asynccontextmanager
async def started_mt5(fake: FakeMT5, **options: Any) -> AsyncIterator[MT5Plugin]:
    plugin = MT5Plugin("mt5")
    await plugin.init(fake.config(**options))
    try:
        yield plugin
    finally:
        await plugin.close()
