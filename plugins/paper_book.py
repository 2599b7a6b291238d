"""The paper account's files: its book kept across restarts, and prices read from a file.

With `state_file`, the paper account keeps its positions, their stops, its last prices and the
orders it received (by client order id, the newest `REMEMBERED` of them) in a file of JSON lines
(`StateFile`): its whole book on the first line, then one line for each change since, appended
and synced before the change is answered, so that an order costs a line of its own, not a copy
of the whole history. Every `SNAPSHOT_EVERY` changes (those found at start counted), and at
the first write after a start that found the file not ending with a whole line, the file is
replaced whole (a new file, synced, renamed over the old one), so a crash leaves the old book or
the new one, never half of either; a crash in the middle of an append leaves a line cut short
at the end, which was never answered and is dropped. At start it is read back: a
restarted tradehook finds its paper positions and their stops as a broker would keep them.
Resting limit and stop orders are not kept. A file of one book with no changes after it (as
earlier releases wrote) reads as it did.

With `prices_file`, a JSON object of prices by symbol (`{"ES": 5012.5}`) moves the paper prices
whenever the file changes, read when the account next quotes or fills: a way to drive the paper
market from outside, as tests and demos do.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from plugins.errors import PluginConfigError
from plugins.orders import ExecutionResult, OrderSide

REMEMBERED = 10_000
"""How much of its history a paper account keeps, in memory and in its `state_file`: the
answers to the newest orders (for `lookup_order` and repeated sends), the newest received ids
and the newest stop fills. A lookup follows an unknown outcome within seconds; remembering every
order ever would make memory and the file grow with each signal."""
SNAPSHOT_EVERY = 1_000
"""Changes appended to the state file before it is replaced by the whole book again. Rewritten
after every order, a book of `REMEMBERED` orders (2.5 MB) cost 20 ms of CPU per order; appended,
an order's line costs the same whatever the history, and the file stays within the book and
this many lines."""
V = TypeVar("V")
Stop = tuple[OrderSide, float]
"""A position's protective stop: the side that opened the position, and the stop's price."""


class PaperBook(BaseModel):
    """What a paper account keeps in its `state_file`."""

    positions: dict[str, float] = Field(default_factory=dict)
    stops: dict[str, Stop] = Field(default_factory=dict)
    """Each position's protective stop: the side that opened it, and its price."""
    prices: dict[str, float] = Field(default_factory=dict)
    orders: dict[str, ExecutionResult] = Field(default_factory=dict)
    """The answer to each client order id, oldest first."""
    received: list[str] = Field(default_factory=list)
    """The client order id of every order received, repeats included, oldest first: how many
    times each was sent."""
    stop_fills: list[ExecutionResult] = Field(default_factory=list)
    """The closes the positions' stops made, oldest first."""


class PaperChange(BaseModel):
    """One line after the book in the state file: what one change of the account changed."""

    positions: dict[str, float | None] = Field(default_factory=dict)
    """The positions that changed; None for one that is flat now."""
    stops: dict[str, Stop | None] = Field(default_factory=dict)
    """The stops that changed; None for one that is gone."""
    prices: dict[str, float] = Field(default_factory=dict)
    orders: dict[str, ExecutionResult] = Field(default_factory=dict)
    """The answers to the orders it took, by client order id."""
    received: list[str] = Field(default_factory=list)
    stop_fills: list[ExecutionResult] = Field(default_factory=list)

    def apply(self, book: PaperBook) -> None:
        """Bring `book` up to this change (its history then trimmed by `_read`, once)."""
        _update(book.positions, self.positions)
        _update(book.stops, self.stops)
        book.prices.update(self.prices)
        book.orders.update(self.orders)
        book.received.extend(self.received)
        book.stop_fills.extend(self.stop_fills)


@dataclass
class Additions:
    """What the account added to its history since its state file was last written."""

    orders: dict[str, ExecutionResult] = field(default_factory=dict)
    received: list[str] = field(default_factory=list)
    stop_fills: list[ExecutionResult] = field(default_factory=list)


@dataclass
class Holdings:
    """The account's positions, stops and prices, as one write left them in the state file."""

    positions: dict[str, float] = field(default_factory=dict)
    stops: dict[str, Stop] = field(default_factory=dict)
    prices: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, book: PaperBook) -> Holdings:
        return cls(dict(book.positions), dict(book.stops), dict(book.prices))


class StateFile:
    """A paper account's state file: `read` it at start, then `append` a `change` (or
    `rewrite` the whole book when one is `due`) after each change, each blocking until the
    file is synced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.added = Additions()
        """What the account added to its history since the file was last written: gathered by
        the account, taken by `change`."""
        self._written = Holdings()
        """The positions, stops and prices as the file holds them now."""
        self._changes = 0
        """Lines after the book."""

    @property
    def due(self) -> bool:
        """Whether the next write replaces the file with the whole book."""
        return self._changes >= SNAPSHOT_EVERY

    def read(self) -> PaperBook:
        """The book in the file, its changes applied; an empty one when there is no file yet.
        Nothing is appended to a file that does not end with a whole line (none yet, one
        cut short, or one book without a newline, as earlier releases wrote): its next write
        is the whole book."""
        book, changes, whole = _read(self.path)
        self._written = Holdings.of(book)
        self._changes = changes if whole else SNAPSHOT_EVERY
        return book

    def change(self, now: Holdings) -> PaperChange | None:
        """What the account changed since the file was last written (None: nothing); the
        additions it holds are taken, so that those made while the change is written go into
        the next."""
        added, self.added = self.added, Additions()
        change = PaperChange(
            positions=_changed(self._written.positions, now.positions),
            stops=_changed(self._written.stops, now.stops),
            prices={symbol: price for symbol, price in now.prices.items()
                    if self._written.prices.get(symbol) != price},
            orders=added.orders, received=added.received, stop_fills=added.stop_fills,
        )
        if not (change.positions or change.stops or change.prices or change.orders
                or change.received or change.stop_fills):
            return None
        return change

    def append(self, change: PaperChange, now: Holdings) -> None:
        """Append the change and sync it; `now`, what the account holds with it. After a
        failure the next write is the whole book, as what reached the disk is not known."""
        line = change.model_dump_json().encode() + b"\n"
        try:
            with open(self.path, "ab") as out:
                out.write(line)
                out.flush()
                _sync(out.fileno())
        except OSError:
            self._changes = SNAPSHOT_EVERY
            raise
        self._written = now
        self._changes += 1

    def rewrite(self, book: PaperBook) -> None:
        """Replace the file with the whole book: written beside it, synced, then renamed over
        it, and the rename synced with its folder."""
        temporary = self.path.with_name(f".{self.path.name}.new")
        with open(temporary, "wb") as out:
            out.write(book.model_dump_json().encode() + b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
        _sync_folder(self.path.parent)
        self._written = Holdings.of(book)
        self._changes = 0


def read_book(path: Path) -> PaperBook:
    """The book in the state file at `path`, its changes applied (a look from outside, as at a
    running account's file: a line being appended is not read yet)."""
    return _read(path)[0]


def _read(path: Path) -> tuple[PaperBook, int, bool]:
    """The book in `path` with its changes applied, how many changes followed the book, and
    whether the file ends with a whole line (False for no file)."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return PaperBook(), 0, False
    except OSError as exc:
        raise PluginConfigError(f"cannot read the paper account's state_file {path}: {exc}"
                                ) from exc
    first, *rest = content.split(b"\n")
    try:
        book = PaperBook.model_validate_json(first)
    except ValidationError as exc:
        raise PluginConfigError(f"cannot read the paper account's state_file {path}: {exc}"
                                ) from exc
    changes = 0
    for number, line in enumerate(rest, start=2):
        if not line:
            continue
        try:
            change = PaperChange.model_validate_json(line)
        except ValidationError as exc:
            if number == len(rest) + 1:  # the end, with no newline: an append cut short
                break
            raise PluginConfigError(f"cannot read the paper account's state_file {path}, "
                                    f"line {number}: {exc}") from exc
        change.apply(book)
        changes += 1
    del book.received[:-REMEMBERED], book.stop_fills[:-REMEMBERED]
    for oldest in list(book.orders)[:max(0, len(book.orders) - REMEMBERED)]:
        del book.orders[oldest]
    return book, changes, content.endswith(b"\n")


def _changed(before: Mapping[str, V], after: Mapping[str, V]) -> dict[str, V | None]:
    """The values of `after` that differ from `before`'s, and None for each key it lost."""
    changed: dict[str, V | None] = {key: value for key, value in after.items()
                                    if before.get(key) != value}
    changed.update((key, None) for key in before.keys() - after.keys())
    return changed


def _update(values: dict[str, V], changed: Mapping[str, V | None]) -> None:
    for key, value in changed.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value


def _sync(fd: int) -> None:
    """fdatasync where there is one (it syncs the file's new length too), else fsync."""
    (os.fdatasync if hasattr(os, "fdatasync") else os.fsync)(fd)


def _sync_folder(folder: Path) -> None:
    """Sync the folder, so that a rename in it survives a power cut; where a folder cannot be
    opened or synced (Windows), the rename is left to the file system."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    # The book itself is synced and renamed already; a file system that cannot sync a folder
    # (some network ones) does not make the write fail.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
