"""How the plugin reaches a MetaTrader 5 terminal: in process, or over rpyc.

Either way the result is a `Terminal` whose `mt5` behaves as the `MetaTrader5` module. Each
transport imports its package only when chosen, and a missing one is a `PluginConfigError` that
says what to install.
"""

from __future__ import annotations

import importlib
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from plugins.errors import PluginConfigError
from plugins.mt5.bridge import connect_bridge
from plugins.mt5.config import MT5Config
from plugins.mt5.terminal_side import FUNCTIONS, TERMINAL_SIDE_SOURCE

Row = tuple[Any, ...]
LastError = tuple[int, str] | None


def running_on_windows() -> bool:
    return sys.platform == "win32"


@dataclass
class PendingSend:
    """An `order_send` under way: its reply, once it has come (rpyc), or already (native)."""

    _reply: Any = None
    """rpyc's AsyncResult; None when `_value` is the reply."""
    _value: Any = None
    sent_at: float = field(default_factory=time.monotonic)

    def wait(self, seconds: float) -> bool:
        """True once the reply is in, waiting at most `seconds` for it."""
        reply = self._reply
        if reply is None:
            return True
        if reply.ready:
            return True
        reply.set_expiry(max(seconds, 0.0))
        try:
            reply.wait()
        except TimeoutError:
            reply.set_expiry(None)  # a later reply is still taken
            return False
        return True

    def value(self) -> tuple[Row | None, LastError]:
        if self._reply is None:
            result: tuple[Row | None, LastError] = self._value
            return result
        value: tuple[Row | None, LastError] = tuple(self._reply.value)
        return value


@dataclass
class Terminal:
    """The `MetaTrader5` module, in this process or proxied from another one."""

    mt5: Any
    functions: dict[str, Any]
    link_errors: tuple[type[BaseException], ...] = ()
    """Exceptions that mean the link to the terminal failed, not the call."""
    _connection: Any = field(default=None, repr=False)
    _async: Any = field(default=None, repr=False)

    def read(
        self,
        function: str,
        fields: tuple[str, ...],
        *args: Any,
        where: tuple[tuple[str, Any], ...] = (),
        many: bool = False,
        **kwargs: Any,
    ) -> tuple[Row | tuple[Row, ...] | None, LastError]:
        """`fields` of what `mt5.<function>(*args, **kwargs)` returns, as plain tuples: one
        (or None) by default, every item that matches `where` when `many`; with last_error
        when the function returned None."""
        value, error = self.functions["tradehook_read"](
            function, args, tuple(kwargs.items()), fields, where, many
        )
        return value, (None if error is None else (int(error[0]), str(error[1])))

    def start_send(self, request: dict[str, Any], fields: tuple[str, ...]) -> PendingSend:
        """`order_send` with the request built as a real dict where the module lives (its C
        extension refuses a proxy); over rpyc it does not wait for the reply."""
        send = self.functions["tradehook_send"]
        items = tuple(request.items())
        if self._async is None:
            return PendingSend(_value=send(items, fields))
        return PendingSend(_reply=self._async(send)(items, fields))

    def claim(self, owner: str, wait: float) -> str | None:
        holder: str | None = self.functions["tradehook_claim"](owner, wait)
        return holder

    def release(self, owner: str) -> None:
        self.functions["tradehook_release"](owner)

    def set_timeout(self, seconds: float) -> None:
        if self._connection is not None:
            self._connection._config["sync_request_timeout"] = seconds

    @property
    def closed(self) -> bool:
        return self._connection is not None and bool(self._connection.closed)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


def open_terminal(config: MT5Config) -> Terminal:
    if config.transport == "native":
        return _open_native()
    return _open_rpyc(config)


def _open_native() -> Terminal:
    if not running_on_windows():
        raise PluginConfigError(
            "transport 'native' needs the MetaTrader5 package, which exists only for Windows; "
            "on Linux use transport = \"rpyc\" with the terminal on a Windows host or under Wine"
        )
    try:
        module = importlib.import_module("MetaTrader5")
    except ImportError as exc:
        raise PluginConfigError(
            "transport 'native' needs the MetaTrader5 package: pip install 'tradehook[mt5]'"
        ) from exc
    namespace: dict[str, Any] = {}
    exec(TERMINAL_SIDE_SOURCE, namespace)  # noqa: S102 - our constant, as run on an rpyc server
    return Terminal(mt5=module, functions=namespace)


def _open_rpyc(config: MT5Config) -> Terminal:
    where = f"{config.host}:{config.port}"
    connection = connect_bridge(config)
    try:
        module = connection.modules.MetaTrader5
    except (ImportError, AttributeError) as exc:  # rpyc turns the ImportError into the latter
        connection.close()
        raise PluginConfigError(
            f"the rpyc server at {where} cannot import MetaTrader5: install it in the Python "
            "that runs the server (pip install MetaTrader5)"
        ) from exc
    connection.execute(TERMINAL_SIDE_SOURCE)
    functions = {name: connection.namespace[name] for name in FUNCTIONS}
    return Terminal(
        mt5=module,
        functions=functions,
        link_errors=(EOFError, OSError, TimeoutError),
        _connection=connection,
        _async=importlib.import_module("rpyc").async_,
    )
