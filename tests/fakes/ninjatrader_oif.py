"""NinjaTrader's file interface, simulated: a thread that watches the incoming folder.

Like NinjaTrader it takes every `oif*.txt` the moment it appears (and nothing else), executes
each line, deletes the file, and writes `outgoing/<order id>.txt` (`STATE;FILLED;AVG PRICE`) on
every state change of an order with an id, and `outgoing/<instrument> Globex_<account>_Position
.txt` (`LONG|SHORT|FLAT;QUANTITY;AVG PRICE`) on every position change. A file that is not whole
when it is read (an empty one, a line cut short) goes to `torn`, which a correct writer never
fills. `paused` leaves files unread (NinjaTrader not running); `report_delay` holds back the
outgoing files (NinjaTrader busy, or a share slow to show them).
"""

from __future__ import annotations

import fnmatch
import queue
import threading
import time
from pathlib import Path

from tests.fakes.ninjatrader_platform import (
    FIELD_COUNT,
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

    def _watch(self) -> None:
        while not self._stop.wait(0.002):
            if self.paused.is_set():
                continue
            for path in sorted(self.incoming.iterdir()):
                if fnmatch.fnmatch(path.name.lower(), "oif*.txt"):
                    self._take(path)

    def _take(self, path: Path) -> None:
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
        text = f"{order.state};{order.filled};{price}"
        self._report(self.outgoing / f"{order.order_id}.txt", text)

    def _write_position(self, account: str, instrument: str, held: SimPosition) -> None:
        side = "LONG" if held.quantity > 0 else "SHORT" if held.quantity < 0 else "FLAT"
        text = f"{side};{abs(held.quantity)};{held.average_price:g}"
        self._report(self.position_file(instrument, account), text)

    def _report(self, path: Path, text: str) -> None:
        if not self.report_delay:
            path.write_text(text)
            return
        self._delayed.put((time.monotonic() + self.report_delay, path, text))

    def _report_later(self) -> None:
        """Writes the held-back reports in the order NinjaTrader made them."""
        while (item := self._delayed.get()) is not None:
            due, path, text = item
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            path.write_text(text)
