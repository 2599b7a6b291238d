"""A blocking session with one MetaTrader 5 terminal: the connection, and reading from it.

Every method blocks and must run on the plugin's single worker thread: the terminal API is
neither asynchronous nor safe to call from two threads at once.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from plugins.errors import PluginConfigError, TemporaryError, UnknownSymbol
from plugins.mt5.claims import ONE_PER_TERMINAL
from plugins.mt5.config import MT5Config
from plugins.mt5.records import (
    AccountState,
    PendingOrder,
    Position,
    Record,
    SymbolSpec,
    TerminalState,
    Tick,
)
from plugins.mt5.symbols import broker_symbol
from plugins.mt5.transports import LastError, Terminal, open_terminal

log = logging.getLogger(__name__)
R = TypeVar("R", bound=Record)

_CLAIM_WAIT = 3.0  # seconds for a killed holder's connection to end on the bridge
_QUOTE_TRIES, _QUOTE_PAUSE = 10, 0.05  # a symbol just selected has no quote for a moment
_INIT_MARGIN = 5.0  # seconds of rpyc timeout beyond initialize's own


class MT5Session:
    def __init__(
        self, config: MT5Config, opener: Callable[[MT5Config], Terminal] = open_terminal
    ) -> None:
        self.config = config
        self._opener = opener
        self._terminal: Terminal | None = None
        self.owner = f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:8]}"
        """This plugin's name on the bridge's claim."""
        self.hedging = True
        self._last_error: LastError = None

    # --- connection -------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the transport, claim the terminal, log in and select the configured symbols."""
        terminal = self._opener(self.config)
        mt5 = terminal.mt5
        try:
            holder = terminal.claim(self.owner, _CLAIM_WAIT)
            if holder is not None:
                raise PluginConfigError(
                    f"{self.config.bridge_key()} is in use by another tradehook ({holder}); "
                    f"{ONE_PER_TERMINAL}"
                )
            kwargs: dict[str, object] = dict(self.config.credentials())
            kwargs["timeout"] = self.config.init_timeout_ms
            path = self.config.path
            terminal.set_timeout(self.config.init_timeout_ms / 1000 + _INIT_MARGIN)
            try:
                ok = mt5.initialize(path, **kwargs) if path else mt5.initialize(**kwargs)
            finally:
                terminal.set_timeout(self.config.request_timeout)
            if not ok:
                code, text = mt5.last_error()
                raise PluginConfigError(
                    f"MetaTrader 5 initialize failed for login {kwargs.get('login', '(terminal)')} "
                    f"on {kwargs.get('server', '(terminal)')}: last_error {code} {text}"
                )
            for symbol in sorted(set(self.config.symbols.values())):
                if not mt5.symbol_select(symbol, True):
                    raise PluginConfigError(
                        f"symbols: MetaTrader 5 cannot select {symbol!r}: "
                        f"last_error {mt5.last_error()}"
                    )
            self._terminal = terminal
            account = self.one(AccountState, "account_info")
            hedging = mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
            self.hedging = account is None or account.margin_mode == hedging
        except TimeoutError as exc:
            self._abandon(terminal)
            raise PluginConfigError(
                f"MetaTrader 5 did not answer {self.config.bridge_key()} in time ({exc!r})"
            ) from exc
        except BaseException:
            self._abandon(terminal)
            raise

    def _lost(self, terminal: Terminal, exc: BaseException) -> None:
        """A link that broke (the bridge went away) is dropped, so that the next call connects
        again; a slow answer (TimeoutError) keeps it."""
        if not isinstance(exc, TimeoutError) and terminal is self._terminal:
            self._abandon(terminal)

    def _abandon(self, terminal: Terminal) -> None:
        self._terminal = None
        try:
            terminal.release(self.owner)
        except Exception:  # noqa: BLE001 - the link may be the thing that failed
            log.debug("MetaTrader 5 claim release failed", exc_info=True)
        terminal.close()

    def close(self) -> None:
        """Log out and let the claim go: the terminal is ours alone (see `plugins.mt5.claims`),
        so `shutdown()` cuts no one else."""
        terminal, self._terminal = self._terminal, None
        if terminal is None:
            return
        try:
            terminal.mt5.shutdown()
            terminal.release(self.owner)
        except Exception:  # noqa: BLE001 - closing anyway
            log.debug("MetaTrader 5 shutdown failed", exc_info=True)
        finally:
            terminal.close()

    def detach(self) -> None:
        """Stop using the current connection (its reply is awaited elsewhere); the next call
        opens another one."""
        self._terminal = None

    def live(self) -> Terminal:
        if self._terminal is None or self._terminal.closed:
            if self._terminal is not None:
                self._terminal.close()
                self._terminal = None
            try:
                self.connect()
            except (PluginConfigError, EOFError, OSError) as exc:
                raise TemporaryError(f"MetaTrader 5 terminal unreachable: {exc}") from exc
        assert self._terminal is not None  # noqa: S101 - connect() sets it
        return self._terminal

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """One terminal function call; a failed link is a temporary error."""
        terminal = self.live()
        try:
            return getattr(terminal.mt5, name)(*args, **kwargs)
        except terminal.link_errors as exc:
            self._lost(terminal, exc)
            raise TemporaryError(f"MetaTrader 5 link failed during {name}: {exc!r}") from exc

    def one(self, record: type[R], function: str, *args: Any, **kwargs: Any) -> R | None:
        """The structure a terminal function returns, as a record; None when it returns None."""
        row = self._read(function, record.names(), args, kwargs, (), False)
        return None if row is None else record.of(row)

    def many(
        self,
        record: type[R],
        function: str,
        *args: Any,
        where: tuple[tuple[str, Any], ...] = (),
        **kwargs: Any,
    ) -> list[R]:
        """The structures a terminal function returns that match `where`, as records."""
        return record.all(self._read(function, record.names(), args, kwargs, where, True))

    def _read(
        self,
        function: str,
        names: tuple[str, ...],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        where: tuple[tuple[str, Any], ...],
        many: bool,
    ) -> Any:
        terminal = self.live()
        try:
            value, self._last_error = terminal.read(
                function, names, *args, where=where, many=many, **kwargs
            )
        except terminal.link_errors as exc:
            self._lost(terminal, exc)
            raise TemporaryError(f"MetaTrader 5 link failed during {function}: {exc!r}") from exc
        return value

    def constant(self, name: str) -> int:
        value: int = getattr(self.live().mt5, name)
        return value

    def last_error(self) -> tuple[int, str]:
        """The error of the last read that returned None (read with it), else asked now."""
        if self._last_error is not None:
            return self._last_error
        code, text = self.call("last_error")
        return int(code), str(text)

    # --- symbols and quotes -----------------------------------------------------------------

    def symbol(self, symbol: str, what: str) -> SymbolSpec:
        """The broker symbol for a signal symbol, selected in Market Watch."""
        name = broker_symbol(symbol, self.config.symbols, self.config.symbol_suffix)
        spec = self.one(SymbolSpec, "symbol_info", name)
        if spec is None:
            raise UnknownSymbol(f"cannot {what}: MetaTrader 5 has no symbol {name!r}")
        if not spec.visible and not self.call("symbol_select", name, True):
            raise UnknownSymbol(f"cannot {what}: MetaTrader 5 cannot select {name!r}")
        return spec

    def tick(self, name: str, what: str) -> Tick:
        """The symbol's quote; a tick of zeros (a symbol selected a moment ago has no quote
        yet) is asked again a few times, then is a temporary error."""
        for attempt in range(_QUOTE_TRIES):
            tick = self.one(Tick, "symbol_info_tick", name)
            if tick is None:
                raise TemporaryError(f"cannot {what}: no quote for {name} ({self.last_error()})")
            if tick.bid > 0 and tick.ask > 0:
                return tick
            if attempt + 1 < _QUOTE_TRIES:
                time.sleep(_QUOTE_PAUSE)
        raise TemporaryError(f"cannot {what}: {name} has no quote yet (bid and ask are 0)")

    def positions(self, name: str) -> list[Position]:
        found = self.many(Position, "positions_get", symbol=name)
        return sorted(found, key=lambda p: (p.time_msc, p.ticket))

    def pending_orders(self, name: str) -> list[PendingOrder]:
        return self.many(PendingOrder, "orders_get", symbol=name)

    def healthy(self) -> bool:
        terminal = self.one(TerminalState, "terminal_info")
        account = self.one(AccountState, "account_info")
        if terminal is None or account is None:
            return False
        return terminal.connected and terminal.trade_allowed and account.trade_allowed
