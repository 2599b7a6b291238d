"""The ninjatrader plugin over order instruction files, against the simulated platform."""

from __future__ import annotations

import asyncio
import fnmatch
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plugins.errors import (
    ExecutionError,
    OrderRejected,
    OutcomeUnknown,
    PluginConfigError,
    TemporaryError,
    UnknownSymbol,
)
from plugins.loader import plugin_class, validate_plugin_config
from plugins.ninjatrader import NinjaTraderConfig, NinjaTraderPlugin
from plugins.ninjatrader.oif import OifLink
from plugins.orders import ExecutionStatus, Order
from tests.fakes.ninjatrader_oif import OifPlatform
from tests.plugins.ninjatrader_fixtures import (
    ES,
    ORDER_ID,
    SIGNAL_ID,
    es_order,
    oif_config,
    platform,
    started_ninjatrader,
)

__all__ = ["platform"]  # fixtures used by name below

pytestmark = pytest.mark.anyio


def commands(platform: OifPlatform) -> list[list[str]]:
    return [list(fields) for fields in platform.sim.received]


async def eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Until `check()` holds; a loaded machine may take a while to hand a file over."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the platform never got there")
        await asyncio.sleep(0.01)


def working(platform: OifPlatform) -> dict[str, str]:
    """Orders that rest: Working, or Accepted (where a stop stays)."""
    return {o.order_id: o.state for o in platform.sim.working()}


async def test_a_market_buy_is_one_place_instruction_in_the_documented_field_order(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        result = await plugin.execute_order(es_order())
    assert commands(platform) == [
        ["PLACE", "Sim101", ES, "BUY", "2", "MARKET", "", "", "GTC", "", ORDER_ID, "", ""]
    ]
    assert result.status is ExecutionStatus.FILLED
    assert (result.order_id, result.filled_quantity, result.average_price) == (ORDER_ID, 2, 5000)


async def test_instruction_files_are_written_beside_incoming_and_moved_in_whole(
    platform: OifPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    renames: list[tuple[Path, str, bool]] = []
    replace = os.replace

    def watching(source: Any, target: Any) -> None:
        source, target = Path(source), Path(target)
        if target.name.startswith("oif"):
            renames.append((source, source.read_bytes().decode(), target.exists()))
        replace(source, target)

    monkeypatch.setattr(os, "replace", watching)
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(stop_loss=4990, take_profit=5020))
    assert len(renames) == 2  # the entry, then its bracket
    for source, text, existed in renames:
        assert source.parent == platform.incoming.parent and not existed  # appears: Created
        assert not fnmatch.fnmatch(source.name.lower(), "oif*.txt")
        assert text.endswith("\r\n") and all(line.count(";") == 12 for line in text.splitlines())
    assert platform.torn == []


async def test_each_instruction_file_has_its_own_oif_name(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        for n in range(3):
            await plugin.execute_order(es_order(client_order_id=f"{SIGNAL_ID[:-1]}{n}"))
    assert len(set(platform.processed)) == 3
    assert all(fnmatch.fnmatch(name, "oif*.txt") for name in platform.processed)


async def test_a_limit_order_rests_and_fills_when_the_price_comes(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        placed = await plugin.execute_order(es_order(order_type="limit", price=4990))
        platform.sim.set_price(ES, 4989.75)
        filled = await plugin.lookup_order(SIGNAL_ID)
    assert commands(platform)[0][5:8] == ["LIMIT", "4990", ""]
    assert placed.status is ExecutionStatus.PLACED and placed.order_id == ORDER_ID
    assert filled is not None and filled.status is ExecutionStatus.FILLED


@pytest.mark.parametrize(
    ("fields", "expected"),
    [({"order_type": "stop", "stop_price": 5010}, ["STOPMARKET", "", "5010"]),
     ({"order_type": "stop_limit", "stop_price": 5010, "price": 5010.5},
      ["STOPLIMIT", "5010.5", "5010"])],
)  # fmt: skip
async def test_stop_orders_are_stopmarket_and_stoplimit(
    platform: OifPlatform, fields: dict[str, Any], expected: list[str]
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        result = await plugin.execute_order(es_order(**fields))
    assert commands(platform)[0][5:8] == expected
    assert result.status is ExecutionStatus.PLACED


async def test_stop_loss_and_take_profit_follow_the_filled_entry_as_an_oco_pair(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        result = await plugin.execute_order(es_order(stop_loss=4990, take_profit=5020.25))
    oco = f"{ORDER_ID}-OCO"
    assert commands(platform)[1:] == [
        ["PLACE", "Sim101", ES, "SELL", "2", "STOPMARKET", "", "4990", "GTC", oco,
         f"{ORDER_ID}-SL", "", ""],
        ["PLACE", "Sim101", ES, "SELL", "2", "LIMIT", "5020.25", "", "GTC", oco,
         f"{ORDER_ID}-TP", "", ""],
    ]  # fmt: skip
    assert set(working(platform)) == {f"{ORDER_ID}-SL", f"{ORDER_ID}-TP"}
    assert result.status is ExecutionStatus.FILLED and result.error is None


async def test_the_bracket_of_a_resting_entry_waits_for_its_fill(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(order_type="limit", price=4990, stop_loss=4980))
        before = len(commands(platform))
        platform.sim.set_price(ES, 4990)
        await eventually(lambda: f"{ORDER_ID}-SL" in working(platform))
    assert before == 1
    assert commands(platform)[1][5:8] == ["STOPMARKET", "", "4980"]


async def test_a_rejected_bracket_is_reported_with_the_filled_entry(
    platform: OifPlatform,
) -> None:
    platform.sim.reject_order_types = {"STOPMARKET"}
    async with started_ninjatrader(oif_config(platform)) as plugin:
        result = await plugin.execute_order(es_order(stop_loss=4990))
    assert result.status is ExecutionStatus.FILLED
    assert result.error is not None and "bracket failed" in result.error
    assert "rejected" in result.error


async def test_a_full_close_is_closeposition(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(stop_loss=4990))
        result = await plugin.execute_order(
            Order(symbol=ES, action="close", client_order_id="close1")
        )
    assert commands(platform)[-1] == ["CLOSEPOSITION", "Sim101", ES] + [""] * 10
    assert platform.sim.position("Sim101", ES).quantity == 0 and working(platform) == {}
    assert result.status is ExecutionStatus.FILLED and result.filled_quantity == 2


async def test_a_partial_close_sells_part_and_shrinks_the_bracket(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(quantity=3, stop_loss=4990, take_profit=5020))
        result = await plugin.execute_order(
            Order(symbol=ES, action="close", quantity=1, client_order_id="part")
        )
        await eventually(lambda: len(commands(platform)) == 6)
    part, *changes = commands(platform)[3:]
    assert part[:6] == ["PLACE", "Sim101", ES, "SELL", "1", "MARKET"]
    assert sorted((c[0], c[4], c[10]) for c in changes) == [
        ("CHANGE", "2", f"{ORDER_ID}-SL"), ("CHANGE", "2", f"{ORDER_ID}-TP")
    ]
    assert platform.sim.orders[f"{ORDER_ID}-SL"].quantity == 2
    assert result.filled_quantity == 1


async def test_close_of_a_position_reported_flat_is_refused(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(client_order_id="open"))
        await plugin.execute_order(Order(symbol=ES, action="close", client_order_id="shut"))
        sent = len(commands(platform))
        with pytest.raises(OrderRejected, match=f"no open position in {ES}"):
            await plugin.execute_order(Order(symbol=ES, action="close"))
    assert platform.position_file(ES).read_text(encoding="utf-8") == "FLAT;0;0"
    assert len(commands(platform)) == sent


async def test_reverse_cancels_the_old_bracket_then_reverses_the_position(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(stop_loss=4990, client_order_id="long"))
        result = await plugin.execute_order(
            Order(symbol=ES, action="reverse", side="sell", quantity=1, client_order_id="rev")
        )
    *cancels, reverse = commands(platform)[2:]
    assert [c[0] for c in cancels] == ["CANCEL"]
    assert reverse[:6] == ["REVERSEPOSITION", "Sim101", ES, "SELL", "1", "MARKET"]
    assert reverse[10] == "THrev"
    assert platform.sim.position("Sim101", ES).quantity == -1
    assert result.filled_quantity == 3


async def test_reverse_to_the_side_already_held_is_refused(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order())
        with pytest.raises(OrderRejected, match="already 2"):
            await plugin.execute_order(Order(symbol=ES, action="reverse", side="buy"))


async def test_cancel_cancels_the_working_orders_this_plugin_placed(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(order_type="limit", price=4900, client_order_id="a"))
        await plugin.execute_order(es_order(order_type="limit", price=4950, client_order_id="b"))
        result = await plugin.execute_order(Order(symbol=ES, action="cancel", client_order_id="c"))
    assert [(c[0], c[10]) for c in commands(platform)[2:]] == [("CANCEL", "THa"), ("CANCEL", "THb")]
    assert working(platform) == {}
    assert result.status is ExecutionStatus.CANCELLED and result.order_id == "THa,THb"


async def test_cancel_without_working_orders_is_refused(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        with pytest.raises(OrderRejected, match="no open orders"):
            await plugin.execute_order(Order(symbol=ES, action="cancel"))


async def test_a_rejected_order_is_refused(platform: OifPlatform) -> None:
    platform.sim.reject_next = 1
    async with started_ninjatrader(oif_config(platform)) as plugin:
        with pytest.raises(OrderRejected, match=f"rejected buy 2 {ES}"):
            await plugin.execute_order(es_order())


async def test_a_fraction_of_a_contract_is_refused_before_writing(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        with pytest.raises(OrderRejected, match="whole contracts"):
            await plugin.execute_order(es_order(quantity=1.5))
    assert platform.processed == []


async def test_a_symbol_that_is_no_futures_contract_is_unknown(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        with pytest.raises(UnknownSymbol, match="EURUSD"):
            await plugin.execute_order(es_order(symbol="EURUSD"))
    assert platform.processed == []


async def test_continuous_and_mapped_symbols_become_instruments(platform: OifPlatform) -> None:
    config = oif_config(platform, instruments={"MYES": "ES 03-26"})
    async with started_ninjatrader(config) as plugin:
        await plugin.execute_order(es_order(symbol="CME_MINI:ESZ2025", client_order_id="a"))
        await plugin.execute_order(es_order(symbol="MYES", client_order_id="b"))
    assert [c[2] for c in commands(platform)] == [ES, "ES 03-26"]


async def test_an_instruction_never_picked_up_is_withdrawn_and_temporary(
    platform: OifPlatform,
) -> None:
    platform.paused.set()
    async with started_ninjatrader(oif_config(platform, fill_timeout=0.3)) as plugin:
        with pytest.raises(TemporaryError, match="withdrawn and nothing was placed"):
            await plugin.execute_order(es_order())
    assert list(platform.incoming.iterdir()) == []
    platform.paused.clear()
    await asyncio.sleep(0.05)
    assert commands(platform) == []


async def test_an_instruction_taken_but_never_reported_is_an_unknown_outcome(
    platform: OifPlatform,
) -> None:
    platform.sim.silent = True
    async with started_ninjatrader(oif_config(platform, fill_timeout=0.3)) as plugin:
        with pytest.raises(OutcomeUnknown, match=f"did not report order {ORDER_ID}"):
            await plugin.execute_order(es_order())
        with pytest.raises(OutcomeUnknown, match=f"did not report order {ORDER_ID}"):
            await plugin.lookup_order(SIGNAL_ID, ES)
    assert len(commands(platform)) == 1


async def test_sending_a_signal_again_does_not_place_it_again(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        first = await plugin.execute_order(es_order())
        again = await plugin.execute_order(es_order())
    assert len(commands(platform)) == 1
    assert again == first.model_copy(update={"timestamp": again.timestamp})


async def test_lookup_reads_the_order_state_file(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order())
        found = await plugin.lookup_order(SIGNAL_ID, ES)
    assert found is not None and (found.status, found.filled_quantity) == ("filled", 2)


async def test_lookup_waits_for_a_report_that_comes_late(platform: OifPlatform) -> None:
    platform.report_delay = 0.5
    async with started_ninjatrader(oif_config(platform, fill_timeout=0.3)) as plugin:
        with pytest.raises(OutcomeUnknown):
            await plugin.execute_order(es_order())
        found = await plugin.lookup_order(SIGNAL_ID)
    assert found is not None and found.status is ExecutionStatus.FILLED


async def test_lookup_takes_back_an_instruction_still_waiting_and_finds_none(
    platform: OifPlatform,
) -> None:
    platform.paused.set()  # the first plugin's instruction stays in incoming, as after a crash
    async with started_ninjatrader(oif_config(platform, fill_timeout=5)) as first:
        sending = asyncio.create_task(first.execute_order(es_order()))
        await eventually(lambda: any(platform.incoming.glob("oif*.txt")))
        async with started_ninjatrader(oif_config(platform)) as restarted:
            found = await restarted.lookup_order(SIGNAL_ID, ES)
        sending.cancel()
    platform.paused.clear()
    await asyncio.sleep(0.05)
    assert found is None and commands(platform) == []


async def test_lookup_of_an_order_the_file_interface_never_reported_is_unknown(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        with pytest.raises(OutcomeUnknown, match="check NinjaTrader"):
            await plugin.lookup_order(SIGNAL_ID, ES)


async def test_lookup_of_a_close_that_was_slow_to_report_finds_it_flat(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform, fill_timeout=0.3)) as plugin:
        await plugin.execute_order(es_order(client_order_id="open"))
        platform.report_delay = 0.5
        with pytest.raises(OutcomeUnknown, match="not flat"):
            await plugin.execute_order(Order(symbol=ES, action="close", client_order_id="c"))
        await asyncio.sleep(0.4)
        found = await plugin.lookup_order("c", ES)
    assert found is not None and (found.status, found.filled_quantity) == ("filled", 2)


def test_a_state_file_caught_half_written_counts_as_not_yet_reported(tmp_path: Path) -> None:
    link = OifLink(tmp_path, tmp_path)
    (tmp_path / "TH1.txt").write_text("FILLED;2", encoding="utf-8")
    half = link.order_state("TH1")
    (tmp_path / "TH1.txt").write_text("FILLED;2;5000.25", encoding="utf-8")
    whole = link.order_state("TH1")
    assert half is None
    assert whole is not None and (whole.state, whole.filled, whole.average_price) == (
        "FILLED", 2, 5000.25
    )


async def test_an_atm_strategy_goes_with_the_entry_instead_of_a_bracket(
    platform: OifPlatform,
) -> None:
    platform.sim.atm_templates = {"2R-ES": (10.0, 20.0)}
    async with started_ninjatrader(oif_config(platform, atm_strategy="2R-ES")) as plugin:
        await plugin.execute_order(es_order(stop_loss=4990, take_profit=5020))
    assert [c[11:] for c in commands(platform)] == [["2R-ES", ORDER_ID]]


async def test_time_in_force_day_goes_in_the_instruction(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(order_type="limit", price=4900, time_in_force="day"))
        with pytest.raises(OrderRejected, match="day or gtc, not ioc"):
            await plugin.execute_order(es_order(time_in_force="ioc", client_order_id="ioc"))
    assert [c[8] for c in commands(platform)] == ["DAY"]


async def test_fetch_position_reads_the_position_file(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(side="sell", quantity=3))
        held = await plugin.fetch_position(ES)
    assert platform.position_file(ES).read_text(encoding="utf-8") == "SHORT;3;5000"
    assert held == -3


async def test_the_file_interface_gives_no_quotes(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        with pytest.raises(ExecutionError, match='transport = "dll"'):
            await plugin.fetch_data(ES)


async def test_health_follows_the_connection_state_file(platform: OifPlatform) -> None:
    state = platform.outgoing / "Continuum.txt"
    async with started_ninjatrader(oif_config(platform, connection="Continuum")) as plugin:
        missing = await plugin.health_check()
        state.write_text("CONNECTED", encoding="utf-8")
        connected = await plugin.health_check()
        state.write_text("DISCONNECTED", encoding="utf-8")
        disconnected = await plugin.health_check()
    assert (missing, connected, disconnected) == (False, True, False)


async def test_a_missing_incoming_folder_fails_at_start(tmp_path: Path) -> None:
    plugin = NinjaTraderPlugin("nt")
    with pytest.raises(PluginConfigError, match="incoming folder .* does not exist"):
        await plugin.init(NinjaTraderConfig(documents_dir=tmp_path / "nowhere"))


def test_the_file_interface_does_not_load_pythonnet(tmp_path: Path) -> None:
    (tmp_path / "incoming").mkdir()
    code = (
        "import asyncio, sys\n"
        "from plugins.ninjatrader import NinjaTraderConfig, NinjaTraderPlugin\n"
        "plugin = NinjaTraderPlugin()\n"
        f"asyncio.run(plugin.init(NinjaTraderConfig(documents_dir={str(tmp_path)!r})))\n"
        "print(sorted(m for m in ('clr', 'pythonnet') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         encoding="utf-8", check=True)
    assert out.stdout.strip() == "[]"


def test_the_loader_finds_the_plugin_and_checks_its_options() -> None:
    assert plugin_class("ninjatrader") is NinjaTraderPlugin
    config = validate_plugin_config("ninjatrader", {"account": "Live1", "transport": "dll"})
    assert isinstance(config, NinjaTraderConfig) and config.port == 36973
    with pytest.raises(PluginConfigError, match="transport"):
        validate_plugin_config("ninjatrader", {"transport": "email"})


def test_an_order_report_caught_while_ninjatrader_rewrites_it_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NinjaTrader rewrites `<order id>.txt` on every state change (a stop moved with CHANGE
    # too); a reader may catch it empty, which is not "no report".
    (tmp_path / f"{ORDER_ID}.txt").write_text("ACCEPTED;0;0", encoding="utf-8")
    reads = iter(["", "ACCEPTED;0;0"])
    monkeypatch.setattr(Path, "read_text", lambda self, **kw: next(reads))
    link = OifLink(tmp_path, tmp_path)
    state = link.order_state(ORDER_ID)
    assert state is not None and state.state == "ACCEPTED"
