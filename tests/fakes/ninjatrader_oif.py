"""NinjaTrader's file interface, simulated: a thread that watches the incoming folder.

The rules, with the NinjaTrader 8 Help Guide page each follows (Automated Trading Interface >
File Interface):

- It takes every `oif*.txt` the moment it appears in `incoming`, and nothing else (Order
  Instruction Files: "must be written to the folder ...\\incoming and be named oif*.txt";
  "processed the instant they are written"), executes each line, and deletes the file
  (undocumented, but what NinjaTrader is seen to do). A file that is not whole when read (an
  empty one, a line cut short) goes to `torn`, which a correct writer never fills.
- On every state change of an order placed with an order id it writes an order state file
  (Information Update Files: "The file name is 'orderId.txt'", "Order State;Filled
  Amount;Average FillPrice"). `naming = "account_order_id"` writes `<account>_<order id>.txt`
  instead, as independent NT8 clients read it (miasmos/ninjatrader, src/files/orderState.ts);
  which one NinjaTrader 8 really writes is unconfirmed. `extra_fields` appends fields after the
  three (seen by other clients, undocumented).
- On every position change, and only then, it writes `<instrument> Globex_<account>_Position.txt`
  (`LONG|SHORT|FLAT;QUANTITY;AVG PRICE`) (Information Update Files: "generated on every update
  of a position"). `rewrite_pause` rewrites a file in place, empty for that long first, as a
  reader on a slow disk or share may catch it (undocumented).
- `restart()` deletes everything in `outgoing` ("The contents of this folder will be deleted
  when the NinjaTrader application is restarted"); positions and orders live on, and no file
  is written again until they change.
- `paused` leaves files unread (NinjaTrader not running); `report_delay` holds back the
  outgoing files (NinjaTrader busy, or a share slow to show them). `report_spacing` keeps each
  held-back file at least that long after the one before, so a reader sees an order's states
  in between (a market order's Accepted before its Filled); how far apart NinjaTrader writes
  them is undocumented.
"""

from __future__ import annotations

import fnmatch
import queue
import threading
import time
from pathlib import Path

from tests.fakes.ninjatrader_commands import FIELD_COUNT
from tests.fakes.ninjatrader_platform import (
    SimOrder,
    SimPosition,
    SimulatedNinjaTrader,
)

EXCHANGE = "Globex"


class OifPlatform:
    def __init__(self, documents: Path, sim: SimulatedNinjaTrader | None = None) -> None:
        self.incoming = documents / "incoming"
        self.outgoing = documents / "outgoing"
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.outgoing.mkdir(parents=True, exist_ok=True)
        self.sim = sim or SimulatedNinjaTrader()
        self.sim.on_order.append(self._write_order)
        self.sim.on_position.append(self._write_position)
        self.processed: list[str] = []
        self.torn: list[str] = []
        self.paused = threading.Event()
        self.report_delay = 0.0
        self.report_spacing = 0.0
        self._last_due = 0.0
        self.naming = "order_id"
        self.extra_fields: tuple[str, ...] = ()
        self.rewrite_pause = 0.0
        self.restarts = 0
        self._delayed: queue.Queue[tuple[float, Path, str] | None] = queue.Queue()
        self._reporter = threading.Thread(target=self._report_later, daemon=True)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ninjatrader-oif", daemon=True)

    def __enter__(self) -> OifPlatform:
        self._thread.start()
        self._reporter.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._delayed.put(None)
        self._thread.join(5)
        self._reporter.join(5)

    def position_file(self, instrument: str, account: str = "Sim101") -> Path:
        return self.outgoing / f"{instrument} {EXCHANGE}_{account}_Position.txt"

    def order_file(self, order: SimOrder) -> Path:
        if self.naming == "account_order_id":
            return self.outgoing / f"{order.account}_{order.order_id}.txt"
        return self.outgoing / f"{order.order_id}.txt"

    def report_position(self, instrument: str, account: str = "Sim101") -> None:
        """Write the position file as NinjaTrader does after an update (a trade earlier in
        this session, since closed, leaves `FLAT;0;0`)."""
        self._write_position(account, instrument, self.sim.position(account, instrument))

    def restart(self) -> None:
        """NinjaTrader restarts: `outgoing` is emptied; the account keeps its positions."""
        with self.sim.lock:
            for path in self.outgoing.iterdir():
                path.unlink()
            self.restarts += 1

    def _watch(self) -> None:
        while not self._stop.wait(0.002):
            if self.paused.is_set():
                continue
            for path in sorted(self.incoming.iterdir()):
                if fnmatch.fnmatch(path.name.lower(), "oif*.txt"):
                    self._take(path)

    def _take(self, path: Path) -> None:
        with self.sim.lock:  # a file gone from incoming has been executed, once the lock is free
            text = path.read_text(encoding="ascii")
            path.unlink()
            self.processed.append(path.name)
            lines = text.splitlines()
            if not lines or not text.endswith("\n") or any(
                line.count(";") != FIELD_COUNT - 1 for line in lines
            ):
                self.torn.append(f"{path.name}: {text!r}")
            for line in lines:
                self.sim.execute(line.split(";"))

    def _write_order(self, order: SimOrder) -> None:
        if order.order_id.startswith("NT#"):
            return  # NinjaTrader's own orders (a close) have no file
        price = f"{order.average_price:g}" if order.filled else "0"
        text = ";".join((order.state, str(order.filled), price, *self.extra_fields))
        self._report(self.order_file(order), text)

    def _write_position(self, account: str, instrument: str, held: SimPosition) -> None:
        side = "LONG" if held.quantity > 0 else "SHORT" if held.quantity < 0 else "FLAT"
        text = f"{side};{abs(held.quantity)};{held.average_price:g}"
        self._report(self.position_file(instrument, account), text)

    def _report(self, path: Path, text: str) -> None:
        if not self.report_delay:
            self._write(path, text)
            return
        due = max(time.monotonic() + self.report_delay, self._last_due + self.report_spacing)
        self._last_due = due
        self._delayed.put((due, path, text))

    def _write(self, path: Path, text: str) -> None:
        if self.rewrite_pause:
            path.write_text("", encoding="utf-8")
            time.sleep(self.rewrite_pause)
        path.write_text(text, encoding="utf-8")

    def _report_later(self) -> None:
        """Writes the held-back reports in the order NinjaTrader made them."""
        while (item := self._delayed.get()) is not None:
            due, path, text = item
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            self._write(path, text)
