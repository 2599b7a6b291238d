"""How the plugin reaches a MetaTrader 5 terminal: in process, or over rpyc.

Either way the result is a `Terminal` whose `mt5` behaves as the `MetaTrader5` module. Each
transport imports its package only when chosen, and a missing one is a `PluginConfigError` that
says what to install.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from typing import Any

from plugins.errors import PluginConfigError
from plugins.mt5.config import MT5Config

RPYC_SERVER_HINT = (
    "run an rpyc classic server next to the terminal, in the Python that has MetaTrader5 "
    "(on Windows or under Wine: pip install MetaTrader5 rpyc; rpyc_classic --host 127.0.0.1)"
)


def running_on_windows() -> bool:
    return sys.platform == "win32"


# Run where the MetaTrader5 module lives (sent to the rpyc server once per connection), so that
# reading a structure, or a week of deals, costs one round trip instead of one per attribute.
TERMINAL_SIDE_SOURCE = """
def tradehook_read(function, args, kwargs, fields, where, many):
    import MetaTrader5
    result = getattr(MetaTrader5, function)(*args, **dict(kwargs))
    if result is None:
        return None
    items = tuple(result) if many else (result,)
    rows = tuple(
        tuple(getattr(item, name) for name in fields)
        for item in items
        if all(getattr(item, key) == value for key, value in where)
    )
    return rows if many else (rows[0] if rows else None)


def tradehook_send(items, fields):
    import MetaTrader5
    result = MetaTrader5.order_send(dict(items))
    return None if result is None else tuple(getattr(result, name) for name in fields)
"""

Row = tuple[Any, ...]


@dataclass
class Terminal:
    """The `MetaTrader5` module, in this process or proxied from another one."""

    mt5: Any
    functions: dict[str, Any]
    link_errors: tuple[type[BaseException], ...] = ()
    """Exceptions that mean the link to the terminal failed, not the call."""
    _connection: Any = field(default=None, repr=False)

    def read(
        self,
        function: str,
        fields: tuple[str, ...],
        *args: Any,
        where: tuple[tuple[str, Any], ...] = (),
        many: bool = False,
        **kwargs: Any,
    ) -> Row | tuple[Row, ...] | None:
        """`fields` of what `mt5.<function>(*args, **kwargs)` returns, as plain tuples: one
        (or None) by default, every item that matches `where` when `many`."""
        read = self.functions["tradehook_read"]
        result: Row | tuple[Row, ...] | None = read(
            function, args, tuple(kwargs.items()), fields, where, many
        )
        return result

    def send(self, request: dict[str, Any], fields: tuple[str, ...]) -> Row | None:
        """`order_send` with the request built as a real dict where the module lives (its C
        extension refuses a proxy), returning `fields` of the result, or None."""
        result: Row | None = self.functions["tradehook_send"](tuple(request.items()), fields)
        return result

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
    try:
        classic = importlib.import_module("rpyc.utils.classic")
    except ImportError as exc:
        raise PluginConfigError(
            "transport 'rpyc' needs the rpyc package: pip install 'tradehook[mt5]'"
        ) from exc
    where = f"{config.host}:{config.port}"
    try:
        connection = classic.connect(config.host, config.port)
    except OSError as exc:
        raise PluginConfigError(
            f"cannot reach the rpyc server at {where} ({exc}); {RPYC_SERVER_HINT}"
        ) from exc
    connection._config["sync_request_timeout"] = config.request_timeout
    try:
        module = connection.modules.MetaTrader5
    except (ImportError, AttributeError) as exc:  # rpyc turns the ImportError into the latter
        connection.close()
        raise PluginConfigError(
            f"the rpyc server at {where} cannot import MetaTrader5: install it in the Python "
            "that runs the server (pip install MetaTrader5)"
        ) from exc
    connection.execute(TERMINAL_SIDE_SOURCE)
    functions = {name: connection.namespace[name] for name in ("tradehook_read", "tradehook_send")}
    return Terminal(
        mt5=module,
        functions=functions,
        link_errors=(EOFError, OSError, TimeoutError),
        _connection=connection,
    )
