"""The DLL interface: NinjaTrader.Client.dll loaded through pythonnet.

`Client.SetUp(host, port)` connects to NinjaTrader's ATI server (port 36973 by default),
`Connected(0)` is 0 once it answers, `Command` takes the 13 fields of an order instruction,
and `OrderStatus`, `Filled`, `AvgFillPrice`, `MarketPosition` and `Orders` read the results
(NinjaTrader 8 Help Guide, DLL Interface > Functions). pythonnet is imported only here, and the
.NET runtime is Mono except on Windows.

The client answers those reads from values the server pushes to it, and while it is not
connected (including the seconds it waits before it tries again) it answers "" and 0, exactly
as for an order or a position that does not exist. So an empty answer is believed only while
`Connected(0)` is 0, before and after the read; otherwise NinjaTrader cannot be asked now. The
real `SetUp` shows a message box when it cannot connect (blocking under a service, throwing
without a desktop), so the port is tried first and SetUp is called only when it answers.
"""

from __future__ import annotations

import importlib
import logging
import socket
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from typing import Any

from plugins.errors import OutcomeUnknown, PluginConfigError, TemporaryError
from plugins.ninjatrader.ati import Command, OrderState, normal_state
from plugins.ninjatrader.config import WINDOWS_DLL, NinjaTraderConfig

log = logging.getLogger(__name__)
_MONO_HINT = "on Debian: apt-get install mono-runtime libmonosgen-2.0-1 mono-devel"
_QUOTE_WAIT = 2.0
_PROBE_TIMEOUT = 3.0


def start_runtime(config: NinjaTraderConfig) -> None:
    """Start the .NET runtime once per process.

    Call it on the main thread: pythonnet shuts the runtime down from the main thread at exit,
    and Mono crashes there if the runtime was started on another thread.
    """
    try:
        pythonnet = importlib.import_module("pythonnet")
    except ImportError as exc:
        raise PluginConfigError(
            "transport 'dll' needs the pythonnet package: pip install 'tradehook[ninjatrader]'"
        ) from exc
    if pythonnet.get_runtime_info() is not None:
        return
    if threading.current_thread() is not threading.main_thread():
        log.warning("starting the .NET runtime off the main thread; Mono may crash at exit")
    runtime = config.clr_runtime
    if runtime == "auto":
        runtime = "netfx" if sys.platform == "win32" else "mono"
    options = {}
    if runtime == "mono" and config.mono_library is not None:
        options["libmono"] = str(config.mono_library)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # clr_loader warns about Mono before 6.12
            pythonnet.load(runtime, **options)
    except Exception as exc:
        hint = f" ({_MONO_HINT})" if runtime == "mono" else ""
        raise PluginConfigError(
            f"clr_runtime: pythonnet cannot start the {runtime} runtime: {exc}{hint}"
        ) from exc


def load_client_class(config: NinjaTraderConfig) -> Any:
    """`NinjaTrader.Client.Client`, from the configured (or installed) DLL."""
    start_runtime(config)
    path = config.dll_path or (WINDOWS_DLL if sys.platform == "win32" else None)
    if path is None or not path.is_file():
        raise PluginConfigError(
            f"dll_path: NinjaTrader.Client.dll not found at {str(path)!r}; copy it from "
            f"{WINDOWS_DLL.parent} on the NinjaTrader machine and set dll_path"
        )
    try:
        clr = importlib.import_module("clr")
        clr.AddReference(str(path.resolve()))
        return importlib.import_module("NinjaTrader.Client").Client
    except Exception as exc:
        raise PluginConfigError(
            f"dll_path: cannot load NinjaTrader.Client from {str(path)!r}: {exc}"
        ) from exc


class DllLink:
    def __init__(self, client: Any, account: str) -> None:
        self.client = client
        self.account = account
        self._subscribed: set[str] = set()

    @classmethod
    def open(cls, config: NinjaTraderConfig) -> DllLink:
        client_class = load_client_class(config)
        where = f"{config.host}:{config.port}"
        problem = f"NinjaTrader's ATI at {where} does not answer"
        hint = ("is NinjaTrader running, with Tools > Options > Automated trading interface > "
                "AT Interface enabled?")  # fmt: skip
        try:
            socket.create_connection((config.host, config.port), _PROBE_TIMEOUT).close()
        except OSError as exc:
            raise PluginConfigError(f"{problem} ({exc}): {hint}") from exc
        client = client_class()
        if client.SetUp(config.host, config.port) != 0 or client.Connected(0) != 0:
            client.TearDown()
            raise PluginConfigError(f"{problem}: {hint}")
        return cls(client, config.account)

    def send(self, commands: Sequence[Command], tag: str) -> None:
        for sent, c in enumerate(commands):
            answer = self.client.Command(
                c.command, c.account, c.instrument, c.action, c.quantity or 0, c.order_type,
                c.limit_price or 0.0, c.stop_price or 0.0, c.time_in_force, c.oco_id,
                c.order_id, c.strategy, c.strategy_id,
            )  # fmt: skip
            if answer == 0:
                continue
            refused = f"NinjaTrader.Client refused {c.describe()} ({answer})"
            if sent == 0:
                raise TemporaryError(f"{refused}: is NinjaTrader still connected?")
            handed = ", ".join(done.describe() for done in commands[:sent])
            raise OutcomeUnknown(
                f"{refused} after it took {handed}: check NinjaTrader before sending again"
            )

    def connected(self) -> bool:
        return bool(self.client.Connected(0) == 0)

    def _asked(self, what: str) -> None:
        if not self.connected():
            raise TemporaryError(
                f"NinjaTrader.Client is not connected to the ATI, so it cannot tell {what}; "
                "it reconnects by itself"
            )

    def surely_absent(self, order_id: str) -> bool:
        self._asked(f"whether order {order_id} exists")
        listed = str(self.client.Orders(self.account) or "").split("|")
        self._asked(f"whether order {order_id} exists")
        return order_id not in listed

    def withdraw(self, tag: str) -> bool:
        return False  # a command sent over the socket cannot be taken back

    def order_state(self, order_id: str) -> OrderState | None:
        state = str(self.client.OrderStatus(order_id) or "")
        if not state:
            return None
        filled = int(self.client.Filled(order_id))
        average = float(self.client.AvgFillPrice(order_id))
        if not self.connected():
            return None  # the figures may be the zeros of a client that lost its connection
        return OrderState(normal_state(state), filled, average)

    def position(self, instrument: str, account: str) -> int:
        what = f"the position in {instrument} for {account}"
        self._asked(what)
        held = int(self.client.MarketPosition(instrument, account))
        self._asked(what)
        return held

    def quote(self, instrument: str) -> tuple[float, float, float]:
        if instrument not in self._subscribed:
            if self.client.SubscribeMarketData(instrument) != 0:
                raise TemporaryError(f"NinjaTrader cannot subscribe to {instrument}")
            self._subscribed.add(instrument)
        deadline = time.monotonic() + _QUOTE_WAIT
        while True:
            bid, ask, last = (float(self.client.MarketData(instrument, k)) for k in (1, 2, 0))
            if bid and ask:
                return bid, ask, last or (bid + ask) / 2
            if time.monotonic() >= deadline:
                raise TemporaryError(f"NinjaTrader has no quote for {instrument} yet")
            time.sleep(0.05)

    def healthy(self) -> bool:
        return self.connected()

    def close(self) -> None:
        for instrument in self._subscribed:
            self.client.UnsubscribeMarketData(instrument)
        self.client.TearDown()
