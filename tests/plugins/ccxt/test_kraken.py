"""Kraken through ccxt, an exchange whose lookup by client id cannot be trusted: the plugin
claims no lookup there, so a doubtful send goes to a person instead of being sent again."""

from __future__ import annotations

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.ccxt.client_ids import derive_client_order_id, rule_for
from plugins.errors import NotSupported, OutcomeUnknown
from plugins.orders import ExecutionStatus
from plugins.registry import PluginRegistry
from tests.fakes.kraken import FakeKraken
from tests.plugins.ccxt.support import SIGNAL_ID, order

pytestmark = pytest.mark.anyio


async def test_kraken_keeps_our_client_id_but_declares_no_lookup(on_kraken: CcxtPlugin) -> None:
    assert on_kraken.capabilities.client_order_ids is True
    assert on_kraken.capabilities.lookup_by_client_order_id is False
    assert any("userref" in warning for warning in on_kraken.describe().warnings)


async def test_an_order_carries_the_signal_id_as_cl_ord_id(
    on_kraken: CcxtPlugin, fake_kraken: FakeKraken
) -> None:
    result = await on_kraken.execute_order(order("KRAKEN:BTCUSD"))

    [placed] = fake_kraken.orders  # Kraken's free-text ids hold 18 characters: a hash of it
    assert placed.request["cl_ord_id"] == derive_client_order_id(SIGNAL_ID, rule_for("kraken"))
    assert result.order_id == placed.txid
    assert result.status in (ExecutionStatus.PLACED, ExecutionStatus.FILLED)  # AddOrder: txid only


async def test_the_registry_never_asks_kraken_to_look_up_an_order(
    on_kraken: CcxtPlugin, fake_kraken: FakeKraken
) -> None:
    registry = PluginRegistry()
    registry.register(on_kraken)

    with pytest.raises(NotSupported, match="look up orders"):
        await registry.lookup_order(SIGNAL_ID, "KRAKEN:BTCUSD")

    assert fake_kraken.requests_to("/0/private/QueryOrders") == []


async def test_ccxts_lookup_by_client_id_on_kraken_is_refused_so_none_is_never_claimed(
    on_kraken: CcxtPlugin, fake_kraken: FakeKraken
) -> None:
    await on_kraken.execute_order(order("KRAKEN:BTCUSD"))

    with pytest.raises(OutcomeUnknown, match="Invalid arguments"):
        await on_kraken.lookup_order(SIGNAL_ID, "KRAKEN:BTCUSD")


async def test_a_lost_answer_is_unknown_and_the_order_stays_single(
    on_kraken: CcxtPlugin, fake_kraken: FakeKraken
) -> None:
    on_kraken.exchange.timeout = 300
    fake_kraken.answer_delay = 1.0

    with pytest.raises(OutcomeUnknown):
        await on_kraken.execute_order(order("KRAKEN:BTCUSD"))

    assert len(fake_kraken.orders) == 1
