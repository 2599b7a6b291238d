"""Binance as its documentation describes it: a request may be carried out until its timestamp +
recvWindow, a 5xx answer leaves the outcome unknown, GET /api/v3/order carries no fills, and the
clock of the exchange may run ahead of ours."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.errors import OrderRejected, OutcomeUnknown, TemporaryError
from plugins.orders import ExecutionStatus
from tests.fakes.binance import Failure, FakeBinance
from tests.fakes.binance_book import MARKETS
from tests.plugins.ccxt.support import (
    SIGNAL_ID,
    binance_config,
    giving_up_soon,
    let_time_pass,
    order,
    started,
)

pytestmark = pytest.mark.anyio


async def booked(fake: FakeBinance, client_id: str, seconds: float = 5.0) -> None:
    """Wait (bounded) until the fake has carried out the late order."""
    for _ in range(int(seconds / 0.05)):
        if fake.order_by_client_id(client_id) is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the fake never carried out {client_id}")


async def test_the_receive_window_sent_is_shorter_than_the_timeout(
    fake_binance: FakeBinance, credentials: None
) -> None:
    plugin = await started(binance_config(fake_binance, timeout=10.0))
    try:
        await plugin.execute_order(order())
    finally:
        await plugin.close()

    [sent] = fake_binance.requests_to("POST", "/api/v3/order")
    assert int(sent["recvWindow"]) == 5000


async def test_an_order_carried_out_after_an_unknown_answer_is_found_not_resent(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.answer_delay = 0.5
    fake_binance.fail_next(Failure.LATE_EXECUTION)

    with pytest.raises(OutcomeUnknown, match="execution status unknown"):
        await spot.execute_order(order())
    assert fake_binance.orders == []  # not carried out yet: "not found" is no proof
    with pytest.raises(TemporaryError, match="receive window"):
        await spot.lookup_order(SIGNAL_ID)
    await booked(fake_binance, SIGNAL_ID)
    let_time_pass(spot, spot.describe().details["not_found_is_proof_after_seconds"])
    found = await spot.lookup_order(SIGNAL_ID)

    assert found is not None and found.status is ExecutionStatus.FILLED
    assert [o.client_order_id for o in fake_binance.orders] == [SIGNAL_ID]


async def test_a_5xx_answer_after_the_order_was_placed_is_unknown_not_refused(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.fail_next(Failure.SERVER_ERROR_AFTER_ACCEPT)

    with pytest.raises(OutcomeUnknown, match="HTTP 500"):
        await spot.execute_order(order())
    found = await spot.lookup_order(SIGNAL_ID)

    assert found is not None and found.order_id == str(fake_binance.orders[0].order_id)


async def test_a_lookup_answered_with_another_order_is_not_taken_for_ours(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    other = "01JDQ3F6Z8X2K9M4N7P5R0OTHR"
    await spot.execute_order(order(client_order_id=other))
    fake_binance.answer_other_order = True

    with pytest.raises(OutcomeUnknown, match=f"carrying client order id '{other}'"):
        await spot.lookup_order(SIGNAL_ID, symbol="BTCUSDT")


async def test_a_bracket_placed_after_a_lookup_sells_what_the_entry_bought_net_of_fees(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.fail_next(Failure.TIMEOUT_AFTER_ACCEPT)
    with giving_up_soon(spot), pytest.raises(OutcomeUnknown):
        await spot.execute_order(order(stop_loss=59000, take_profit=61000))

    found = await spot.lookup_order(SIGNAL_ID)

    assert found is not None and found.error is None
    [oco] = fake_binance.order_lists
    assert oco["params"]["quantity"] == "0.00999"  # 0.01 bought, 0.1% commission in BTC
    assert len(fake_binance.requests_to("GET", "/api/v3/myTrades")) == 1


async def test_a_clock_ahead_of_the_exchanges_is_adjusted_for(
    fake_binance: FakeBinance, credentials: None
) -> None:
    fake_binance.clock_offset_ms = -4000  # Binance refuses timestamps over 1 s in its future

    plugin = await started(binance_config(fake_binance))
    try:
        result = await plugin.execute_order(order())
    finally:
        await plugin.close()

    assert result.status is ExecutionStatus.FILLED
    assert len(fake_binance.orders) == 1


async def test_a_precision_refusal_reloads_the_markets_for_the_next_order(
    spot: CcxtPlugin, fake_binance: FakeBinance, monkeypatch: pytest.MonkeyPatch
) -> None:
    coarser = replace(MARKETS["BTCUSDT"], step=Decimal("0.001"), min_qty=Decimal("0.001"))
    monkeypatch.setitem(MARKETS, "BTCUSDT", coarser)  # the exchange changed its lot step

    with pytest.raises(OrderRejected, match="LOT_SIZE"):
        await spot.execute_order(order(quantity=0.0105))
    result = await spot.execute_order(order(quantity=0.0105, client_order_id="A" * 26))

    assert len(fake_binance.requests_to("GET", "/api/v3/exchangeInfo")) == 2
    assert result.status is ExecutionStatus.FILLED
    assert fake_binance.orders[-1].params["quantity"] == "0.01"
