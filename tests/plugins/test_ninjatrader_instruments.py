"""TradingView symbols as NinjaTrader instruments: the quarterly roll calendar and the maps."""

from __future__ import annotations

from datetime import date

import pytest

from plugins.errors import UnknownSymbol
from plugins.ninjatrader.config import DEFAULT_QUARTERLY_ROOTS
from plugins.ninjatrader.instruments import expiry, instrument_for, third_friday


def instrument(symbol: str, today: date, mapping: dict[str, str] | None = None) -> str:
    return instrument_for(symbol, mapping or {}, DEFAULT_QUARTERLY_ROOTS, 8, today)


def test_third_friday_of_a_month() -> None:
    assert [third_friday(2025, m) for m in (3, 6, 12)] == [
        date(2025, 3, 21), date(2025, 6, 20), date(2025, 12, 19)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2025, 10, 1), "ES 12-25"), (date(2025, 12, 10), "ES 12-25"),
     (date(2025, 12, 11), "ES 03-26"), (date(2025, 12, 31), "ES 03-26"),
     (date(2026, 1, 15), "ES 03-26")],
    ids=["before-roll", "day-before-roll", "roll-day", "after-expiry", "new-year"],
)  # fmt: skip
def test_the_front_contract_rolls_eight_days_before_expiry(today: date, expected: str) -> None:
    assert instrument("ES1!", today) == expected


def test_nkd_expires_the_business_day_before_the_second_friday() -> None:
    # CME Nikkei/USD: "Business Day prior to 2nd Friday of the contract month"
    assert [expiry("NKD", 2025, m) for m in (3, 12)] == [date(2025, 3, 13), date(2025, 12, 11)]


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2025, 12, 2), "NKD 12-25"), (date(2025, 12, 3), "NKD 03-26")],
    ids=["day-before-roll", "roll-day"],
)  # fmt: skip
def test_nkd_rolls_eight_days_before_its_own_expiry(today: date, expected: str) -> None:
    assert instrument("NKD1!", today) == expected


def test_the_second_continuous_contract_is_the_next_quarter() -> None:
    assert instrument("NQ2!", date(2025, 10, 1)) == "NQ 03-26"


def test_micro_and_russell_roots_are_quarterly() -> None:
    today = date(2025, 4, 1)
    assert [instrument(s, today) for s in ("MES1!", "M2K1!", "CME_MINI:RTY1!")] == [
        "MES 06-25", "M2K 06-25", "RTY 06-25"
    ]  # fmt: skip


@pytest.mark.parametrize(("symbol", "expected"), [("ESZ2025", "ES 12-25"), ("ESH26", "ES 03-26"),
                                                  ("CME:MNQM2026", "MNQ 06-26")])  # fmt: skip
def test_tradingview_contract_codes_name_their_month(symbol: str, expected: str) -> None:
    assert instrument(symbol, date(2025, 1, 1)) == expected


def test_ninjatrader_instrument_names_pass_through() -> None:
    assert instrument("ES 09-25", date(2025, 1, 1)) == "ES 09-25"


def test_an_explicit_map_wins_over_the_calendar() -> None:
    mapping = {"ES1!": "ES 03-26", "CL1!": "CL 01-26"}
    today = date(2025, 10, 1)
    assert [instrument(s, today, mapping) for s in ("ES1!", "NYMEX:CL1!")] == [
        "ES 03-26", "CL 01-26"
    ]  # fmt: skip


def test_a_continuous_symbol_without_a_quarterly_root_must_be_mapped() -> None:
    with pytest.raises(UnknownSymbol, match="CL is not a quarterly root"):
        instrument("CL1!", date(2025, 10, 1))


@pytest.mark.parametrize("symbol", ["EURUSD", "BTC/USDT", "AAPL"])
def test_a_symbol_that_is_no_futures_contract_is_unknown(symbol: str) -> None:
    with pytest.raises(UnknownSymbol, match="not a futures contract"):
        instrument(symbol, date(2025, 10, 1))
