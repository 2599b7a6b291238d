"""The file interface: order instruction files in, state and position files out.

NinjaTrader processes any `oif*.txt` in its incoming folder the moment it sees one (Order
Instruction Files), so a file must never be seen half written: each is written and flushed to
disk beside `incoming` (in its parent folder, on the same file system) and then moved in, so
that it appears in `incoming` whole, as a created file and not as one renamed there.

NinjaTrader reports orders that carry an order id in `outgoing/<order id>.txt` (Information
Update Files); independent NT8 clients read `outgoing/<account>_<order id>.txt`, so both names
are read. The first three `;` fields are `STATE;FILLED;AVERAGE PRICE`; any after them are
ignored. Positions are in `outgoing/<instrument> <exchange>_<account>_Position.txt`
(`LONG|SHORT|FLAT;QUANTITY;AVERAGE PRICE`), written only when a position changes and deleted
with the rest of `outgoing` when NinjaTrader restarts: a missing file means "not reported",
never "flat".
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from plugins.errors import NotSupported, OrderRejected, PluginConfigError, TemporaryError
from plugins.ninjatrader.ati import Command, OrderState, PositionNotReported, stacked
from plugins.ninjatrader.config import NinjaTraderConfig

_SIGNS = {"LONG": 1, "SHORT": -1, "FLAT": 0}
REWRITE_TRIES = 10
REWRITE_PAUSE = 0.02
"""A report caught while NinjaTrader rewrites it is read again this many times, this many
seconds apart (at most 0.2 s in all)."""


class OifLink:
    def __init__(
        self, incoming: Path, outgoing: Path, account: str = "Sim101",
        connection: str | None = None,
    ) -> None:  # fmt: skip
        self.incoming = incoming
        self.outgoing = outgoing
        self.account = account
        self.connection = connection

    @classmethod
    def open(cls, config: NinjaTraderConfig) -> OifLink:
        incoming = config.incoming
        if not incoming.is_dir():
            raise PluginConfigError(
                f"incoming_dir: NinjaTrader's incoming folder {str(incoming)!r} does not exist; "
                "is NinjaTrader 8 installed there (documents_dir), or the share mounted?"
            )
        return cls(incoming, config.outgoing, config.account, config.connection)

    def file_name(self, tag: str) -> str:
        return f"oif_{tag}.txt"

    def send(self, commands: Sequence[Command], tag: str) -> None:
        target = self.incoming / self.file_name(tag)
        try:
            data = stacked(commands).encode("ascii")
        except UnicodeEncodeError as exc:
            raise OrderRejected(
                f"cannot write {commands[0].describe()}: NinjaTrader's order instruction files "
                f"are ASCII, and {exc.object[exc.start:exc.end]!r} is not"
            ) from exc
        temporary = self.incoming.parent / f".tradehook-{tag}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temporary, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise TemporaryError(
                f"cannot write the order instruction file {target.name} to {self.incoming}: {exc}"
            ) from exc

    def surely_absent(self, order_id: str) -> bool:
        return False  # reports lag behind, and NinjaTrader deletes them when it restarts

    def withdraw(self, tag: str) -> bool:
        """Move the file away unless NinjaTrader has already taken it; True also when it was
        never moved in (a temporary file of a send cut short by a crash is still beside
        `incoming`, and is deleted)."""
        source = self.incoming / self.file_name(tag)
        parked = self.incoming.parent / f".tradehook-{tag}.{uuid.uuid4().hex}.withdrawn"
        stranded = list(self.incoming.parent.glob(f".tradehook-{tag}.*.tmp"))
        for leftover in stranded:
            leftover.unlink(missing_ok=True)
        try:
            os.replace(source, parked)
        except OSError:
            return bool(stranded) and not source.exists()
        parked.unlink(missing_ok=True)
        return True

    def order_state(self, order_id: str) -> OrderState | None:
        """The order's report; one caught while NinjaTrader rewrites it (empty, or cut short)
        is read again, as a position file is, and None only if it stays unreadable."""
        for name in (f"{order_id}.txt", f"{self.account}_{order_id}.txt"):
            path = self.outgoing / name
            for attempt in range(REWRITE_TRIES):
                if attempt:
                    time.sleep(REWRITE_PAUSE)
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    break
                state = OrderState.parse(text)
                if state is not None:
                    return state
            else:
                return None
        return None

    def position(self, instrument: str, account: str) -> int:
        prefix, suffix = f"{instrument} ".lower(), f"_{account}_position.txt".lower()
        try:
            names = [p for p in self.outgoing.iterdir() if p.is_file()]
        except OSError as exc:
            raise TemporaryError(f"cannot read NinjaTrader's outgoing folder: {exc}") from exc
        for path in names:
            name = path.name.lower()
            if name.startswith(prefix) and name.endswith(suffix):
                return _parse_position(path)
        raise PositionNotReported(
            f"NinjaTrader has reported no position in {instrument} for {account}: it writes "
            f"the position file only when the position changes and deletes {self.outgoing} "
            "when it restarts, so the position is unknown until it next changes; check "
            "NinjaTrader's Positions tab"
        )

    def quote(self, instrument: str) -> tuple[float, float, float]:
        raise NotSupported(
            f"NinjaTrader's file interface gives no quotes (asked for {instrument}); "
            "use transport = \"dll\" for market data"
        )

    def healthy(self) -> bool:
        if not self.incoming.is_dir():
            return False
        if self.connection is None:
            return True
        try:
            state = (self.outgoing / f"{self.connection}.txt").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        return state.strip().upper() == "CONNECTED"

    def close(self) -> None:
        return None


def _parse_position(path: Path) -> int:
    for attempt in range(REWRITE_TRIES):  # NinjaTrader may be rewriting it
        if attempt:
            time.sleep(REWRITE_PAUSE)
        try:
            parts = path.read_text(encoding="utf-8", errors="replace").strip().split(";")
            return _SIGNS[parts[0].strip().upper()] * int(float(parts[1]))
        except (OSError, KeyError, IndexError, ValueError):
            continue
    raise TemporaryError(f"cannot read NinjaTrader's position file {path.name}")
