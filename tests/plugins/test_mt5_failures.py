"""How the mt5 plugin reads failures: each retcode class, lost answers, and a broken link."""

from __future__ import annotations

import asyncio

import pytest

from plugins.errors import (
    InsufficientFunds,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    TemporaryError,
)
from plugins.orders import ExecutionStatus, Order
from tests.fakes import mt5_structures as c
from tests.plugins.mt5_fixtures import SIGNAL_ID, FakeMT5, fake_mt5, mt5_server, started_mt5

__all__ = ["fake_mt5", "mt5_server"]  # fixtures used by name below

pytestmark = pytest.mark.anyio
BUY = Order(symbol="EURUSD", side="buy", quantity=0.1, client_order_id=SIGNAL_ID)


@pytest.mark.parametrize(
    "retcode",
    [c.TRADE_RETCODE_REQUOTE, c.TRADE_RETCODE_PRICE_CHANGED, c.TRADE_RETCODE_PRICE_OFF,
     c.TRADE_RETCODE_CONNECTION],
)  # fmt: skip
async def test_requotes_and_connection_retcodes_are_temporary(
    fake_mt5: FakeMT5, retcode: int
) -> None:
    fake_mt5.fake_refuse_next(retcode)
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(TemporaryError, match=str(retcode)) as caught:
            await plugin.execute_order(BUY)
    assert not isinstance(caught.value, RateLimited)
    assert fake_mt5.state()["deals"] == []


async def test_too_many_requests_is_rate_limited(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_refuse_next(c.TRADE_RETCODE_TOO_MANY_REQUESTS)
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(RateLimited, match="TOO_MANY_REQUESTS"):
            await plugin.execute_order(BUY)


async def test_no_money_is_insufficient_funds(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_refuse_next(c.TRADE_RETCODE_NO_MONEY)
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(InsufficientFunds, match="not enough money"):
            await plugin.execute_order(BUY)


@pytest.mark.parametrize(
    ("retcode", "name"),
    [(c.TRADE_RETCODE_MARKET_CLOSED, "MARKET_CLOSED"), (c.TRADE_RETCODE_INVALID_STOPS,
     "INVALID_STOPS"), (c.TRADE_RETCODE_INVALID_VOLUME, "INVALID_VOLUME"),
     (c.TRADE_RETCODE_CLIENT_DISABLES_AT, "CLIENT_DISABLES_AT"), (10099, "UNKNOWN_RETCODE")],
)  # fmt: skip
async def test_other_retcodes_are_final_and_named(
    fake_mt5: FakeMT5, retcode: int, name: str
) -> None:
    fake_mt5.fake_refuse_next(retcode)
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match=f"{name} \\({retcode}\\)") as caught:
            await plugin.execute_order(BUY)
    assert type(caught.value) is OrderRejected


async def test_a_refusal_names_the_symbol_side_and_quantity(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_refuse_next(c.TRADE_RETCODE_MARKET_CLOSED)
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match="buy 0.1 EURUSD"):
            await plugin.execute_order(BUY)


async def test_the_terminal_refusing_the_request_itself_is_final(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_set(trade_allowed=False)
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match="CLIENT_DISABLES_AT"):
            await plugin.execute_order(BUY)


async def test_a_lost_answer_is_reconciled_to_exactly_one_deal(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_lose_next_reply(execute=True)
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(BUY)
    deals = fake_mt5.state()["deals"]
    assert len(deals) == 1 and len(fake_mt5.state()["requests"]) == 1
    assert result.status is ExecutionStatus.FILLED
    assert (result.order_id, result.filled_quantity) == (str(deals[0]["order"]), 0.1)


async def test_a_lost_answer_with_nothing_found_is_an_unknown_outcome(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_lose_next_reply(execute=False)
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OutcomeUnknown, match="IPC timeout"):
            await plugin.execute_order(BUY)
        assert await plugin.lookup_order(SIGNAL_ID) is None
    assert len(fake_mt5.state()["requests"]) == 1


async def test_a_timeout_retcode_is_reconciled_by_magic_and_comment(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_time_out_next(execute=True)
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(BUY)
    assert result.status is ExecutionStatus.FILLED
    assert len(fake_mt5.state()["deals"]) == 1


async def test_a_timeout_retcode_with_nothing_found_is_an_unknown_outcome(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_time_out_next(execute=False)
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OutcomeUnknown, match="TIMEOUT"):
            await plugin.execute_order(BUY)


async def test_a_lost_answer_to_a_pending_order_finds_the_order(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_lose_next_reply(execute=True)
    limit = Order(**{**BUY.model_dump(), "order_type": "limit", "price": 1.08})
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(limit)
    assert result.status is ExecutionStatus.PLACED
    assert result.order_id == str(fake_mt5.state()["orders"][0]["ticket"])


async def test_a_lost_answer_to_one_close_finds_that_position_deal(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(BUY.model_copy(update={"client_order_id": "a"}))
        await plugin.execute_order(BUY.model_copy(update={"client_order_id": "b"}))
        fake_mt5.fake_lose_next_reply(execute=True)
        result = await plugin.execute_order(Order(symbol="EURUSD", action="close"))
    assert fake_mt5.state()["positions"] == []
    assert result.filled_quantity == pytest.approx(0.2)


@pytest.mark.parametrize("fake_mt5", ["native"], indirect=True)
async def test_terminal_calls_run_one_at_a_time_on_one_thread(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_set(latency=0.01)
    async with started_mt5(fake_mt5) as plugin:
        await asyncio.gather(*(
            plugin.execute_order(BUY.model_copy(update={"client_order_id": f"s{n}"}))
            for n in range(4)
        ))  # fmt: skip
    state = fake_mt5.state()
    assert state["max_in_flight"] == 1
    assert {thread for _, thread in state["calls"]} == {"mt5-mt5_0"}


@pytest.mark.parametrize("fake_mt5", ["rpyc"], indirect=True)
async def test_a_dropped_rpyc_connection_is_opened_again(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        session = plugin._session
        assert session is not None and session._terminal is not None
        session._terminal.close()  # as when the Wine side restarts
        result = await plugin.execute_order(BUY)
    assert result.status is ExecutionStatus.FILLED
    assert len(fake_mt5.state()["initialize_calls"]) == 2


@pytest.mark.parametrize("fake_mt5", ["rpyc"], indirect=True)
async def test_an_unreachable_terminal_is_a_temporary_error(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        session = plugin._session
        assert session is not None and session._terminal is not None
        session._terminal.close()
        session.config = session.config.model_copy(update={"port": 1})
        with pytest.raises(TemporaryError, match="unreachable"):
            await plugin.execute_order(BUY)
