"""How the exchange's failures reach tradehook: final refusals, retryable errors, and unknown
outcomes that are reconciled by client order id so that one signal never becomes two orders."""

from __future__ import annotations

import logging

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.errors import (
    InsufficientFunds,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    TemporaryError,
)
from plugins.orders import ExecutionResult, ExecutionStatus, Order
from tests.fakes import binance
from tests.fakes.binance import Failure, FakeBinance
from tests.plugins.ccxt.support import (
    SIGNAL_ID,
    binance_config,
    giving_up_soon,
    let_time_pass,
    order,
    started,
)

pytestmark = pytest.mark.anyio


async def retried(plugin: CcxtPlugin, signal: Order, attempts: int = 3) -> ExecutionResult:
    """Send again after temporary errors, as the executor does (without its backoff)."""
    for _ in range(attempts - 1):
        try:
            return await plugin.execute_order(signal)
        except TemporaryError:
            continue
    return await plugin.execute_order(signal)


async def test_rate_limit_is_retryable_with_the_exchange_hint(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.fail_next(Failure.RATE_LIMIT)

    with pytest.raises(RateLimited, match=r"buy 0\.01 BTC/USDT on binance") as raised:
        await spot.execute_order(order())

    assert raised.value.retry_after == 1.0
    assert fake_binance.orders == []


async def test_a_retried_rate_limit_places_exactly_one_order(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.fail_next(Failure.RATE_LIMIT)

    result = await retried(spot, order())

    assert result.status is ExecutionStatus.FILLED
    assert [o.client_order_id for o in fake_binance.orders] == [SIGNAL_ID]


async def test_internal_error_after_sending_leaves_the_outcome_unknown(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.fail_next(Failure.UNAVAILABLE)

    with pytest.raises(OutcomeUnknown, match=r"buy 0\.01 BTC/USDT on binance"):
        await spot.execute_order(order())


async def test_internal_error_before_sending_is_retryable(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.fail_next(Failure.UNAVAILABLE, method="GET", path="/api/v3/ticker/24hr")

    with pytest.raises(TemporaryError) as raised:
        await spot.execute_order(order())

    assert not isinstance(raised.value, OutcomeUnknown)
    assert fake_binance.requests_to("POST", "/api/v3/order") == []


async def test_an_order_the_exchange_never_took_is_not_found_by_lookup(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.fail_next(Failure.UNAVAILABLE)
    with pytest.raises(OutcomeUnknown):
        await spot.execute_order(order())
    let_time_pass(spot, spot.describe().details["not_found_is_proof_after_seconds"])

    assert await spot.lookup_order(SIGNAL_ID) is None


async def test_not_found_within_the_receive_window_is_no_proof_yet(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.fail_next(Failure.UNAVAILABLE)
    with pytest.raises(OutcomeUnknown):
        await spot.execute_order(order())

    with pytest.raises(TemporaryError, match="may still carry out an order") as raised:
        await spot.lookup_order(SIGNAL_ID)

    window = spot.describe().details["not_found_is_proof_after_seconds"]
    assert raised.value.retry_after == pytest.approx(window, abs=0.5)
    assert len(fake_binance.requests_to("GET", "/api/v3/order")) == 1


async def test_insufficient_balance_is_final(spot: CcxtPlugin, fake_binance: FakeBinance) -> None:
    fake_binance.fail_next(Failure.INSUFFICIENT_BALANCE)

    with pytest.raises(InsufficientFunds, match=r"buy 0\.01 BTC/USDT on binance"):
        await spot.execute_order(order())


async def test_buying_more_than_the_balance_pays_for_is_insufficient_funds(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    with pytest.raises(InsufficientFunds, match=r"buy 10 BTC/USDT"):
        await spot.execute_order(order(quantity=10))

    assert fake_binance.orders == []


async def test_timeout_after_acceptance_is_reconciled_into_one_order(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.fail_next(Failure.TIMEOUT_AFTER_ACCEPT)

    with giving_up_soon(spot), pytest.raises(OutcomeUnknown, match="may have reached the exchange"):
        await spot.execute_order(order())
    found = await spot.lookup_order(SIGNAL_ID)

    [placed] = fake_binance.orders
    assert placed.client_order_id == SIGNAL_ID
    assert found is not None
    assert found.status is ExecutionStatus.FILLED
    assert found.order_id == str(placed.order_id)
    assert found.filled_quantity == pytest.approx(0.01)


async def test_a_resent_signal_returns_the_open_order_already_placed(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    resting = order(order_type="limit", price=50000)
    first = await spot.execute_order(resting)

    again = await spot.execute_order(resting)

    assert len(fake_binance.orders) == 1
    assert again.order_id == first.order_id
    assert again.status is ExecutionStatus.PLACED


async def test_binance_takes_a_filled_orders_client_id_again_so_resends_need_a_lookup(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order())

    await spot.execute_order(order())

    assert [o.client_order_id for o in fake_binance.orders] == [SIGNAL_ID, SIGNAL_ID]
    assert spot.describe().details["guarantees"]["unique_among"] == "open orders"


async def test_lookup_after_a_restart_finds_the_order_with_the_alert_symbol(
    spot: CcxtPlugin, fake_binance: FakeBinance, credentials: None
) -> None:
    await spot.execute_order(order())
    restarted = await started(binance_config(fake_binance))
    try:
        found = await restarted.lookup_order(SIGNAL_ID, symbol="BINANCE:BTCUSDT")
    finally:
        await restarted.close()

    assert found is not None and found.status is ExecutionStatus.FILLED


async def test_lookup_without_any_symbol_cannot_ask_binance(
    fake_binance: FakeBinance, credentials: None
) -> None:
    restarted = await started(binance_config(fake_binance))
    try:
        with pytest.raises(OutcomeUnknown, match=f"cannot look up client order id {SIGNAL_ID}"):
            await restarted.lookup_order(SIGNAL_ID)
    finally:
        await restarted.close()


async def test_lookup_of_an_unknown_order_is_none(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order())
    fake_binance.fail_next(Failure.UNKNOWN_ORDER)
    let_time_pass(spot, spot.describe().details["not_found_is_proof_after_seconds"])

    assert await spot.lookup_order(SIGNAL_ID) is None


async def test_lookup_that_fails_on_the_network_is_temporary(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order())
    fake_binance.fail_next(Failure.UNAVAILABLE, method="GET", path="/api/v3/order")

    with pytest.raises(TemporaryError):
        await spot.lookup_order(SIGNAL_ID)


async def test_refused_signature_is_final_and_names_the_credentials(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.secret = "rotated-on-the-exchange"

    with pytest.raises(OrderRejected, match="refused the API credentials"):
        await spot.execute_order(order())


async def test_errors_show_neither_credentials_nor_signatures(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order())
    fake_binance.fail_next(Failure.TIMEOUT_AFTER_ACCEPT, method="GET", path="/api/v3/order")

    with giving_up_soon(spot), pytest.raises(TemporaryError) as raised:
        await spot.lookup_order(SIGNAL_ID)

    message = str(raised.value)  # ccxt names the signed URL of a request that timed out
    assert "/api/v3/order" in message
    assert "signature=***" in message
    assert binance.SECRET not in message and binance.API_KEY not in message
    signature = fake_binance.requests_to("GET", "/api/v3/order")[-1]["signature"]
    assert signature not in message


async def test_debug_logs_show_no_credentials(
    spot: CcxtPlugin, fake_binance: FakeBinance, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tradehook.ccxt")

    await spot.execute_order(order())

    assert "X-MBX-APIKEY" in caplog.text
    assert binance.API_KEY not in caplog.text
    assert fake_binance.requests_to("POST", "/api/v3/order")[0]["signature"] not in caplog.text
