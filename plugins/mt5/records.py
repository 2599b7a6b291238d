"""The fields of the terminal's structures that the plugin reads, as plain records.

The terminal returns named tuples; `Terminal.read` copies only these fields, where the
terminal runs, and each record is built from that row.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Self


class Record:
    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls(*row)

    @classmethod
    def all(cls, rows: Any) -> list[Self]:
        return [cls(*row) for row in (rows or ())]


@dataclass(frozen=True)
class SymbolSpec(Record):
    name: str
    visible: bool
    digits: int
    point: float
    trade_tick_size: float
    trade_stops_level: int
    trade_freeze_level: int
    trade_exemode: int
    expiration_mode: int
    filling_mode: int
    volume_min: float
    volume_max: float
    volume_step: float
    trade_contract_size: float
    trade_tick_value: float


@dataclass(frozen=True)
class Tick(Record):
    time: int
    bid: float
    ask: float
    last: float
    volume: int


@dataclass(frozen=True)
class Position(Record):
    ticket: int
    time_msc: int
    type: int
    magic: int
    volume: float
    price_open: float
    symbol: str
    comment: str
    sl: float
    tp: float


@dataclass(frozen=True)
class PendingOrder(Record):
    ticket: int
    time_setup: int
    type: int
    state: int
    magic: int
    volume_initial: float
    volume_current: float
    price_open: float
    symbol: str
    comment: str


@dataclass(frozen=True)
class Deal(Record):
    ticket: int
    order: int
    time: int
    type: int
    entry: int
    magic: int
    position_id: int
    reason: int
    volume: float
    price: float
    symbol: str
    comment: str


@dataclass(frozen=True)
class HistoryOrder(Record):
    ticket: int
    time_setup: int
    type: int
    state: int
    magic: int
    position_id: int
    reason: int
    volume_initial: float
    volume_current: float
    price_open: float
    symbol: str
    comment: str


@dataclass(frozen=True)
class SendResult(Record):
    retcode: int
    deal: int
    order: int
    volume: float
    price: float
    comment: str


@dataclass(frozen=True)
class TerminalState(Record):
    connected: bool
    trade_allowed: bool


@dataclass(frozen=True)
class AccountState(Record):
    trade_allowed: bool
    margin_mode: int
    currency: str
    equity: float
    margin_free: float
