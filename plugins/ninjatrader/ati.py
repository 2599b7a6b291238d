"""The Automated Trading Interface's vocabulary, shared by both transports.

A `Command` has the 13 fields of an order instruction, in the documented order:
`COMMAND;ACCOUNT;INSTRUMENT;ACTION;QTY;ORDER TYPE;LIMIT;STOP;TIF;OCO ID;ORDER ID;STRATEGY;
STRATEGY ID`. The file interface writes it as a line; the DLL passes the same fields to
`Client.Command`. A `Link` is what the plugin needs from either transport.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import astuple, dataclass
from typing import Protocol, TypeVar

from plugins.errors import TemporaryError

T = TypeVar("T")
FINAL_STATES = frozenset({"FILLED", "CANCELLED", "REJECTED"})
RESTING_STATES = frozenset({
    "ACCEPTED", "WORKING", "SUSPENDED", "TRIGGERPENDING", "PARTFILLED", "CHANGEPENDING",
    "CHANGESUBMITTED",
})  # fmt: skip
"""States of an order that rests at the broker or exchange (Order State Definitions: Accepted
is "confirmation received by broker", where stop orders commonly stay; Suspended is "held by
broker and ready to be submitted when triggered")."""
_SAFE_ID = re.compile(r"^[A-Za-z0-9]{1,40}$")


class PositionNotReported(TemporaryError):
    """NinjaTrader has not reported the position since it started: its file interface writes
    one only when the position changes, and deletes the last one when it restarts."""


def order_id_for(client_order_id: str) -> str:
    """NinjaTrader's order id for a signal: `TH` and the signal id (a ULID), or its hash when
    it has characters a file name should not."""
    if _SAFE_ID.match(client_order_id):
        return f"TH{client_order_id}"
    return "TH" + hashlib.blake2b(client_order_id.encode(), digest_size=13).hexdigest().upper()


def price_text(price: float | None) -> str:
    if price is None:
        return ""
    return f"{price:.10f}".rstrip("0").rstrip(".") or "0"


@dataclass(frozen=True)
class Command:
    command: str
    account: str = ""
    instrument: str = ""
    action: str = ""
    quantity: int | None = None
    order_type: str = ""
    limit_price: float | None = None
    stop_price: float | None = None
    time_in_force: str = ""
    oco_id: str = ""
    order_id: str = ""
    strategy: str = ""
    strategy_id: str = ""

    def line(self) -> str:
        fields = [
            "" if v is None else price_text(v) if isinstance(v, float) else str(v)
            for v in astuple(self)
        ]
        return ";".join(fields)

    def describe(self) -> str:
        return " ".join(str(p) for p in (self.command, self.action, self.quantity or "",
                                         self.instrument, self.order_id) if p)  # fmt: skip


def place(
    account: str,
    instrument: str,
    action: str,
    quantity: int,
    order_type: str,
    time_in_force: str,
    *,
    limit: float | None = None,
    stop: float | None = None,
    oco_id: str = "",
    order_id: str = "",
    strategy: str = "",
    strategy_id: str = "",
    command: str = "PLACE",
) -> Command:
    return Command(
        command, account, instrument, action, quantity, order_type, limit, stop, time_in_force,
        oco_id, order_id, strategy, strategy_id,
    )  # fmt: skip


def cancel(order_id: str) -> Command:
    return Command("CANCEL", order_id=order_id)


def change(order_id: str, quantity: int = 0, strategy_id: str = "", stop: float = 0.0) -> Command:
    """A new quantity or stop price for a working order, in the fields of Order Instruction
    Files, CHANGE (`CHANGE;;;;QTY;;LIMIT;STOP;;;ORDER ID;;STRATEGY ID`). What stays is sent as
    0, which Commands and Valid Parameters, CHANGE defines as "do not change"; a blank field is
    not defined there."""
    return Command("CHANGE", quantity=quantity, limit_price=0.0, stop_price=stop,
                   order_id=order_id, strategy_id=strategy_id)  # fmt: skip


def close_position(account: str, instrument: str) -> Command:
    return Command("CLOSEPOSITION", account, instrument)


CANCEL_ALL_ORDERS = Command("CANCELALLORDERS")
FLATTEN_EVERYTHING = Command("FLATTENEVERYTHING")


@dataclass(frozen=True)
class OrderState:
    """An order's state as NinjaTrader reports it: `FILLED;1;5012.25` in an order state file,
    or `OrderStatus`, `Filled` and `AvgFillPrice` through the DLL."""

    state: str  # upper case, no spaces: FILLED, WORKING, PARTFILLED, ...
    filled: int
    average_price: float

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def resting(self) -> bool:
        return self.state in RESTING_STATES

    @classmethod
    def parse(cls, text: str) -> OrderState | None:
        """An order state file's content (`STATE;FILLED;AVERAGE PRICE`, and any fields after
        those, which are ignored); None while it is being written."""
        parts = text.strip().split(";")
        if len(parts) < 3 or not parts[0]:
            return None
        try:
            return cls(normal_state(parts[0]), int(float(parts[1] or 0)), float(parts[2] or 0))
        except ValueError:
            return None


def normal_state(state: str) -> str:
    return state.replace(" ", "").upper()


class Link(Protocol):
    """One transport to NinjaTrader. Every method blocks; the plugin runs them on its worker
    thread."""

    def send(self, commands: Sequence[Command], tag: str) -> None:
        """Hand the commands to NinjaTrader, in order. `tag` names them uniquely (the file
        interface names its file after it). Raises TemporaryError when nothing was handed."""

    def order_state(self, order_id: str) -> OrderState | None:
        """The order's last reported state; None when NinjaTrader reported none."""

    def position(self, instrument: str, account: str) -> int:
        """The net position in contracts: positive long, negative short, 0 flat. Raises
        TemporaryError when NinjaTrader has not reported it, rather than guess flat."""

    def surely_absent(self, order_id: str) -> bool:
        """True only when NinjaTrader certainly has no such order, so sending it again cannot
        duplicate it. Raises TemporaryError when NinjaTrader cannot be asked right now."""

    def withdraw(self, tag: str) -> bool:
        """Take back commands that NinjaTrader has not picked up; True when that worked, so
        they were never processed."""

    def quote(self, instrument: str) -> tuple[float, float, float]:
        """Bid, ask and last."""

    def healthy(self) -> bool: ...

    def close(self) -> None: ...


class RunBlocking(Protocol):
    """Runs one blocking call (a `Link` method) on the plugin's worker thread."""

    def __call__(self, call: Callable[[], T], /) -> Awaitable[T]: ...


def stacked(commands: Sequence[Command]) -> str:
    return "".join(f"{c.line()}\r\n" for c in commands)
