"""A fake `MetaTrader5` module: the documented API over a `FakeTerminal`.

Imported directly it stands in for the package in process (transport `native`); served by
`tests.fakes.mt5_server` it is what an rpyc client sees as `conn.modules.MetaTrader5`
(transport `rpyc`). Functions named `fake_*` are the tests' controls; nothing else here exists
in the real package. Like the real C extension, `order_send` takes only a real `dict`.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from tests.fakes.mt5_structures import *  # noqa: F403 - the module's documented constants
from tests.fakes.mt5_structures import (
    RES_E_AUTH_FAILED,
    RES_E_FAIL,
    RES_E_INTERNAL_FAIL_TIMEOUT,
    RES_E_INVALID_PARAMS,
    RES_S_OK,
    TRADE_RETCODE_TIMEOUT,
    AccountInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)
from tests.fakes.mt5_symbols import Symbol
from tests.fakes.mt5_terminal import FakeTerminal

__version__ = "5.0.45"
_terminal = FakeTerminal()
fake_connections: dict[int, Any] = {}
"""rpyc connections by the server thread that serves each (filled by tests.fakes.mt5_server)."""
_attacks: list[str] = []


def _attack_the_caller() -> None:
    """A hostile bridge: try to run code in the client whose call is being served."""
    connection = fake_connections.get(threading.get_ident())
    if connection is None:
        return
    try:
        connection.root.getmodule("os").getpid()
        _attacks.append("ran code in the client")
    except Exception as exc:  # noqa: BLE001 - whatever the client answers, it did not run
        _attacks.append(f"refused: {type(exc).__name__}")


@contextlib.contextmanager
def _api(name: str) -> Iterator[FakeTerminal]:
    terminal = _terminal
    if terminal.hostile:
        _attack_the_caller()
    with terminal.lock:
        terminal.in_flight += 1
        terminal.max_in_flight = max(terminal.max_in_flight, terminal.in_flight)
        terminal.calls.append((name, threading.current_thread().name))
    try:
        if terminal.latency:
            time.sleep(terminal.latency)
        with terminal.lock:
            yield terminal
    finally:
        with terminal.lock:
            terminal.in_flight -= 1


def initialize(path: str | None = None, **kwargs: Any) -> bool:
    if _terminal.init_latency:  # a terminal that starts slowly (issue #55 of mt5linux)
        time.sleep(_terminal.init_latency)
    with _api("initialize") as t:
        t.initialize_calls.append({"path": path, **kwargs})
        expected = {"login": t.login, "password": t.password, "server": t.server}
        if any(v is not None and kwargs.get(k) != v for k, v in expected.items()):
            t.error = (RES_E_AUTH_FAILED, "Terminal: Authorization failed")
            return False
        t.initialized, t.error = True, (RES_S_OK, "Success")
        return True


def shutdown() -> bool:
    with _api("shutdown") as t:
        t.initialized = False
        return True


def last_error() -> tuple[int, str]:
    return _terminal.error


def version() -> tuple[int, int, str]:
    return (500, 4150, "20 Jan 2024")


def terminal_info() -> TerminalInfo | None:
    with _api("terminal_info") as t:
        if not t.initialized:
            t.error = (RES_E_FAIL, "Terminal: Call failed")
            return None
        return TerminalInfo(
            False, False, t.connected, False, t.trade_allowed, False, False, False, False, "",
            4150, 100_000, 0, 25_000, 0.0, 0.0, "Fake Broker Ltd", "MetaTrader 5", "English",
            "C:\\Program Files\\MetaTrader 5", "C:\\data", "C:\\common",
        )


def account_info() -> AccountInfo | None:
    with _api("account_info") as t:
        if not t.initialized:
            return None
        return AccountInfo(
            t.login or 5_000_001, 0, 100, 0, 0, True, True, t.margin_mode, 2, False, 10_000.0,
            0.0, 0.0, 10_000.0, 0.0, 10_000.0, 0.0, 50.0, 30.0, 0.0, 0.0, 0.0, 0.0, 0.0, "Fake",
            t.server or "FakeBroker-Demo", "USD", "Fake Broker Ltd",
        )


def symbol_info(symbol: str) -> Any:
    with _api("symbol_info") as t:
        found = t.symbols.get(symbol)
        return found.info() if found else None


def symbol_info_tick(symbol: str) -> Tick | None:
    with _api("symbol_info_tick") as t:
        found = t.symbols.get(symbol)
        if found is None or not found.visible:
            t.error = (RES_E_FAIL, "Terminal: Call failed")
            return None
        now = time.time()
        if found.empty_left:
            found.empty_left -= 1
            return Tick(0, 0.0, 0.0, 0.0, 0, 0, 0, 0.0)
        return Tick(int(now), found.bid, found.ask, 0.0, 0, int(now * 1000), 6, 0.0)


def symbol_select(symbol: str, enable: bool = True) -> bool:
    with _api("symbol_select") as t:
        found = t.symbols.get(symbol)
        if found is None:
            t.error = (RES_E_FAIL, "Terminal: Call failed")
            return False
        if enable and not found.visible:
            found.empty_left = found.empty_ticks
        found.visible = bool(enable)
        return True


def _select(items: Any, symbol: str | None, ticket: int | None) -> list[dict[str, Any]]:
    return [
        i for i in items
        if (symbol is None or i["symbol"] == symbol) and (ticket is None or i["ticket"] == ticket)
    ]


def positions_get(symbol: str | None = None, group: str | None = None,
                  ticket: int | None = None) -> tuple[TradePosition, ...]:
    with _api("positions_get") as t:
        return tuple(TradePosition(**p) for p in _select(t.positions.values(), symbol, ticket))


def orders_get(symbol: str | None = None, group: str | None = None,
               ticket: int | None = None) -> tuple[TradeOrder, ...]:
    with _api("orders_get") as t:
        return tuple(TradeOrder(**o) for o in _select(t.orders.values(), symbol, ticket))


def _history(t: FakeTerminal, items: list[dict[str, Any]], time_key: str, args: tuple[Any, ...],
             ticket: int | None, position: int | None) -> list[dict[str, Any]] | None:
    if ticket is not None:
        return [i for i in items if i.get("order", i["ticket"]) == ticket]
    if position is not None:
        return [i for i in items if i["position_id"] == position]
    if len(args) < 2:
        t.error = (RES_E_INVALID_PARAMS, "Invalid arguments")
        return None
    start, end = (a.timestamp() if isinstance(a, datetime) else a for a in args[:2])
    return [i for i in items if start <= i[time_key] <= end]


def history_deals_get(*args: Any, group: str | None = None, ticket: int | None = None,
                      position: int | None = None) -> tuple[TradeDeal, ...] | None:
    with _api("history_deals_get") as t:
        found = _history(t, t.deals, "time", args, ticket, position)
        return None if found is None else tuple(TradeDeal(**d) for d in found)


def history_orders_get(*args: Any, group: str | None = None, ticket: int | None = None,
                       position: int | None = None) -> tuple[TradeOrder, ...] | None:
    with _api("history_orders_get") as t:
        found = _history(t, t.history_orders, "time_setup", args, ticket, position)
        return None if found is None else tuple(TradeOrder(**o) for o in found)


def order_send(request: Any) -> Any:
    """SEND (see tests.fakes.mt5_rules): None on a malformed request, last_error says why."""
    with _api("order_send") as t:
        if type(request) is not dict or not set(request) <= set(TradeRequest._fields):
            t.error = (RES_E_INVALID_PARAMS, "Invalid arguments")
            return None
        t.requests.append(dict(request))
        if len(str(request.get("comment", ""))) > 31:
            t.error = (RES_E_INVALID_PARAMS, 'Invalid "comment" argument')
            return None
        kind, retcode, execute, delay = t.script.pop(0) if t.script else ("normal", 0, True, 0.0)
        if kind == "retcode":
            return t.reply(request, retcode, "Scripted refusal")
        result = t.execute(request) if execute and kind != "late" else None
    if delay:  # the link, not the terminal: the reply hangs, the terminal's lock is free
        time.sleep(delay)
    if kind == "late":
        with t.lock:
            result = t.execute(request)
    if kind == "lost":
        t.error = (RES_E_INTERNAL_FAIL_TIMEOUT, "IPC timeout")
        return None
    if kind == "timeout":
        return t.reply(request, TRADE_RETCODE_TIMEOUT, "Timeout")
    return result


# --- the tests' controls -------------------------------------------------------------------


def fake_reset(**options: Any) -> None:
    """A fresh terminal; options are FakeTerminal fields (login, password, server, ...)."""
    global _terminal
    _terminal = FakeTerminal(**options)


def fake_refuse_next(retcode: int) -> None:
    """The next order_send returns this retcode and executes nothing."""
    _terminal.script.append(("retcode", retcode, False, 0.0))


def fake_lose_next_reply(execute: bool = True, delay: float = 0.0) -> None:
    """The next order_send returns None (after `delay` s), having executed when `execute`."""
    _terminal.script.append(("lost", 0, execute, delay))


def fake_time_out_next(execute: bool = True) -> None:
    """The next order_send answers TRADE_RETCODE_TIMEOUT, after executing when `execute`."""
    _terminal.script.append(("timeout", 0, execute, 0.0))


def fake_hang_next(seconds: float, late: bool = False) -> None:
    """The next order_send answers only after `seconds`: executed at once (the reply is what
    hangs), or when `late`, executed only then (the request itself was held up)."""
    _terminal.script.append(("late" if late else "hang", 0, True, seconds))


def fake_set_tick(symbol: str, bid: float, ask: float) -> None:
    _terminal.set_tick(symbol, bid, ask)


def fake_add_symbol(name: str, bid: float, ask: float, **spec: Any) -> None:
    with _terminal.lock:
        _terminal.symbols[name] = Symbol(name, bid, ask, **spec)


def fake_set_symbol(name: str, **fields: Any) -> None:
    """Set a symbol's fields: exemode, filling_mode, stops_level, liquidity, ..."""
    with _terminal.lock:
        for key, value in fields.items():
            setattr(_terminal.symbols[name], key, value)


def fake_attacks() -> list[str]:
    """What each attempt to run code in a client came to (see FakeTerminal.hostile)."""
    return list(_attacks)


def fake_set(**fields: Any) -> None:
    """Set FakeTerminal fields: connected, trade_allowed, latency, ..."""
    with _terminal.lock:
        for name, value in fields.items():
            setattr(_terminal, name, value)


def fake_state() -> dict[str, Any]:
    """A deep copy of the terminal's books, of plain values only."""
    t = _terminal
    with t.lock:
        return copy.deepcopy({
            "positions": list(t.positions.values()), "orders": list(t.orders.values()),
            "history_orders": t.history_orders, "deals": t.deals, "requests": t.requests,
            "initialize_calls": t.initialize_calls, "calls": t.calls,
            "max_in_flight": t.max_in_flight, "visible": sorted(
                s.name for s in t.symbols.values() if s.visible),
        })
