"""Every execution plugin through the same cases, each against its own broker stand-in.

A back end is a `Backend`: a name, the cases that cannot apply to it (with the reason; those
cases are not generated for it), and `start(request, failing)`, which yields a `Harness`: the
started plugin, a symbol it trades, and probes of the broker's side (net position, working
orders) plus the controls that make the broker fail the way real ones do. To add a plugin,
write one more `Backend` and append it to `BACKENDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from plugins.base import ExecutionPlugin
from plugins.errors import (
    NotStarted,
    NotSupported,
    OrderRejected,
    OutcomeUnknown,
    TemporaryError,
    UnknownSymbol,
)
from plugins.mock import MockConfig, MockPlugin
from plugins.orders import AccountBalance, ExecutionResult, ExecutionStatus, Order, OrderSide
from plugins.registry import PluginRegistry
from tests.fakes.mt5_server import FakeMT5Server
from tests.fakes.ninjatrader_oif import OifPlatform
from tests.fakes.okx import OkxFailure
from tests.plugins.ccxt.support import lose_next_order_answer, okx_swaps
from tests.plugins.mt5_fixtures import FakeMT5, mt5_server, started_mt5
from tests.plugins.ninjatrader_fixtures import oif_config, started_ninjatrader
from webhook.execute.targets import send_order

__all__ = ["mt5_server"]  # fixtures used by name below

pytestmark = pytest.mark.anyio
SIGNAL_ID = "01JDQ3F6Z8X2K9M4N7P5R0S1T2"
OTHER_ID = "01JDQ3F6Z8X2K9M4N7P5R0S1T3"


@dataclass
class Harness:
    plugin: ExecutionPlugin[Any]
    symbol: str
    quantity: float
    resting_bracket: tuple[float, float, float]
    """A buy limit price that rests, with a stop-loss below it and a take-profit above."""
    position: Callable[[], float]
    open_orders: Callable[[], int]
    fail_next_temporarily: Callable[[], None] = lambda: None
    lose_next_answer: Callable[[], None] = lambda: None
    recover: Callable[[], None] = lambda: None
    """Undo the failure controls (the platform comes back)."""
    unknown_symbol: str = "NOSUCH"

    def registry(self) -> PluginRegistry:
        """A registry holding the plugin alone, as the server reaches it."""
        registry = PluginRegistry()
        registry.register(self.plugin)
        return registry
    market_price: Callable[[], float] | None = None
    """The broker's price, read from its stand-in, for a plugin that gives no quotes."""


@dataclass
class Backend:
    name: str
    start: Callable[[pytest.FixtureRequest, bool], contextlib.AbstractAsyncContextManager[Harness]]
    """Starts the plugin against its broker; True when the case makes the broker fail (a back
    end may then wait less before it calls a silent broker failed)."""
    not_applicable: dict[str, str] = field(default_factory=dict)


@contextlib.asynccontextmanager
async def mock_backend(request: pytest.FixtureRequest, failing: bool) -> AsyncIterator[Harness]:
    plugin = MockPlugin("mock")
    await plugin.init(MockConfig.model_validate(
        {"delay_ms": 0, "symbol_specs": {"ES1!": {"digits": 2, "tick_size": 0.25}}}))
    try:
        yield Harness(
            plugin, "ES1!", 1, (4500.0, 4400.0, 4600.0),
            position=lambda: plugin.position("ES1!"),
            open_orders=lambda: len(plugin._resting.get("ES1!", [])),  # no public view of them
        )  # fmt: skip
    finally:
        await plugin.close()


@contextlib.asynccontextmanager
async def mt5_backend(request: pytest.FixtureRequest, failing: bool) -> AsyncIterator[Harness]:
    server: FakeMT5Server = request.getfixturevalue("mt5_server")
    server.fake.fake_reset()
    fake = FakeMT5("rpyc", server.fake, server.port)
    async with started_mt5(fake) as plugin:
        yield Harness(
            plugin, "EURUSD", 0.1, (1.05, 1.04, 1.06),
            position=lambda: fake.net_position("EURUSD"),
            open_orders=lambda: len(fake.state()["orders"]),
            fail_next_temporarily=lambda: fake.fake_refuse_next(10004),  # REQUOTE
            lose_next_answer=lambda: fake.fake_lose_next_reply(execute=True),
        )  # fmt: skip


@contextlib.asynccontextmanager
async def ninjatrader_backend(
    request: pytest.FixtureRequest, failing: bool
) -> AsyncIterator[Harness]:
    tmp_path: Path = request.getfixturevalue("tmp_path")
    with OifPlatform(tmp_path / "NinjaTrader 8") as platform:
        instrument = "ES 12-25"
        timeout = 1.0 if failing else 5.0  # a failing case waits it out once
        config = oif_config(platform, fill_timeout=timeout, instruments={"ES1!": instrument})
        platform.report_position(instrument)  # traded and flat earlier in NinjaTrader's session

        def lose_answers() -> None:
            platform.report_delay = timeout + 0.5  # reported after the plugin stopped waiting

        def recover() -> None:
            platform.paused.clear()
            platform.report_delay = 0.0

        async with started_ninjatrader(config) as plugin:
            yield Harness(
                plugin, "ES1!", 1, (4500.0, 4400.0, 4600.0),
                position=lambda: platform.sim.position("Sim101", instrument).quantity,
                open_orders=lambda: len(platform.sim.working()),  # Working, or Accepted stops
                fail_next_temporarily=platform.paused.set,  # NinjaTrader not running
                lose_next_answer=lose_answers,
                recover=recover,
                market_price=lambda: platform.sim.price(instrument) or 0.0,
            )  # fmt: skip


@contextlib.asynccontextmanager
async def ccxt_backend(request: pytest.FixtureRequest, failing: bool) -> AsyncIterator[Harness]:
    async with okx_swaps() as (plugin, fake):
        yield Harness(
            plugin, "BTCUSDT.P", 0.01, (50000.0, 49000.0, 51000.0),
            position=lambda: float(fake.positions.get("BTC-USDT-SWAP", 0)) * 0.01,
            open_orders=lambda: sum(o.state == "live" for o in fake.orders),
            fail_next_temporarily=lambda: fake.fail_next(OkxFailure.RATE_LIMIT),
            lose_next_answer=lambda: lose_next_order_answer(plugin, fake),
            recover=fake.recover,
        )  # fmt: skip


BACKENDS = [
    Backend("mock", mock_backend, {
        "unknown symbol": "paper trading prices any symbol",
        "temporary failure": "paper trading never fails transiently",
        "unknown outcome": "paper trading never loses an answer",
    }),
    Backend("mt5", mt5_backend),
    Backend("ninjatrader", ninjatrader_backend),
    Backend("ccxt", ccxt_backend),
]  # fmt: skip


def backends(case: str) -> list[Any]:
    params = []
    for backend in BACKENDS:
        if case not in backend.not_applicable:  # the reason says why a case cannot apply
            params.append(pytest.param(backend, id=backend.name))
    return params


def buy(h: Harness, client_order_id: str = SIGNAL_ID, **fields: Any) -> Order:
    values = {"quantity": h.quantity, **fields}
    return Order(symbol=h.symbol, side="buy", client_order_id=client_order_id,
                 **values)  # fmt: skip


async def eventually_found(plugin: ExecutionPlugin[Any], client_order_id: str) -> ExecutionResult:
    for _ in range(250):
        with contextlib.suppress(OutcomeUnknown):  # not reported yet
            found = await plugin.lookup_order(client_order_id)
            if found is not None and found.status is ExecutionStatus.FILLED:
                return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"lookup_order never found {client_order_id}")


@pytest.mark.parametrize("backend", backends("market buy"))
async def test_a_market_buy_fills_and_opens_a_long_position(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    async with backend.start(request, False) as h:
        result = await h.plugin.execute_order(buy(h))
        assert h.position() == pytest.approx(h.quantity)
    assert result.success and result.status is ExecutionStatus.FILLED
    assert result.filled_quantity == pytest.approx(h.quantity)
    assert result.client_order_id == SIGNAL_ID and result.order_id


@pytest.mark.parametrize("backend", backends("limit with bracket"))
async def test_a_limit_with_a_bracket_rests_without_opening_a_position(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    async with backend.start(request, False) as h:
        price, stop_loss, take_profit = h.resting_bracket
        result = await h.plugin.execute_order(buy(
            h, order_type="limit", price=price, stop_loss=stop_loss, take_profit=take_profit
        ))  # fmt: skip
        assert (h.open_orders(), h.position()) == (1, 0)
    assert result.success and result.status is ExecutionStatus.PLACED


@pytest.mark.parametrize("backend", backends("close"))
async def test_close_flattens_the_position(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    async with backend.start(request, False) as h:
        await h.plugin.execute_order(buy(h))
        result = await h.plugin.execute_order(
            Order(symbol=h.symbol, action="close", client_order_id=OTHER_ID)
        )
        assert h.position() == 0
    assert result.success and result.status is ExecutionStatus.FILLED
    assert result.filled_quantity == pytest.approx(h.quantity)


@pytest.mark.parametrize("backend", backends("reverse"))
async def test_reverse_turns_a_long_position_short(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    async with backend.start(request, False) as h:
        await h.plugin.execute_order(buy(h))
        result = await h.plugin.execute_order(Order(
            symbol=h.symbol, action="reverse", side="sell", quantity=h.quantity,
            client_order_id=OTHER_ID,
        ))  # fmt: skip
        assert h.position() == pytest.approx(-h.quantity)
    assert result.success and result.status is ExecutionStatus.FILLED


@pytest.mark.parametrize("backend", backends("cancel"))
async def test_cancel_removes_the_resting_order(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    async with backend.start(request, False) as h:
        await h.plugin.execute_order(buy(h, order_type="limit", price=h.resting_bracket[0]))
        result = await h.plugin.execute_order(
            Order(symbol=h.symbol, action="cancel", client_order_id=OTHER_ID)
        )
        assert h.open_orders() == 0
    assert result.success and result.status is ExecutionStatus.CANCELLED


@pytest.mark.parametrize("backend", backends("unknown symbol"))
async def test_an_unknown_symbol_is_refused_as_unknown(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    async with backend.start(request, False) as h:
        with pytest.raises(UnknownSymbol):
            await h.plugin.execute_order(
                Order(symbol=h.unknown_symbol, side="buy", quantity=h.quantity)
            )


@pytest.mark.parametrize("backend", backends("temporary failure"))
async def test_a_temporary_failure_places_nothing_and_a_retry_places_once(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    async with backend.start(request, True) as h:
        h.fail_next_temporarily()
        with pytest.raises(TemporaryError):
            await h.plugin.execute_order(buy(h))
        assert h.position() == 0
        h.recover()
        retried = await h.plugin.execute_order(buy(h))
        assert h.position() == pytest.approx(h.quantity)
    assert retried.status is ExecutionStatus.FILLED


@pytest.mark.parametrize("backend", backends("unknown outcome"))
async def test_a_lost_answer_is_found_by_client_order_id_and_never_doubled(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    async with backend.start(request, True) as h:
        assert h.plugin.capabilities.lookup_by_client_order_id
        h.lose_next_answer()
        with contextlib.suppress(OutcomeUnknown):  # or the plugin reconciles it by itself
            await h.plugin.execute_order(buy(h))
        found = await eventually_found(h.plugin, SIGNAL_ID)
        h.recover()
        again = await h.plugin.execute_order(buy(h))  # what an executor's resend would do
        assert h.position() == pytest.approx(h.quantity)
    assert found.filled_quantity == pytest.approx(h.quantity)
    assert again.order_id == found.order_id


@pytest.mark.parametrize("backend", backends("declared abilities"))
async def test_declared_abilities_answer_and_the_others_are_refused(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    async with backend.start(request, False) as h:
        registry = h.registry()
        declared = registry.capabilities()
        assert declared.lookup_by_client_order_id and declared.client_order_ids
        if declared.balance:
            assert isinstance(await registry.fetch_balance(), AccountBalance)
        else:
            with pytest.raises(NotSupported, match="cannot report its balance"):
                await registry.fetch_balance()
        if declared.positions:
            assert await registry.fetch_position(h.symbol) == 0
        else:
            with pytest.raises(NotSupported, match="cannot report positions"):
                await registry.fetch_position(h.symbol)
        if declared.symbol_specs:
            specs = await registry.fetch_symbol_specs(h.symbol)
            assert specs.point > 0 and specs.pip >= specs.point
        else:
            with pytest.raises(NotSupported, match="cannot report symbol specs"):
                await registry.fetch_symbol_specs(h.symbol)


@pytest.mark.parametrize("backend", backends("closed"))
async def test_a_closed_plugin_says_it_is_not_started(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    async with backend.start(request, False) as h:
        pass
    with pytest.raises(NotStarted, match=f"plugin {h.plugin.name!r} is not started"):
        await h.plugin.execute_order(buy(h))
    with pytest.raises(NotStarted):
        await h.plugin.fetch_data(h.symbol)


@pytest.mark.parametrize("backend", backends("target positions"))
async def test_target_positions_reach_each_target_at_the_broker_and_a_repeat_sends_nothing(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    # The executor's own translation (webhook.execute.targets), against each broker's stand-in:
    # add, reduce, cross to short, flatten, and the last target again.
    async with backend.start(request, False) as h:
        registry = h.registry()
        assert registry.capabilities().positions
        reached = []
        for step, target in enumerate((2, 1, -1, 0, 0)):
            order = Order(symbol=h.symbol, action="target", target_position=target * h.quantity,
                          client_order_id=f"{SIGNAL_ID[:-2]}{step:02d}")
            result = await send_order(registry, order, h.plugin.name)
            assert result.success, result.error
            reached.append((h.position(), await registry.fetch_position(h.symbol)))
        sent_last = result.order_id
    expected = [(t * h.quantity, t * h.quantity) for t in (2, 1, -1, 0, 0)]
    assert reached == [tuple(pytest.approx(v) for v in pair) for pair in expected]
    assert sent_last is None  # already flat: nothing was sent


@pytest.mark.parametrize("backend", backends("partial close"))
async def test_a_close_of_part_leaves_the_rest_open(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    # What a take-profit ladder and a reduced target send: close one lot of two.
    async with backend.start(request, False) as h:
        await h.plugin.execute_order(buy(h, quantity=2 * h.quantity))
        result = await h.plugin.execute_order(Order(
            symbol=h.symbol, action="close", side="sell", quantity=h.quantity,
            client_order_id=OTHER_ID,
        ))  # fmt: skip
        assert h.position() == pytest.approx(h.quantity)
    assert result.success and result.filled_quantity == pytest.approx(h.quantity)


@pytest.mark.parametrize("backend", backends("position stop"))
async def test_a_declared_position_stop_is_held_and_an_undeclared_one_refused(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    # Managed exits keep their stop at the broker only where the plugin declares it can hold a
    # position's stop; everywhere else tradehook holds it, and the registry refuses the move.
    # Managed exits follow the plugin's prices: one that declares quotes gives them.
    async with backend.start(request, False) as h:
        registry = h.registry()
        await h.plugin.execute_order(buy(h))
        if registry.capabilities().quotes:
            assert (await registry.fetch_data(h.symbol)).last > 0
        else:
            with pytest.raises(NotSupported):
                await registry.fetch_data(h.symbol)
        if not registry.capabilities().position_stop:
            price = h.resting_bracket[0]
            with pytest.raises(NotSupported, match="cannot move a position's stop"):
                await registry.move_position_stop(h.symbol, OrderSide.BUY, price * 0.9)
            return
        if registry.capabilities().quotes:
            price = (await registry.fetch_data(h.symbol)).last
        else:
            assert h.market_price is not None
            price = h.market_price()
        # The wrong side first: a plugin without prices learns it from the broker's refusal
        # of a new stop.
        with pytest.raises(OrderRejected, match="below"):
            await registry.move_position_stop(h.symbol, OrderSide.BUY, price * 1.1)
        await registry.move_position_stop(h.symbol, OrderSide.BUY, price * 0.9)
        await registry.move_position_stop(h.symbol, OrderSide.BUY, price * 0.95)
        with pytest.raises(OrderRejected, match="no open short position"):
            await registry.move_position_stop(h.symbol, OrderSide.SELL, price * 1.1)
