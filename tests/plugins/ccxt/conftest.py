"""Fixtures for the ccxt plugin: fake exchanges on 127.0.0.1 and plugins started against them,
so that ccxt's own request signing, response parsing and error mapping run in every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from plugins.ccxt import CcxtPlugin
from tests.fakes.binance import FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.kraken import FakeKraken
from tests.fakes.okx import FakeOkx
from tests.plugins.ccxt.support import (
    CREDENTIALS,
    binance_config,
    bybit_config,
    kraken_config,
    okx_config,
    started,
)


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def fake_binance() -> Iterator[FakeBinance]:
    fake = FakeBinance()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_okx() -> Iterator[FakeOkx]:
    fake = FakeOkx()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_kraken() -> Iterator[FakeKraken]:
    fake = FakeKraken()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
async def on_kraken(fake_kraken: FakeKraken, credentials: None) -> AsyncIterator[CcxtPlugin]:
    """The plugin started on the fake Kraken spot exchange."""
    plugin = await started(kraken_config(fake_kraken))
    yield plugin
    await plugin.close()


@pytest.fixture
def fake_bybit() -> Iterator[FakeBybit]:
    fake = FakeBybit()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
async def on_bybit(fake_bybit: FakeBybit, credentials: None) -> AsyncIterator[CcxtPlugin]:
    """The plugin started on the fake Bybit's USDT perpetuals."""
    plugin = await started(bybit_config(fake_bybit))
    yield plugin
    await plugin.close()


@pytest.fixture
async def spot(fake_binance: FakeBinance, credentials: None) -> AsyncIterator[CcxtPlugin]:
    """The plugin started on the fake Binance spot exchange."""
    plugin = await started(binance_config(fake_binance))
    yield plugin
    await plugin.close()


@pytest.fixture
async def swaps(fake_okx: FakeOkx, credentials: None) -> AsyncIterator[CcxtPlugin]:
    """The plugin started on the fake OKX account, trading perpetual swaps."""
    plugin = await started(okx_config(fake_okx))
    yield plugin
    await plugin.close()
