"""The ninjatrader plugin through NinjaTrader.Client.dll: a C# stand-in compiled with Mono's mcs,
loaded by pythonnet on Mono, talking to the simulated platform's ATI socket."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest

from plugins.errors import OutcomeUnknown, PluginConfigError, TemporaryError
from plugins.ninjatrader import NinjaTraderPlugin, ati
from plugins.ninjatrader.dll import DllLink
from plugins.orders import ExecutionResult, ExecutionStatus, Order
from tests.fakes.ninjatrader_ati import AtiServer
from tests.plugins.ninjatrader_fixtures import (
    ES,
    ORDER_ID,
    SIGNAL_ID,
    ati_server,
    client_dll,
    dll_config,
    started_ninjatrader,
)

__all__ = ["ati_server", "client_dll"]  # fixtures used by name below

pytestmark = pytest.mark.anyio
BUY = Order(symbol=ES, side="buy", quantity=2, client_order_id=SIGNAL_ID)


async def test_start_sets_up_the_client_and_checks_it_is_connected(
    ati_server: AtiServer, client_dll: Path
) -> None:
    async with started_ninjatrader(dll_config(ati_server, client_dll)) as plugin:
        healthy = await plugin.health_check()
    assert healthy and "GET\tATI" in ati_server.requests


async def test_a_market_buy_is_one_command_with_the_thirteen_fields(
    ati_server: AtiServer, client_dll: Path
) -> None:
    async with started_ninjatrader(dll_config(ati_server, client_dll)) as plugin:
        result = await plugin.execute_order(BUY)
    assert ati_server.sim.received == [
        ["PLACE", "Sim101", ES, "BUY", "2", "MARKET", "0", "0", "GTC", "", ORDER_ID, "", ""]
    ]
    assert result.status is ExecutionStatus.FILLED
    assert (result.filled_quantity, result.average_price) == (2, 5000)
    assert f"GET\tOrderStatus|{ORDER_ID}" in ati_server.requests


async def test_a_resting_limit_is_placed_as_order_status_says(
    ati_server: AtiServer, client_dll: Path
) -> None:
    limit = Order(symbol=ES, side="sell", order_type="limit", price=5010.25, quantity=1,
                  client_order_id=SIGNAL_ID)  # fmt: skip
    async with started_ninjatrader(dll_config(ati_server, client_dll)) as plugin:
        result = await plugin.execute_order(limit)
    assert ati_server.sim.received[0][5:8] == ["LIMIT", "5010.25", "0"]
    assert result.status is ExecutionStatus.PLACED


async def test_lookup_reads_order_status_and_an_unknown_order_is_none(
    ati_server: AtiServer, client_dll: Path
) -> None:
    async with started_ninjatrader(dll_config(ati_server, client_dll)) as plugin:
        await plugin.execute_order(BUY)
        found = await plugin.lookup_order(SIGNAL_ID, ES)
        missing = await plugin.lookup_order("01JDQ3F6Z8X2K9M4N7P5R0S1ZZ", ES)
    assert found is not None and found.status is ExecutionStatus.FILLED
    assert missing is None


async def test_close_reads_the_market_position_and_flattens_it(
    ati_server: AtiServer, client_dll: Path
) -> None:
    async with started_ninjatrader(dll_config(ati_server, client_dll)) as plugin:
        await plugin.execute_order(BUY)
        held = await plugin.fetch_position(ES)
        result = await plugin.execute_order(Order(symbol=ES, action="close"))
    assert held == 2 and ati_server.sim.received[-1][0] == "CLOSEPOSITION"
    assert ati_server.sim.position("Sim101", ES).quantity == 0
    assert result.filled_quantity == 2


async def test_fetch_data_subscribes_and_reads_market_data(
    ati_server: AtiServer, client_dll: Path
) -> None:
    async with started_ninjatrader(dll_config(ati_server, client_dll)) as plugin:
        quote = await plugin.fetch_data(ES)
    assert (quote.bid, quote.ask, quote.last) == (4999.75, 5000.25, 5000.0)
    assert f"SUBSCRIBE\t{ES}\t1" in ati_server.requests


async def test_close_tears_the_connection_down(ati_server: AtiServer, client_dll: Path) -> None:
    async with started_ninjatrader(dll_config(ati_server, client_dll)):
        pass
    for _ in range(100):
        if ati_server.disconnections:
            break
        await asyncio.sleep(0.01)
    assert ati_server.disconnections == 1


async def test_an_ati_that_does_not_answer_fails_at_start(
    ati_server: AtiServer, client_dll: Path
) -> None:
    config = dll_config(ati_server, client_dll).model_copy(update={"port": 1})
    with pytest.raises(PluginConfigError, match="ATI at 127.0.0.1:1 does not answer"):
        await NinjaTraderPlugin().init(config)


async def test_a_missing_dll_fails_at_start_naming_dll_path(
    ati_server: AtiServer, client_dll: Path, tmp_path: Path
) -> None:
    config = dll_config(ati_server, tmp_path / "NinjaTrader.Client.dll")
    with pytest.raises(PluginConfigError, match="dll_path: NinjaTrader.Client.dll not found"):
        await NinjaTraderPlugin().init(config)


async def found_again(plugin: NinjaTraderPlugin, client_order_id: str) -> ExecutionResult | None:
    """The lookup once the client has reconnected (it answers "cannot tell" until then)."""
    for _ in range(300):
        try:
            return await plugin.lookup_order(client_order_id, ES)
        except TemporaryError:
            await asyncio.sleep(0.02)
    raise AssertionError("the client never reconnected")


async def test_lookup_while_the_client_is_disconnected_is_not_none(
    ati_server: AtiServer, client_dll: Path
) -> None:
    async with started_ninjatrader(dll_config(ati_server, client_dll)) as plugin:
        await plugin.execute_order(BUY)
        ati_server.go_down()
        with pytest.raises(TemporaryError, match="not connected"):
            await plugin.lookup_order(SIGNAL_ID, ES)
        with pytest.raises(TemporaryError, match="not connected"):
            await plugin.lookup_order("01JDQ3F6Z8X2K9M4N7P5R0S1ZZ", ES)
        ati_server.come_back()
        found = await found_again(plugin, SIGNAL_ID)
        missing = await found_again(plugin, "01JDQ3F6Z8X2K9M4N7P5R0S1ZZ")
    assert found is not None and found.status is ExecutionStatus.FILLED
    assert missing is None


async def test_a_position_while_disconnected_is_unknown_not_flat(
    ati_server: AtiServer, client_dll: Path
) -> None:
    async with started_ninjatrader(dll_config(ati_server, client_dll)) as plugin:
        await plugin.execute_order(BUY)
        ati_server.go_down()
        with pytest.raises(TemporaryError, match="cannot tell the position"):
            await plugin.fetch_position(ES)
        with pytest.raises(TemporaryError):
            await plugin.execute_order(Order(symbol=ES, action="reverse", side="sell",
                                             quantity=1, client_order_id="rev"))  # fmt: skip
    assert [c[0] for c in ati_server.commands()] == ["PLACE"]


async def test_a_disconnect_during_a_send_is_unknown_and_then_found_not_resent(
    ati_server: AtiServer, client_dll: Path
) -> None:
    ati_server.down_after_command = True
    config = dll_config(ati_server, client_dll, fill_timeout=0.5)
    async with started_ninjatrader(config) as plugin:
        with pytest.raises(OutcomeUnknown, match="did not report"):
            await plugin.execute_order(BUY)
        with pytest.raises(TemporaryError, match="not connected"):
            await plugin.lookup_order(SIGNAL_ID, ES)
        ati_server.come_back()
        found = await found_again(plugin, SIGNAL_ID)
    assert found is not None and found.status is ExecutionStatus.FILLED
    assert len(ati_server.commands()) == 1


async def test_an_ati_that_does_not_answer_shows_no_dialog(
    ati_server: AtiServer, client_dll: Path
) -> None:
    config = dll_config(ati_server, client_dll).model_copy(update={"port": 1})
    with pytest.raises(PluginConfigError, match="does not answer"):
        await NinjaTraderPlugin().init(config)  # loads the stand-in, so it can be asked
    client_class = importlib.import_module("NinjaTrader.Client").Client
    before = client_class.DialogsShown
    with pytest.raises(PluginConfigError, match="does not answer"):
        await NinjaTraderPlugin().init(config)
    assert client_class.DialogsShown == before == 0


class RefusingClient:
    """NinjaTrader.Client's `Command` as documented: 0 when the command was sent, -1 when it
    was not (here: the connection is lost after `accepted` commands)."""

    def __init__(self, accepted: int) -> None:
        self.accepted = accepted
        self.commands: list[tuple[Any, ...]] = []

    def Command(self, *fields: Any) -> int:  # noqa: N802 - the DLL's name
        if len(self.commands) >= self.accepted:
            return -1
        self.commands.append(fields)
        return 0


@pytest.mark.parametrize(("accepted", "error"), [(0, TemporaryError), (1, OutcomeUnknown)])
def test_a_refused_command_is_temporary_only_when_it_was_the_first(
    accepted: int, error: type[Exception]
) -> None:
    link = DllLink(RefusingClient(accepted), "Sim101")
    with pytest.raises(error) as refused:
        link.send([ati.cancel("THa"), ati.cancel("THb")], "cancel")
    assert type(refused.value) is error
    if accepted:
        assert "after it took CANCEL THa" in str(refused.value)
