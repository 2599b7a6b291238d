"""A daily trading window in a time zone, for the `trading_hours` risk rule.

    trading_hours = { start = "09:30", end = "16:00", timezone = "America/New_York",
                      days = ["mon", "tue", "wed", "thu", "fri"] }

The window includes its start and excludes its end. A window whose end is before its start runs
overnight (`start = "22:00", end = "06:00"`) and belongs to the day it starts on.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class TradingHours(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time
    end: time
    timezone: str = "UTC"
    days: list[str] = Field(default_factory=lambda: list(DAYS))
    """The days a window may start on; every day by default."""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _parse_time(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return time.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"expected a time such as \"09:30\", got {value!r}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use a name such as \"America/New_York\" or \"UTC\""
            ) from None
        return value

    @field_validator("days", mode="before")
    @classmethod
    def _parse_days(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if isinstance(value, list):
            days = [str(day).strip().lower()[:3] for day in value]
            unknown = [day for day in days if day not in DAYS]
            if unknown:
                raise ValueError(f"unknown day {unknown[0]!r}; expected {', '.join(DAYS)}")
            if not days:
                raise ValueError("no days: the window would never open")
            return days
        return value

    @model_validator(mode="after")
    def _check_window(self) -> TradingHours:
        if self.start == self.end:
            raise ValueError("start and end are the same time; leave trading_hours out to "
                             "trade around the clock")
        return self

    def is_open(self, now: float) -> bool:
        local = datetime.fromtimestamp(now, ZoneInfo(self.timezone))
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            return self._day(local) in self.days and self.start <= clock < self.end
        if clock >= self.start:
            return self._day(local) in self.days
        return clock < self.end and self._day(local - timedelta(days=1)) in self.days

    def describe_now(self, now: float) -> str:
        local = datetime.fromtimestamp(now, ZoneInfo(self.timezone))
        return f"{local:%a %H:%M:%S} in {self.timezone}"

    def describe(self) -> str:
        days = "every day" if len(self.days) == len(DAYS) else ", ".join(self.days)
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.timezone}, {days}"

    @staticmethod
    def _day(moment: datetime) -> str:
        return DAYS[moment.weekday()]
