"""NinjaTrader's ATI server, simulated: what the C# stand-in NinjaTrader.Client.dll talks to.

`compile_client_dll()` builds the stand-in (tests/fakes/NinjaTraderClient.cs) with Mono's
`mcs`; `AtiServer` serves it on 127.0.0.1 from a `SimulatedNinjaTrader`:

- `COMMAND\t<13 fields>` executes an instruction and is answered with nothing (the DLL's
  `Command` returns 0 once it has written the command: DLL Interface > Functions, "returns 0
  if successful"; nothing tells it whether NinjaTrader accepted the order).
- `GET\t<key>` answers what the server last pushed for `OrderStatus|<id>`, `Filled|<id>`,
  `AvgFillPrice|<id>`, `MarketPosition|<instrument>|<account>`, `AvgEntryPrice|...`,
  `Orders|<account>` (the account's order ids, `|`-separated), and `ATI`: the real client
  answers reads from values NinjaTrader pushes to it, so a value not pushed yet is "" or 0
  (undocumented; seen in public ports of the client). `push_delay` delays the pushes.
  Order states are in NinjaTrader's spelling (`Filled`, `Working`, ...: Order State
  Definitions).
- `go_down()` drops every client and refuses new ones until `come_back()` (NinjaTrader
  closed, or the AT interface switched off); `down_after_command` does that right after the
  next command is executed (a disconnect during a send).
"""

from __future__ import annotations

import queue
import shutil
import socket
import socketserver
import subprocess
import threading
import time
from pathlib import Path

from tests.fakes.ninjatrader_platform import SimOrder, SimPosition, SimulatedNinjaTrader

SOURCE = Path(__file__).with_name("NinjaTraderClient.cs")
_STATE_NAMES = {"ACCEPTED": "Accepted", "CANCELLED": "Cancelled", "FILLED": "Filled",
                "INITIALIZED": "Initialized", "PARTFILLED": "PartFilled",
                "REJECTED": "Rejected", "WORKING": "Working", "SUSPENDED": "Suspended",
                "TRIGGERPENDING": "TriggerPending"}  # fmt: skip


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
        self.sim.on_order.append(self._order_changed)
        self.sim.on_position.append(self._position_changed)
        self.subscriptions: set[str] = set()
        self.requests: list[str] = []
        self.disconnections = 0
        self.push_delay = 0.0
        self.down_after_command = False
        self.down = threading.Event()
        self._pushed: dict[str, str] = {"ATI": "True"}
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._pushes: queue.Queue[tuple[float, dict[str, str]] | None] = queue.Queue()
        self._pusher = threading.Thread(target=self._push_in_order, daemon=True)
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def __enter__(self) -> AtiServer:
        self._thread.start()
        self._pusher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._pushes.put(None)
        self._pusher.join(5)
        self.shutdown()
        self.server_close()
        self._thread.join(5)

    def go_down(self) -> None:
        self.down.set()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def come_back(self) -> None:
        self.down.clear()

    def commands(self) -> list[list[str]]:
        return self.sim.received

    def answer(self, line: str) -> str | None:
        """The reply to one request line; None for the requests answered with nothing."""
        self.requests.append(line)
        verb, _, rest = line.partition("\t")
        if verb == "COMMAND":
            self.sim.execute(rest.split(";"))
            if self.down_after_command:
                self.down_after_command = False
                self.go_down()
            return None
        if verb == "SUBSCRIBE":
            instrument, _, on = rest.partition("\t")
            (self.subscriptions.add if on == "1" else self.subscriptions.discard)(instrument)
            return None
        if verb == "GET":
            return self._value(rest.split("|"))
        return ""

    def _value(self, key: list[str]) -> str:
        if key[0] == "MarketData":
            price = self.sim.price(key[1]) if key[1] in self.subscriptions else None
            if price is None:
                return "0"
            return repr({"0": price, "1": price - 0.25, "2": price + 0.25}[key[2]])
        with self._lock:
            return self._pushed.get("|".join(key), "")

    def _order_changed(self, order: SimOrder) -> None:
        ids = [o.order_id for o in self.sim.orders.values() if o.account == order.account]
        self._push({
            f"OrderStatus|{order.order_id}": _STATE_NAMES.get(order.state, order.state.title()),
            f"Filled|{order.order_id}": str(order.filled),
            f"AvgFillPrice|{order.order_id}": repr(order.average_price),
            f"Orders|{order.account}": "|".join(ids),
        })  # fmt: skip

    def _position_changed(self, account: str, instrument: str, held: SimPosition) -> None:
        self._push({f"MarketPosition|{instrument}|{account}": str(held.quantity),
                    f"AvgEntryPrice|{instrument}|{account}": repr(held.average_price)})

    def _push(self, values: dict[str, str]) -> None:
        if not self.push_delay:
            with self._lock:
                self._pushed.update(values)
            return
        self._pushes.put((time.monotonic() + self.push_delay, values))

    def _push_in_order(self) -> None:
        """Delivers the delayed pushes in the order NinjaTrader made them."""
        while (item := self._pushes.get()) is not None:
            due, values = item
            time.sleep(max(0.0, due - time.monotonic()))
            with self._lock:
                self._pushed.update(values)


class _Handler(socketserver.StreamRequestHandler):
    server: AtiServer

    def setup(self) -> None:
        super().setup()
        with self.server._lock:
            self.server._clients.add(self.connection)

    talked = False

    def handle(self) -> None:
        if self.server.down.is_set():
            return  # NinjaTrader is not there: the connection closes at once
        for raw in self.rfile:
            self.talked = True
            if self.server.down.is_set():
                return
            answer = self.server.answer(raw.decode("utf-8").rstrip("\r\n"))
            if answer is not None:
                self.wfile.write(f"{answer}\n".encode())
                self.wfile.flush()

    def finish(self) -> None:
        with self.server._lock:
            self.server._clients.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass
        if self.talked:  # a client, not a probe of the port
            self.server.disconnections += 1
