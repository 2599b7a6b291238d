"""Fixtures for the ninjatrader plugin's tests: the simulated platform behind each transport.

`platform` is NinjaTrader's file interface (a thread watching a temporary Documents folder);
`ati_server` is its ATI socket, which the C# stand-in `client_dll` (compiled once per session
with Mono's mcs) talks to when pythonnet loads it.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from plugins.ninjatrader import NinjaTraderConfig, NinjaTraderPlugin
from plugins.orders import Order
from tests.conftest import skip_unless_available
from tests.fakes.ninjatrader_ati import AtiServer, compile_client_dll, mono_available
from tests.fakes.ninjatrader_oif import OifPlatform

RECONNECT_SECONDS = 0.5
"""The C# stand-in's wait before it reconnects (the real client's is 10 s); read once, when
pythonnet first loads it in this process."""
os.environ.setdefault("NINJATRADER_FAKE_RECONNECT_SECONDS", str(RECONNECT_SECONDS))

SIGNAL_ID = "01JDQ3F6Z8X2K9M4N7P5R0S1T2"
ORDER_ID = f"TH{SIGNAL_ID}"
ES = "ES 12-25"


def es_order(**fields: Any) -> Order:
    """A market buy of 2 ES for the test signal, with `fields` changed."""
    values: dict[str, Any] = {"symbol": ES, "side": "buy", "quantity": 2,
                              "client_order_id": SIGNAL_ID}  # fmt: skip
    values.update(fields)
    return Order(**values)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[OifPlatform]:
    with OifPlatform(tmp_path / "NinjaTrader 8") as running:
        yield running


def oif_config(platform: OifPlatform, **options: Any) -> NinjaTraderConfig:
    options.setdefault("fill_timeout", 2.0)
    options.setdefault("poll_interval", 0.01)
    return NinjaTraderConfig(documents_dir=platform.incoming.parent, **options)


@pytest.fixture(scope="session")
def client_dll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    skip_unless_available(
        mono_available() and ctypes.util.find_library("monosgen-2.0") is not None,
        "Mono is missing (mcs, mono-devel, libmonosgen-2.0): run make system-packages as root",
    )
    return compile_client_dll(tmp_path_factory.mktemp("ninjatrader-client"))


@pytest.fixture
def ati_server() -> Iterator[AtiServer]:
    with AtiServer() as server:
        yield server


def dll_config(server: AtiServer, dll: Path, **options: Any) -> NinjaTraderConfig:
    options.setdefault("fill_timeout", 2.0)
    options.setdefault("poll_interval", 0.01)
    return NinjaTraderConfig(transport="dll", dll_path=dll, port=server.port, **options)


@contextlib.asynccontextmanager
async def started_ninjatrader(config: NinjaTraderConfig) -> AsyncIterator[NinjaTraderPlugin]:
    plugin = NinjaTraderPlugin("ninjatrader")
    await plugin.init(config)
    try:
        yield plugin
    finally:
        await plugin.close()
