"""The trading-hours window: edges, overnight windows, days, time zones, and bad settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from webhook.decide.trading_hours import TradingHours

TOKYO = ZoneInfo("Asia/Tokyo")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    """A moment in Tokyo in the week of Monday 2026-11-23 (day 0 = Monday)."""
    return datetime(2026, 11, 23 + day, hour, minute, second, tzinfo=TOKYO).timestamp()


def hours(**fields: Any) -> TradingHours:
    return TradingHours.model_validate({"timezone": "Asia/Tokyo", **fields})


def test_window_includes_its_start_and_excludes_its_end() -> None:
    window = hours(start="09:00", end="15:00")
    assert not window.is_open(at(0, 8, 59, 59))
    assert window.is_open(at(0, 9))
    assert window.is_open(at(0, 14, 59, 59))
    assert not window.is_open(at(0, 15))


def test_overnight_window_belongs_to_the_day_it_starts() -> None:
    window = hours(start="22:00", end="06:00", days=["mon"])
    assert not window.is_open(at(0, 21, 59, 59))
    assert window.is_open(at(0, 22))
    assert window.is_open(at(1, 5, 59, 59))  # Tuesday morning, Monday's session
    assert not window.is_open(at(1, 6))
    assert not window.is_open(at(1, 22))  # Tuesday evening: no session starts on Tuesday
    assert not window.is_open(at(0, 5))  # Monday morning belongs to Sunday's session


def test_days_limit_the_window() -> None:
    window = hours(start="09:00", end="15:00", days="mon,tue,wed,thu,fri")
    assert window.is_open(at(4, 10))
    assert not window.is_open(at(5, 10))  # Saturday


def test_the_time_zone_decides() -> None:
    window = TradingHours.model_validate({"start": "09:00", "end": "10:00",
                                          "timezone": "America/New_York"})
    assert not window.is_open(at(0, 9, 30))  # 09:30 in Tokyo is 19:30 in New York


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"start": "9h", "end": "10:00"}, "start"),
        ({"start": "09:00", "end": "09:00"}, ""),
        ({"start": "09:00", "end": "10:00", "timezone": "Mars/Olympus"}, "timezone"),
        ({"start": "09:00", "end": "10:00", "days": ["funday"]}, "days"),
        ({"start": "09:00", "end": "10:00", "days": []}, "days"),
        ({"start": "09:00", "end": "10:00", "open": "yes"}, "open"),
    ],
)
def test_wrong_setting_names_its_key(fields: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TradingHours.model_validate(fields)
    assert ".".join(str(p) for p in caught.value.errors()[0]["loc"]) == where
