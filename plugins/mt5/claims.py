"""One terminal connection per process, and per bridge.

The `MetaTrader5` module holds one terminal connection for its whole process, and `last_error`
is global to it (MetaTrader5 for Python, "initialize": it connects "the" terminal; a second
`initialize` re-targets it). Two plugins sharing it, in tradehook's process (transport native) or
in a bridge's (transport rpyc), would send each other's orders to one account and read each
other's errors, and one's `shutdown()` would cut the other. So each plugin claims its
connection: in this process here, in the bridge's process by `tradehook_claim` (see
`plugins.mt5.terminal_side`). A second claim is refused at start with `PluginConfigError`.
"""

from __future__ import annotations

import threading

from plugins.errors import PluginConfigError

_lock = threading.Lock()
_held: dict[str, tuple[int, str]] = {}

ONE_PER_TERMINAL = (
    "the MetaTrader5 module holds one terminal connection per process: give each terminal its "
    "own bridge (an rpyc server on its own port, in its own Python) and each plugin its own "
    "terminal"
)


def claim(key: str, owner: object, plugin: str) -> None:
    """Take `key` (`MT5Config.bridge_key()`) for `owner` (a plugin instance named `plugin`),
    or refuse if another instance holds it."""
    with _lock:
        holder = _held.get(key)
        if holder is not None and holder[0] != id(owner):
            raise PluginConfigError(
                f"plugin {plugin!r} would share {key} with plugin {holder[1]!r}; "
                f"{ONE_PER_TERMINAL}"
            )
        _held[key] = (id(owner), plugin)


def release(key: str, owner: object) -> None:
    with _lock:
        holder = _held.get(key)
        if holder is not None and holder[0] == id(owner):
            del _held[key]
