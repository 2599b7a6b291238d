"""The paper account's files: its book kept across restarts, and prices read from a file.

With `state_file`, the paper account writes its positions, their stops, its last prices and the
orders it received (by client order id, the newest `REMEMBERED` of them) to a JSON file after
every change, replacing it whole (a new file renamed over the old one, so a crash leaves the
old book or the new one, never half of either), and reads it back at start: a restarted
tradehook finds its paper positions and their stops as a broker would keep them. Resting limit
and stop orders are not kept.

With `prices_file`, a JSON object of prices by symbol (`{"ES": 5012.5}`) moves the paper prices
whenever the file changes, read when the account next quotes or fills: a way to drive the paper
market from outside, as tests and demos do.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from plugins.errors import PluginConfigError
from plugins.orders import ExecutionResult, OrderSide

REMEMBERED = 10_000
"""How much of its history a paper account keeps, in memory and in its `state_file`: the
answers to the newest orders (for `lookup_order` and repeated sends), the newest received ids
and the newest stop fills. A lookup follows an unknown outcome within seconds; remembering every
order ever would make memory and the file grow with each signal."""


class PaperBook(BaseModel):
    """What a paper account keeps in its `state_file`."""

    positions: dict[str, float] = Field(default_factory=dict)
    stops: dict[str, tuple[OrderSide, float]] = Field(default_factory=dict)
    """Each position's protective stop: the side that opened it, and its price."""
    prices: dict[str, float] = Field(default_factory=dict)
    orders: dict[str, ExecutionResult] = Field(default_factory=dict)
    """The answer to each client order id, oldest first."""
    received: list[str] = Field(default_factory=list)
    """The client order id of every order received, repeats included, oldest first: how many
    times each was sent."""
    stop_fills: list[ExecutionResult] = Field(default_factory=list)
    """The closes the positions' stops made, oldest first."""


def read_book(path: Path) -> PaperBook:
    """The book in `path`; an empty one when there is no file yet."""
    try:
        return PaperBook.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return PaperBook()
    except (OSError, ValidationError) as exc:
        raise PluginConfigError(f"cannot read the paper account's state_file {path}: {exc}"
                                ) from exc


def write_book(path: Path, book: PaperBook) -> None:
    """Replace the book in `path` whole: written beside it, flushed, then renamed over it."""
    trimmed = book.model_copy(update={"received": book.received[-REMEMBERED:],
                                      "stop_fills": book.stop_fills[-REMEMBERED:]})
    temporary = path.with_name(f".{path.name}.new")
    with open(temporary, "w", encoding="utf-8") as out:
        out.write(trimmed.model_dump_json())
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


class PriceFile:
    """Prices by symbol from a JSON file, read again each time the file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: tuple[int, int] | None = None

    def changes(self) -> dict[str, float]:
        """The file's prices when it changed since the last look (all of them), else none."""
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._seen:
            return {}
        with contextlib.suppress(OSError, ValueError):
            prices = json.loads(self._path.read_text(encoding="utf-8"))
            if isinstance(prices, dict):
                self._seen = stamp
                return {str(symbol): float(price) for symbol, price in prices.items()
                        if isinstance(price, int | float) and price > 0}
        return {}  # half written, or not prices: looked at again next time
