"""MetaTrader 5: orders through the terminal's Python API, in process (Windows) or over rpyc.

    config.py      the `[plugins.NAME]` options
    transports.py  the MetaTrader5 module, in process or behind an rpyc classic server
    records.py     the fields of the terminal's structures that the plugin reads
    session.py     blocking calls to one terminal; finding a request again by its comment
    requests.py    trade request dictionaries (deal, pending, close, remove)
    trading.py     open, close, reverse, cancel and lookup
    symbols.py     symbol names, volume rounding, filling modes, comments from signal ids
    retcodes.py    trade server return codes sorted into the error tree
    plugin.py      the async plugin, running the session on one worker thread
"""

from plugins.mt5.config import MT5Config
from plugins.mt5.plugin import MT5Plugin

__all__ = ["MT5Config", "MT5Plugin"]
