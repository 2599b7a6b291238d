"""A blocking session with one MetaTrader 5 terminal.

Every method blocks and must run on the plugin's single worker thread: the terminal API is
neither asynchronous nor safe to call from two threads at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from plugins.errors import (
    OrderRejected,
    OutcomeUnknown,
    PluginConfigError,
    TemporaryError,
    UnknownSymbol,
)
from plugins.mt5 import retcodes
from plugins.mt5.config import MT5Config
from plugins.mt5.records import (
    AccountState,
    Deal,
    PendingOrder,
    Position,
    Record,
    SendResult,
    SymbolSpec,
    TerminalState,
    Tick,
)
from plugins.mt5.symbols import broker_symbol
from plugins.mt5.transports import Terminal, open_terminal

log = logging.getLogger(__name__)
R = TypeVar("R", bound=Record)

# last_error codes meaning the request never left the terminal
_NOT_SENT = {-2: "invalid arguments", -8: "algorithmic trading is disabled in the terminal"}
_RECONCILE_PAUSE = 0.1


class MT5Session:
    def __init__(
        self, config: MT5Config, opener: Callable[[MT5Config], Terminal] = open_terminal
    ) -> None:
        self.config = config
        self._opener = opener
        self._terminal: Terminal | None = None

    # --- connection -------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the transport, log in and select the configured symbols."""
        terminal = self._opener(self.config)
        mt5 = terminal.mt5
        try:
            kwargs: dict[str, object] = dict(self.config.credentials())
            kwargs["timeout"] = self.config.init_timeout_ms
            path = self.config.path
            ok = mt5.initialize(path, **kwargs) if path else mt5.initialize(**kwargs)
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
        except BaseException:
            terminal.close()
            raise
        self._terminal = terminal

    def close(self) -> None:
        terminal, self._terminal = self._terminal, None
        if terminal is None:
            return
        try:
            terminal.mt5.shutdown()
        except Exception:  # noqa: BLE001 - closing anyway
            log.debug("MetaTrader 5 shutdown failed", exc_info=True)
        finally:
            terminal.close()

    def _live(self) -> Terminal:
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
        terminal = self._live()
        try:
            return getattr(terminal.mt5, name)(*args, **kwargs)
        except terminal.link_errors as exc:
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
        terminal = self._live()
        try:
            return terminal.read(function, names, *args, where=where, many=many, **kwargs)
        except terminal.link_errors as exc:
            raise TemporaryError(f"MetaTrader 5 link failed during {function}: {exc!r}") from exc

    def constant(self, name: str) -> int:
        value: int = getattr(self._live().mt5, name)
        return value

    def last_error(self) -> tuple[int, str]:
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
        tick = self.one(Tick, "symbol_info_tick", name)
        if tick is None:
            raise TemporaryError(f"cannot {what}: no quote for {name} ({self.last_error()})")
        return tick

    # --- orders -----------------------------------------------------------------------------

    def send(self, fields: dict[str, Any], what: str) -> SendResult:
        """Send one trade request; a lost answer is looked for by its comment before it counts
        as unknown. Returns results with a succeeding retcode, raises for the others."""
        terminal = self._live()
        comment = str(fields.get("comment", ""))
        try:
            row = terminal.send(fields, SendResult.names())
        except terminal.link_errors as exc:
            log.warning("MetaTrader 5 link failed while sending %s: %r", what, exc)
            return self._reconcile(fields, what, f"link failed: {exc!r}")
        if row is None:
            code, text = self.last_error()
            if code in _NOT_SENT:
                raise OrderRejected(
                    f"MetaTrader 5 refused {what} before sending it: {_NOT_SENT[code]} "
                    f"({code} {text})"
                )
            return self._reconcile(fields, what, f"no result, last_error {code} {text}")
        result = SendResult.of(row)
        kind = retcodes.outcome(result.retcode)
        if kind is retcodes.Outcome.DONE:
            return result
        if kind is retcodes.Outcome.UNKNOWN and comment:
            return self._reconcile(fields, what, retcodes.describe(result.retcode))
        raise retcodes.error_for(result.retcode, what, result.comment)

    def _reconcile(self, fields: dict[str, Any], what: str, why: str) -> SendResult:
        """Look for the deal or order that an unanswered request may have made."""
        comment = str(fields.get("comment", ""))
        deadline = time.monotonic() + self.config.reconcile_timeout
        while comment:
            found = self.find(comment, position=fields.get("position"))
            if found is not None:
                log.info("MetaTrader 5 %s: answer lost (%s) but found by comment", what, why)
                return found
            if time.monotonic() >= deadline:
                break
            time.sleep(_RECONCILE_PAUSE)
        raise OutcomeUnknown(
            f"MetaTrader 5 gave no answer to {what} ({why}) and no order with magic "
            f"{self.config.magic} and comment {comment!r} was found; the order may still appear"
        )

    def find(self, comment: str, position: int | None = None) -> SendResult | None:
        """What the terminal holds for our magic and this comment: deals first, then pending
        orders, then positions. For a closing request, only deals of that position count."""
        ours = (("magic", self.config.magic), ("comment", comment))
        if position is not None:
            deals = self.many(Deal, "history_deals_get", where=ours, position=position)
        else:
            now = int(time.time())
            since = now - self.config.lookup_days * 86_400
            deals = self.many(Deal, "history_deals_get", since, now + 2 * 86_400, where=ours)
        if deals:
            volume = sum(d.volume for d in deals)
            price = sum(d.price * d.volume for d in deals) / volume if volume else 0.0
            last = deals[-1]
            return SendResult(retcodes.DONE, last.ticket, last.order, volume, price, comment)
        if position is not None:
            return None
        pending = self.many(PendingOrder, "orders_get", where=ours)
        if pending:
            return SendResult(retcodes.PLACED, 0, pending[0].ticket, 0.0, 0.0, comment)
        held = self.many(Position, "positions_get", where=ours)
        if held:
            first = held[0]  # filled, though its deal was not found: the ticket stands for it
            return SendResult(
                retcodes.DONE, first.ticket, first.ticket, first.volume, first.price_open, comment
            )
        return None

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

