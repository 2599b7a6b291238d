"""A simulated NinjaTrader 8 account: the commands of the Automated Trading Interface, executed.

Each rule names the NinjaTrader 8 Help Guide page it follows (Automated Trading Interface >
Commands and Valid Parameters, Order Instruction Files, Order State Definitions); where the
pages are silent the rule says "undocumented" and docs/plugins/ninjatrader.md lists it as
unconfirmed.

- Each command arrives as its 13 fields in the documented order (Order Instruction Files: the
  format of each command). A malformed one is logged in `errors` and ignored, as NinjaTrader
  logs it and does nothing (undocumented: what it does with a bad line).
- Market orders fill at the instrument's price; limit and stop orders rest until `set_price`
  moves through them. A resting limit order is Working ("confirmation received by exchange");
  a resting stop stays Accepted ("confirmation received by broker"), where brokers hold stops
  (Order State Definitions; which orders stay Accepted depends on the broker: undocumented).
- A fill moves the position before the order is reported Filled (undocumented which comes
  first).
- An OCO group loses its other orders when one fills or is cancelled (Commands and Valid
  Parameters: OCO ID).
- CHANGE takes 0 for a price or quantity that should not change (Commands and Valid
  Parameters, CHANGE: "Pass in zero (0) values for price and quantity if you do not wish to
  change these order parameters"); a blank field is not documented and is refused here.
- A stop order on the wrong side of the market (a sell stop at or above it, a buy stop at or
  below it) is Rejected when placed, and a CHANGE that would move a working stop there is
  refused, leaving the order as it was (NinjaTrader 8 Help Guide, Stop Order Handling: "Stop
  order rejected due to price outside of range"; the rule as brokers state it: Flowbots support,
  "Avoid invalid price order rejection message": "For a sell stop order ... the stop price must
  be below the current bid price"). What NinjaTrader 8 reports for a refused CHANGE is
  undocumented.
- CANCEL and CHANGE take an order id given in PLACE, or an ATM order name (STOP1, TARGET1...)
  with its strategy id (Commands and Valid Parameters, CANCEL and CHANGE).
- PLACE with a STRATEGY names an ATM template that must exist (Commands and Valid
  Parameters: STRATEGY); when its entry fills, the template's stop and target are placed for
  the filled quantity as STOP1 and TARGET1, OCO with each other (the ATM Strategy pages; the
  order ids NinjaTrader gives them are its own).
- CLOSEPOSITION cancels the instrument's working orders and flattens it; CLOSESTRATEGY closes
  an ATM strategy (Commands and Valid Parameters).

Every state change is announced to the listeners (the front ends that write NinjaTrader's
outgoing files or answer the DLL's questions).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fakes.ninjatrader_commands import (
    COMMANDS,
    FIELD_COUNT,
    check_change,
    check_order,
    price_of,
    stop_out_of_range,
)

ROOT_PRICES = {"ES": 5000.0, "MES": 5000.0, "NQ": 18000.0, "MNQ": 18000.0, "YM": 39000.0,
               "RTY": 2000.0, "CL": 80.0, "GC": 2350.0}  # fmt: skip


@dataclass
class SimOrder:
    order_id: str
    account: str
    instrument: str
    action: str
    quantity: int
    order_type: str
    limit: float | None
    stop: float | None
    tif: str
    oco: str
    strategy: str = ""
    strategy_id: str = ""
    name: str = ""
    """An ATM order's name (STOP1, TARGET1) within its strategy."""
    state: str = "INITIALIZED"
    filled: int = 0
    average_price: float = 0.0
    triggered: bool = False


@dataclass
class SimPosition:
    quantity: int = 0  # signed
    average_price: float = 0.0


@dataclass
class SimulatedNinjaTrader:
    accounts: tuple[str, ...] = ("Sim101",)
    prices: dict[str, float] = field(default_factory=dict)
    orders: dict[str, SimOrder] = field(default_factory=dict)
    positions: dict[tuple[str, str], SimPosition] = field(default_factory=dict)
    received: list[list[str]] = field(default_factory=list)
    handed: list[list[str]] = field(default_factory=list)
    """Every instruction NinjaTrader was handed, including the ones it refused."""
    errors: list[str] = field(default_factory=list)
    reject_next: int = 0
    reject_order_types: set[str] = field(default_factory=set)
    atm_templates: dict[str, tuple[float, float]] = field(default_factory=dict)
    """ATM strategy template -> (stop, target) distance in points from the entry's fill."""
    silent: bool = False
    """Take commands but never report them (a platform that died after reading the file)."""
    on_order: list[Callable[[SimOrder], None]] = field(default_factory=list)
    on_position: list[Callable[[str, str, SimPosition], None]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _internal: int = 0

    def price(self, instrument: str) -> float | None:
        if instrument in self.prices:
            return self.prices[instrument]
        return ROOT_PRICES.get(instrument.split(" ")[0])

    def set_price(self, instrument: str, price: float) -> None:
        with self.lock:
            self.prices[instrument] = price
            for order in list(self.orders.values()):
                if order.instrument == instrument and order.state in ("WORKING", "ACCEPTED"):
                    self._try_fill(order)

    def position(self, account: str, instrument: str) -> SimPosition:
        return self.positions.get((account, instrument), SimPosition())

    def execute(self, fields: list[str]) -> bool:
        """One instruction; False (and an entry in `errors`) when NinjaTrader would refuse it."""
        with self.lock:
            self.handed.append(fields)
            problem = self._check(fields)
            if problem:
                self.errors.append(f"{';'.join(fields)}: {problem}")
                return False
            self.received.append(fields)
            if self.silent:
                return True
            command, account, instrument = fields[0], fields[1], fields[2]
            if command in ("PLACE", "REVERSEPOSITION"):
                if command == "REVERSEPOSITION":
                    self._flatten(account, instrument)
                self._place(fields)
            elif command == "CANCEL":
                self._cancel(self._named(fields[10], fields[12]))
            elif command == "CHANGE":
                self._change(fields)
            elif command == "CLOSEPOSITION":
                self._cancel_working(account, instrument)
                self._flatten(account, instrument)
            elif command == "CLOSESTRATEGY":
                self._close_strategy(fields[12])
            elif command == "CANCELALLORDERS":
                self._cancel_working(None, None)
            elif command == "FLATTENEVERYTHING":
                self._cancel_working(None, None)
                for acct, instr in list(self.positions):
                    self._flatten(acct, instr)
            return True

    def _check(self, f: list[str]) -> str | None:
        if len(f) != FIELD_COUNT:
            return f"{len(f)} fields instead of {FIELD_COUNT}"
        command = f[0]
        if command not in COMMANDS:
            return f"unknown command {command!r}"
        if command in ("CANCEL", "CHANGE") and self._named(f[10], f[12]) is None:
            return f"unknown order id {f[10]!r}"
        if command == "CHANGE":
            return check_change(f) or self._check_changed_stop(f)
        strategies = {o.strategy_id for o in self.orders.values()}
        if command == "CLOSESTRATEGY" and f[12] not in strategies:
            return f"unknown strategy id {f[12]!r}"
        if command in ("PLACE", "REVERSEPOSITION", "CLOSEPOSITION"):
            if f[1] not in self.accounts:
                return f"unknown account {f[1]!r}"
            if self.price(f[2]) is None:
                return f"unknown instrument {f[2]!r}"
        if command in ("PLACE", "REVERSEPOSITION"):
            if f[11] and f[11] not in self.atm_templates:
                return f"unknown ATM strategy template {f[11]!r}"
            return check_order(f, self.orders)
        return None

    def _check_changed_stop(self, f: list[str]) -> str | None:
        order = self._named(f[10], f[12])
        stop = price_of(f[7])
        if order is None or stop is None or order.triggered:
            return None
        return self._wrong_side(order.instrument, order.action, stop)

    def _wrong_side(self, instrument: str, action: str, stop: float) -> str | None:
        market = self.price(instrument)
        return None if market is None else stop_out_of_range(market, action, stop)

    def _named(self, order_id: str, strategy_id: str) -> SimOrder | None:
        if order_id in self.orders:
            return self.orders[order_id]
        for order in reversed(self.orders.values()):
            if strategy_id and order.strategy_id == strategy_id and order.name == order_id:
                return order
        return None

    def working(self, instrument: str | None = None) -> list[SimOrder]:
        return [o for o in self.orders.values() if o.state in ("ACCEPTED", "WORKING")
                and instrument in (None, o.instrument)]  # fmt: skip

    def _place(self, f: list[str]) -> None:
        if not f[10]:
            self._internal += 1
        order = SimOrder(
            f[10] or f"NT#{self._internal}", f[1], f[2], f[3], int(f[4]), f[5], price_of(f[6]),
            price_of(f[7]), f[8], f[9], f[11], f[12],
        )  # fmt: skip
        self.orders[order.order_id] = order
        wrong_side = order.stop is not None and self._wrong_side(
            order.instrument, order.action, order.stop)
        if self.reject_next or order.order_type in self.reject_order_types or wrong_side:
            self.reject_next = max(self.reject_next - 1, 0)
            self._set(order, "REJECTED")
            return
        self._set(order, "ACCEPTED")
        if not self._try_fill(order) and order.order_type in ("MARKET", "LIMIT"):
            self._set(order, "WORKING")  # a stop stays Accepted, held by the broker

    def _try_fill(self, order: SimOrder) -> bool:
        market = self.price(order.instrument)
        assert market is not None
        buying = order.action == "BUY"
        if order.order_type in ("STOPMARKET", "STOPLIMIT") and not order.triggered:
            assert order.stop is not None
            if (market < order.stop) if buying else (market > order.stop):
                return False
            order.triggered = True
        if order.order_type in ("LIMIT", "STOPLIMIT"):
            assert order.limit is not None
            if (market > order.limit) if buying else (market < order.limit):
                return False
        self._fill(order, market)
        return True

    def _fill(self, order: SimOrder, price: float) -> None:
        order.filled, order.average_price = order.quantity, price
        signed = order.quantity if order.action == "BUY" else -order.quantity
        self._move(order.account, order.instrument, signed, price)  # undocumented: which first
        self._set(order, "FILLED")
        if order.oco:
            for other in list(self.orders.values()):
                if other.oco == order.oco and other is not order:
                    self._cancel(other)
        if order.strategy and not order.name:
            self._attach_atm(order, price)

    def _attach_atm(self, entry: SimOrder, price: float) -> None:
        stop_points, target_points = self.atm_templates[entry.strategy]
        sign = 1 if entry.action == "BUY" else -1
        exit_action = "SELL" if entry.action == "BUY" else "BUY"
        oco = f"ATM-{entry.strategy_id}"
        for name, kind, limit, stop in (
            ("STOP1", "STOPMARKET", None, price - sign * stop_points),
            ("TARGET1", "LIMIT", price + sign * target_points, None),
        ):
            self._internal += 1
            leg = SimOrder(f"NT#{self._internal}", entry.account, entry.instrument, exit_action,
                           entry.filled, kind, limit, stop, entry.tif, oco,
                           strategy_id=entry.strategy_id, name=name)  # fmt: skip
            self.orders[leg.order_id] = leg
            self._set(leg, "ACCEPTED")
            if kind == "LIMIT":
                self._set(leg, "WORKING")

    def _close_strategy(self, strategy_id: str) -> None:
        held = 0
        for order in list(self.orders.values()):
            if order.strategy_id != strategy_id:
                continue
            self._cancel(order)
            signed = order.filled if order.action == "BUY" else -order.filled
            held += signed
        entry = next(o for o in self.orders.values() if o.strategy_id == strategy_id)
        price = self.price(entry.instrument)
        if held and price is not None:
            self._move(entry.account, entry.instrument, -held, price)

    def _move(self, account: str, instrument: str, signed: int, price: float) -> None:
        held = self.positions.setdefault((account, instrument), SimPosition())
        total = held.quantity + signed
        if total == 0:
            held.average_price = 0.0
        elif held.quantity == 0 or (held.quantity > 0) != (total > 0):
            held.average_price = price
        elif (held.quantity > 0) == (signed > 0):
            value = held.average_price * abs(held.quantity) + price * abs(signed)
            held.average_price = value / abs(total)
        held.quantity = total
        for listener in self.on_position:
            listener(account, instrument, held)

    def _flatten(self, account: str, instrument: str) -> None:
        held = self.position(account, instrument)
        price = self.price(instrument)
        if held.quantity and price is not None:
            self._move(account, instrument, -held.quantity, price)

    def _cancel(self, order: SimOrder) -> None:
        if order.state in ("FILLED", "CANCELLED", "REJECTED"):
            return
        self._set(order, "CANCELLED")
        if order.oco:
            for other in list(self.orders.values()):
                if other.oco == order.oco and other is not order:
                    self._cancel(other)

    def _cancel_working(self, account: str | None, instrument: str | None) -> None:
        for order in list(self.orders.values()):
            if account in (None, order.account) and instrument in (None, order.instrument):
                self._cancel(order)

    def _change(self, f: list[str]) -> None:
        order = self._named(f[10], f[12])
        assert order is not None
        if int(float(f[4])):
            order.quantity = int(float(f[4]))
        order.limit = price_of(f[6]) or order.limit
        order.stop = price_of(f[7]) or order.stop
        self._set(order, order.state)

    def _set(self, order: SimOrder, state: str) -> None:
        order.state = state
        for listener in self.on_order:
            listener(order)
