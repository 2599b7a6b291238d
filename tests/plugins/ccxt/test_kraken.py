"""Kraken through ccxt, an exchange whose lookup by client id cannot be trusted: the plugin
claims no lookup there, so a doubtful send goes to a person instead of being sent again."""

from __future__ import annotations

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.ccxt.client_ids import derive_client_order_id, rule_for
from plugins.errors import OutcomeUnknown
from plugins.orders import ExecutionStatus
from tests.fakes.kraken import FakeKraken
from tests.plugins.ccxt.support import SIGNAL_ID, order

pytestmark = pytest.mark.anyio


async def test_an_order_carries_the_signal_id_as_cl_ord_id(
    on_kraken: CcxtPlugin, fake_kraken: FakeKraken
) -> None:
    result = await on_kraken.execute_order(order("KRAKEN:BTCUSD"))

    [placed] = fake_kraken.orders  # Kraken's free-text ids hold 18 characters: a hash of it
    assert placed.request["cl_ord_id"] == derive_client_order_id(SIGNAL_ID, rule_for("kraken"))
    assert result.order_id == placed.txid
    assert result.status in (ExecutionStatus.PLACED, ExecutionStatus.FILLED)  # AddOrder: txid only


async def test_ccxts_lookup_by_client_id_on_kraken_is_refused_so_none_is_never_claimed(
    on_kraken: CcxtPlugin, fake_kraken: FakeKraken
) -> None:
    await on_kraken.execute_order(order("KRAKEN:BTCUSD"))

    with pytest.raises(OutcomeUnknown, match="Invalid arguments"):
        await on_kraken.lookup_order(SIGNAL_ID, "KRAKEN:BTCUSD")
