"""PineConnector's breakeven and pips trailing parameters: read in pips, one broken per test."""

from __future__ import annotations

import pytest

from webhook.decide.exit_distances import ExitDistances, PipBreakEven, PipTrailingStop
from webhook.dialects import ParsedSignal, parse_alert
from webhook.dialects.pineconnector_targets import PineConnectorSettings, TargetType
from webhook.errors import PayloadError

BUY = "60123456789,buy,EURUSD,risk=1"


def parse(extra: str, *, target_type: TargetType = TargetType.PRICE) -> ParsedSignal:
    settings = PineConnectorSettings(target_type=target_type)
    parsed = parse_alert(f"{BUY},{extra}".encode(), pineconnector=settings)
    assert parsed.dialect == "pineconnector"
    return parsed


def refused(text: str) -> PayloadError:
    with pytest.raises(PayloadError) as caught:
        parse_alert(text.encode())
    return caught.value


def test_breakeven_trigger_and_offset_are_pips() -> None:
    parsed = parse("betrigger=15,beoffset=2")
    assert parsed.exit_distances == ExitDistances(break_even=PipBreakEven(trigger=15, offset=2))
    assert parsed.order.exits is None  # in price once the broker says what a pip is


def test_breakeven_without_offset_moves_the_stop_to_the_entry() -> None:
    parsed = parse("betrigger=15")
    assert parsed.exit_distances == ExitDistances(break_even=PipBreakEven(trigger=15))


def test_trailing_trigger_distance_and_step_are_pips() -> None:
    parsed = parse("trailtrig=30,traildist=20,trailstep=5")
    assert parsed.exit_distances == ExitDistances(
        trailing_stop=PipTrailingStop(distance=20, trigger=30, step=5))


def test_trailing_distance_alone_trails_from_the_entry() -> None:
    parsed = parse("traildist=20")
    assert parsed.exit_distances == ExitDistances(trailing_stop=PipTrailingStop(distance=20))


@pytest.mark.parametrize("target_type", list(TargetType))
def test_the_target_type_setting_leaves_them_in_pips(target_type: TargetType) -> None:
    parsed = parse("traildist=20,betrigger=10", target_type=target_type)
    assert parsed.exit_distances is not None
    assert parsed.exit_distances.trailing_stop == PipTrailingStop(distance=20)


def test_breakeven_and_trailing_together_with_a_stop_loss() -> None:
    parsed = parse("sl=1.07,betrigger=15,traildist=20")
    assert parsed.order.stop_loss == 1.07
    assert parsed.exit_distances == ExitDistances(
        trailing_stop=PipTrailingStop(distance=20), break_even=PipBreakEven(trigger=15))


def test_a_pending_entry_takes_them_too() -> None:
    parsed = parse_alert(b"60123456789,buylimit,EURUSD,price=1.08,risk=1,traildist=20")
    assert parsed.exit_distances == ExitDistances(trailing_stop=PipTrailingStop(distance=20))


@pytest.mark.parametrize("extra", ["trailtrig=30", "trailstep=5", "trailtrig=30,trailstep=5"])
def test_trailing_without_its_distance_names_traildist(extra: str) -> None:
    assert refused(f"{BUY},{extra}").field == "traildist"


def test_breakeven_offset_without_its_trigger_names_betrigger() -> None:
    assert refused(f"{BUY},beoffset=2").field == "betrigger"


@pytest.mark.parametrize(
    ("extra", "field"),
    [("betrigger=0", "betrigger"), ("betrigger=-5", "betrigger"), ("traildist=0", "traildist"),
     ("traildist=20,trailtrig=-1", "trailtrig"), ("traildist=20,trailstep=0", "trailstep"),
     ("betrigger=5,beoffset=-1", "beoffset"), ("traildist=far", "traildist")],
)
def test_a_distance_that_is_not_a_positive_number_names_its_parameter(
    extra: str, field: str
) -> None:
    assert refused(f"{BUY},{extra}").field == field


def test_breakeven_offset_may_be_zero() -> None:
    parsed = parse("betrigger=15,beoffset=0")
    assert parsed.exit_distances == ExitDistances(break_even=PipBreakEven(trigger=15))


@pytest.mark.parametrize("command", ["closelong", "closeshort", "cancellong"])
def test_on_a_close_or_cancel_they_are_refused(command: str) -> None:
    error = refused(f"60123456789,{command},EURUSD,traildist=20")
    assert error.field == "traildist"
    assert "entry command" in str(error)


@pytest.mark.parametrize("parameter", ["atrtimeframe=60", "atrperiod=14", "atrmultiplier=2",
                                       "atrshift=1", "atrtrigger=20"])
def test_atr_trailing_stays_refused_with_its_reason(parameter: str) -> None:
    error = refused(f"{BUY},{parameter}")
    assert error.field == parameter.split("=")[0]
    assert "ATR trailing stop" in str(error)
    assert "indicator" in str(error)


def test_a_take_profit_ladder_is_not_pineconnector_syntax() -> None:
    assert refused(f"{BUY},tp1=1.09").field == "tp1"
