"""Exchanges whose lookup by client id cannot be trusted through ccxt (the fake Kraken spot and
the fake Bybit perpetuals): the plugin keeps sending our id but claims no lookup, so the
registry never asks, and a send whose answer is lost is unknown, never sent again."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.errors import NotSupported, OutcomeUnknown
from plugins.registry import PluginRegistry
from tests.fakes.bybit import FakeBybit
from tests.fakes.kraken import FakeKraken
from tests.plugins.ccxt.support import SIGNAL_ID, giving_up_soon, order

pytestmark = pytest.mark.anyio


@dataclass
class Venue:
    plugin: CcxtPlugin
    fake: FakeKraken | FakeBybit
    symbol: str
    why: str
    """Words of the warning that says why the lookup is not trusted."""

    def lookups(self) -> list[dict[str, str]]:
        """The requests that looked an order up by id."""
        if isinstance(self.fake, FakeKraken):
            return self.fake.requests_to("/0/private/QueryOrders")
        asked = self.fake.requests_to("/v5/order/realtime")
        return [q for q in asked if "orderId" in q or "orderLinkId" in q]

    def orders(self) -> int:
        return len(self.fake.orders)


@pytest.fixture(params=["kraken", "bybit"])
def venue(request: pytest.FixtureRequest) -> Venue:
    if request.param == "kraken":
        kraken = request.getfixturevalue("fake_kraken")
        return Venue(request.getfixturevalue("on_kraken"), kraken, "KRAKEN:BTCUSD", "userref")
    bybit = request.getfixturevalue("fake_bybit")
    plugin = request.getfixturevalue("on_bybit")
    return Venue(plugin, bybit, "BYBIT:BTCUSDT.P", "first order of a list")


async def test_our_client_id_is_kept_but_no_lookup_is_declared(venue: Venue) -> None:
    assert venue.plugin.capabilities.client_order_ids is True
    assert venue.plugin.capabilities.lookup_by_client_order_id is False
    assert any(venue.why in warning for warning in venue.plugin.describe().warnings)


async def test_the_registry_never_asks_the_exchange_to_look_up_an_order(venue: Venue) -> None:
    registry = PluginRegistry()
    registry.register(venue.plugin)

    with pytest.raises(NotSupported, match="look up orders"):
        await registry.lookup_order(SIGNAL_ID, venue.symbol)

    assert venue.lookups() == []


async def test_a_lost_answer_is_unknown_and_the_order_stays_single(venue: Venue) -> None:
    venue.fake.answer_delay = 1.0

    with giving_up_soon(venue.plugin), pytest.raises(OutcomeUnknown):
        await venue.plugin.execute_order(order(venue.symbol))

    assert venue.orders() == 1
