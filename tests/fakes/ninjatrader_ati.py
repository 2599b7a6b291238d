"""NinjaTrader's ATI server, simulated: what the C# stand-in NinjaTrader.Client.dll talks to.

`compile_client_dll()` builds the stand-in (tests/fakes/NinjaTraderClient.cs) with Mono's
`mcs`; `AtiServer` answers its one-line requests on 127.0.0.1 from a `SimulatedNinjaTrader`:
`COMMAND\t<13 fields>` executes an instruction, `GET\tOrderStatus|<id>` (and `Filled`,
`AvgFillPrice`, `MarketPosition`, `AvgEntryPrice`, `MarketData`, `Orders`, `ATI`) reads state
as the real DLL reports it (order states in NinjaTrader's spelling: `Filled`, `Working`, ...).
"""

from __future__ import annotations

import shutil
import socketserver
import subprocess
import threading
from pathlib import Path

from tests.fakes.ninjatrader_platform import SimulatedNinjaTrader

SOURCE = Path(__file__).with_name("NinjaTraderClient.cs")
_STATE_NAMES = {"ACCEPTED": "Accepted", "CANCELLED": "Cancelled", "FILLED": "Filled",
                "INITIALIZED": "Initialized", "PARTFILLED": "PartFilled",
                "REJECTED": "Rejected", "WORKING": "Working"}  # fmt: skip


def mono_available() -> bool:
    return shutil.which("mcs") is not None and Path("/usr/lib/mono/4.5").is_dir()


def compile_client_dll(directory: Path) -> Path:
    target = directory / "NinjaTrader.Client.dll"
    subprocess.run(
        ["mcs", "-nologo", "-target:library", f"-out:{target}", str(SOURCE)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return target


class AtiServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, sim: SimulatedNinjaTrader | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.sim = sim or SimulatedNinjaTrader()
        self.subscriptions: set[str] = set()
        self.requests: list[str] = []
        self.disconnections = 0
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def __enter__(self) -> AtiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(5)

    def answer(self, line: str) -> str:
        self.requests.append(line)
        verb, _, rest = line.partition("\t")
        if verb == "COMMAND":
            self.sim.execute(rest.split(";"))
            return "0"  # the real DLL answers 0 once the command is sent
        if verb == "SUBSCRIBE":
            instrument, _, on = rest.partition("\t")
            (self.subscriptions.add if on == "1" else self.subscriptions.discard)(instrument)
            return "0"
        if verb == "GET":
            return self._value(rest.split("|"))
        return "-1"

    def _value(self, key: list[str]) -> str:
        sim = self.sim
        with sim.lock:
            if key[0] == "ATI":
                return "True"
            if key[0] in ("OrderStatus", "Filled", "AvgFillPrice"):
                order = sim.orders.get(key[1])
                if order is None:
                    return ""
                return {"OrderStatus": _STATE_NAMES.get(order.state, order.state.title()),
                        "Filled": str(order.filled),
                        "AvgFillPrice": repr(order.average_price)}[key[0]]  # fmt: skip
            if key[0] in ("MarketPosition", "AvgEntryPrice"):
                held = sim.position(key[2], key[1])
                return str(held.quantity) if key[0] == "MarketPosition" else repr(
                    held.average_price
                )
            if key[0] == "MarketData":
                price = sim.price(key[1]) if key[1] in self.subscriptions else None
                if price is None:
                    return "0"
                return repr({"0": price, "1": price - 0.25, "2": price + 0.25}[key[2]])
            if key[0] == "Orders":
                return "|".join(o.order_id for o in sim.orders.values() if o.account == key[1])
        return ""


class _Handler(socketserver.StreamRequestHandler):
    server: AtiServer

    def handle(self) -> None:
        for raw in self.rfile:
            answer = self.server.answer(raw.decode("utf-8").rstrip("\r\n"))
            self.wfile.write(f"{answer}\n".encode())
            self.wfile.flush()

    def finish(self) -> None:
        super().finish()
        self.server.disconnections += 1
