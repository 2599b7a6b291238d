"""The file interface: order instruction files in, state and position files out.

NinjaTrader processes any `oif*.txt` in its incoming folder the moment it sees one, so a file
must never be seen half written: each is written and flushed to disk under a name NinjaTrader
ignores, then renamed into place (an atomic step on one file system). NinjaTrader reports
orders that carry an order id in `outgoing/<order id>.txt` (`STATE;FILLED;AVERAGE PRICE`) and
positions in `outgoing/<instrument> <exchange>_<account>_position.txt`
(`LONG|SHORT|FLAT;QUANTITY;AVERAGE PRICE`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from plugins.errors import NotSupported, PluginConfigError, TemporaryError
from plugins.ninjatrader.ati import Command, OrderState, stacked
from plugins.ninjatrader.config import NinjaTraderConfig

_SIGNS = {"LONG": 1, "SHORT": -1, "FLAT": 0}


class OifLink:
    def __init__(self, incoming: Path, outgoing: Path, connection: str | None = None) -> None:
        self.incoming = incoming
        self.outgoing = outgoing
        self.connection = connection

    @classmethod
    def open(cls, config: NinjaTraderConfig) -> OifLink:
        incoming = config.incoming
        if not incoming.is_dir():
            raise PluginConfigError(
                f"incoming_dir: NinjaTrader's incoming folder {str(incoming)!r} does not exist; "
                "is NinjaTrader 8 installed there (documents_dir), or the share mounted?"
            )
        return cls(incoming, config.outgoing, config.connection)

    def file_name(self, tag: str) -> str:
        return f"oif_{tag}.txt"

    def send(self, commands: Sequence[Command], tag: str) -> None:
        target = self.incoming / self.file_name(tag)
        temporary = self.incoming / f".{tag}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temporary, "w", encoding="ascii", newline="") as file:
                file.write(stacked(commands))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise TemporaryError(
                f"cannot write the order instruction file {target.name} to {self.incoming}: {exc}"
            ) from exc

    @property
    def authoritative(self) -> bool:
        return False  # reports lag behind, and NinjaTrader clears them when it restarts

    def withdraw(self, tag: str) -> bool:
        """Move the file away unless NinjaTrader has already taken it."""
        source = self.incoming / self.file_name(tag)
        parked = self.incoming / f".{tag}.{uuid.uuid4().hex}.withdrawn"
        try:
            os.replace(source, parked)
        except OSError:
            return False
        parked.unlink(missing_ok=True)
        return True

    def order_state(self, order_id: str) -> OrderState | None:
        try:
            text = (self.outgoing / f"{order_id}.txt").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return OrderState.parse(text)

    def position(self, instrument: str, account: str) -> int:
        prefix, suffix = f"{instrument} ".lower(), f"_{account}_position.txt".lower()
        try:
            names = [p for p in self.outgoing.iterdir() if p.is_file()]
        except OSError:
            return 0
        for path in names:
            name = path.name.lower()
            if name.startswith(prefix) and name.endswith(suffix):
                return _parse_position(path)
        return 0

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
            state = (self.outgoing / f"{self.connection}.txt").read_text().strip().upper()
        except OSError:
            return False
        return state == "CONNECTED"

    def close(self) -> None:
        return None


def _parse_position(path: Path) -> int:
    for _ in range(3):  # NinjaTrader may be rewriting it
        try:
            parts = path.read_text(encoding="utf-8", errors="replace").strip().split(";")
            return _SIGNS[parts[0].strip().upper()] * int(float(parts[1]))
        except (OSError, KeyError, IndexError, ValueError):
            continue
    raise TemporaryError(f"cannot read NinjaTrader's position file {path.name}")
