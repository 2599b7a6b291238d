"""The ninjatrader plugin reading NinjaTrader 8's reports as the platform writes them: order
files under either name and with extra fields, positions that are only written on a change
and gone after a restart, stops that stay Accepted, CHANGE with 0 for what it keeps, brackets
and ATM strategies on partial closes. Each test fails on the plugin before issue 17."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from plugins.errors import OrderRejected, OutcomeUnknown, TemporaryError
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


def sent(platform: OifPlatform) -> list[list[str]]:
    return [list(fields) for fields in platform.sim.received]


def held(platform: OifPlatform) -> int:
    return platform.sim.position("Sim101", ES).quantity


async def taken(platform: OifPlatform, command: str, count: int) -> list[list[str]]:
    """The commands of that kind, once the platform has taken `count` of them."""
    for _ in range(300):
        found = [c for c in sent(platform) if c[0] == command]
        if len(found) >= count or platform.sim.errors:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"the platform never took {count} {command}")


async def test_order_files_named_after_the_account_are_read(platform: OifPlatform) -> None:
    platform.naming = "account_order_id"
    async with started_ninjatrader(oif_config(platform)) as plugin:
        result = await plugin.execute_order(es_order())
    assert (platform.outgoing / f"Sim101_{ORDER_ID}.txt").exists()
    assert result.status is ExecutionStatus.FILLED and result.filled_quantity == 2
    assert len(sent(platform)) == 1


async def test_fields_after_the_first_three_are_ignored(platform: OifPlatform) -> None:
    platform.extra_fields = ("20251201 10:00:00", "Sim101")
    async with started_ninjatrader(oif_config(platform)) as plugin:
        result = await plugin.execute_order(es_order())
    assert (platform.outgoing / f"{ORDER_ID}.txt").read_text(encoding="utf-8").count(";") == 4
    assert (result.status, result.average_price) == (ExecutionStatus.FILLED, 5000)


async def test_a_position_never_reported_is_unknown_not_flat(platform: OifPlatform) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        with pytest.raises(TemporaryError, match=f"reported no position in {ES}"):
            await plugin.fetch_position(ES)


async def test_after_a_restart_the_position_is_unknown_and_a_full_close_still_flattens(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(client_order_id="open"))
        platform.restart()
        with pytest.raises(TemporaryError, match="deletes .* when it restarts"):
            await plugin.fetch_position(ES)
        result = await plugin.execute_order(Order(symbol=ES, action="close",
                                                  client_order_id="shut"))  # fmt: skip
        after = await plugin.fetch_position(ES)
    assert [c[0] for c in sent(platform)] == ["PLACE", "CLOSEPOSITION"]
    assert result.status is ExecutionStatus.FILLED
    assert result.error is not None and "how many contracts" in result.error
    assert held(platform) == after == 0


@pytest.mark.parametrize(
    ("signal", "refusal"),
    [({"action": "reverse", "side": "sell", "quantity": 2}, "a reverse could open"),
     ({"action": "close", "quantity": 1}, "partial close cannot be sized")],
    ids=["reverse", "partial-close"],
)  # fmt: skip
async def test_after_a_restart_what_needs_the_position_is_refused_not_guessed(
    platform: OifPlatform, signal: dict[str, Any], refusal: str
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(client_order_id="open"))
        platform.restart()
        with pytest.raises(OrderRejected, match=refusal):
            await plugin.execute_order(Order(symbol=ES, client_order_id="next", **signal))
    assert len(sent(platform)) == 1 and held(platform) == 2


async def test_a_stop_entry_that_stays_accepted_counts_as_placed(platform: OifPlatform) -> None:
    config = oif_config(platform, fill_timeout=60)
    async with started_ninjatrader(config) as plugin:
        # bounded: the plugin before issue 17 waited the whole fill_timeout for Working
        result = await asyncio.wait_for(
            plugin.execute_order(es_order(order_type="stop", stop_price=5010)), timeout=20
        )
    assert platform.sim.orders[ORDER_ID].state == "ACCEPTED"
    assert result.status is ExecutionStatus.PLACED


async def test_a_partial_close_changes_the_bracket_with_0_for_the_prices(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order(quantity=3, stop_loss=4990, take_profit=5020))
        await plugin.execute_order(Order(symbol=ES, action="close", quantity=1,
                                         client_order_id="part"))  # fmt: skip
        changes = await taken(platform, "CHANGE", 2)
    assert sorted((c[4], c[6], c[7], c[10]) for c in changes) == [
        ("2", "0", "0", f"{ORDER_ID}-SL"), ("2", "0", "0", f"{ORDER_ID}-TP")
    ]  # fmt: skip
    assert platform.sim.errors == []
    legs = platform.sim.orders
    assert (legs[f"{ORDER_ID}-SL"].quantity, legs[f"{ORDER_ID}-SL"].stop) == (2, 4990)
    assert (legs[f"{ORDER_ID}-TP"].quantity, legs[f"{ORDER_ID}-TP"].limit) == (2, 5020)


async def test_stacked_entries_keep_each_bracket_to_its_own_share(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        for entry in ("first", "second"):
            await plugin.execute_order(es_order(client_order_id=entry, stop_loss=4990,
                                             take_profit=5020))  # fmt: skip
        await plugin.execute_order(Order(symbol=ES, action="close", quantity=3,
                                         client_order_id="part"))  # fmt: skip
        await taken(platform, "CANCEL", 2)
        await taken(platform, "CHANGE", 2)
    stops = {o.order_id: o.quantity for o in platform.sim.working() if o.order_type != "LIMIT"}
    assert held(platform) == 1
    assert stops == {"THfirst-SL": 1}  # the newest pair went, the first covers what is left
    assert platform.sim.errors == []


async def test_a_partial_close_under_atm_is_refused_and_starts_no_strategy(
    platform: OifPlatform,
) -> None:
    platform.sim.atm_templates = {"2R-ES": (10.0, 20.0)}
    async with started_ninjatrader(oif_config(platform, atm_strategy="2R-ES")) as plugin:
        await plugin.execute_order(es_order(quantity=3))
        with pytest.raises(OrderRejected, match="stop and target at full size"):
            await plugin.execute_order(Order(symbol=ES, action="close", quantity=1,
                                             client_order_id="part"))  # fmt: skip
    atm_legs = sorted((o.name, o.quantity) for o in platform.sim.working())
    assert atm_legs == [("STOP1", 3), ("TARGET1", 3)]
    assert len(sent(platform)) == 1 and held(platform) == 3


async def test_a_full_close_under_atm_flattens_and_ends_its_stop_and_target(
    platform: OifPlatform,
) -> None:
    platform.sim.atm_templates = {"2R-ES": (10.0, 20.0)}
    async with started_ninjatrader(oif_config(platform, atm_strategy="2R-ES")) as plugin:
        await plugin.execute_order(es_order(quantity=3))
        result = await plugin.execute_order(Order(symbol=ES, action="close",
                                                  client_order_id="shut"))  # fmt: skip
    assert [c[11] for c in sent(platform)] == ["2R-ES", ""]  # STRATEGY on the entry only
    assert platform.sim.working() == [] and held(platform) == 0
    assert result.filled_quantity == 3


async def test_an_instrument_that_is_not_ascii_is_refused_and_leaves_no_file(
    platform: OifPlatform,
) -> None:
    config = oif_config(platform, instruments={"NIKKEI": "NKD 12-25 \u65e5\u7d4c"})
    async with started_ninjatrader(config) as plugin:
        with pytest.raises(OrderRejected, match="ASCII"):
            await plugin.execute_order(es_order(symbol="NIKKEI"))
    documents = platform.incoming.parent
    assert [p.name for p in documents.rglob("*") if p.is_file()] == []


def test_a_position_file_caught_while_rewritten_is_read_again_after_a_pause(
    tmp_path: Path,
) -> None:
    report = tmp_path / f"{ES} Globex_Sim101_Position.txt"
    report.write_text("", encoding="utf-8")  # NinjaTrader has emptied it and not yet written
    rewrite = threading.Timer(0.05, report.write_text, ("LONG;2;5000", "utf-8"))
    rewrite.start()
    try:
        held_now = OifLink(tmp_path, tmp_path).position(ES, "Sim101")
    finally:
        rewrite.join()
    assert held_now == 2


async def test_a_lookup_after_a_restart_of_tradehook_waits_for_a_late_report(
    platform: OifPlatform,
) -> None:
    platform.report_delay = 0.6
    async with started_ninjatrader(oif_config(platform, fill_timeout=0.3)) as crashed:
        with pytest.raises(OutcomeUnknown):
            await crashed.execute_order(es_order())
    async with started_ninjatrader(oif_config(platform, fill_timeout=2)) as restarted:
        found = await restarted.lookup_order(SIGNAL_ID, ES)
    assert found is not None and found.status is ExecutionStatus.FILLED
    assert len(sent(platform)) == 1


async def test_a_late_report_that_shows_a_market_order_accepted_waits_for_its_fill(
    platform: OifPlatform,
) -> None:
    platform.report_delay, platform.report_spacing = 0.6, 0.3  # Accepted, Working, Filled
    async with started_ninjatrader(oif_config(platform, fill_timeout=0.3)) as crashed:
        with pytest.raises(OutcomeUnknown):
            await crashed.execute_order(es_order())
    async with started_ninjatrader(oif_config(platform, fill_timeout=2)) as restarted:
        found = await restarted.lookup_order(SIGNAL_ID, ES)
    assert found is not None and (found.status, found.filled_quantity) == ("filled", 2)
    assert len(sent(platform)) == 1


async def test_a_send_cut_short_before_its_file_was_moved_in_is_found_absent(
    platform: OifPlatform,
) -> None:
    stranded = platform.incoming.parent / f".tradehook-{ORDER_ID}.0123abcd.tmp"
    stranded.write_bytes(b"PLACE;Sim101;ES 12-25;BUY;2;MARKET;;;GTC;;" + ORDER_ID.encode())
    async with started_ninjatrader(oif_config(platform)) as restarted:
        found = await restarted.lookup_order(SIGNAL_ID, ES)
    assert found is None and not stranded.exists()
    assert sent(platform) == []
