"""MetaTrader 5: orders through the terminal's Python API, in process (Windows) or over rpyc.

    config.py         the `[plugins.NAME]` options (a bridge off loopback needs TLS)
    claims.py         one terminal connection per process and per bridge
    bridge.py         the rpyc link: a client that exposes nothing, optionally over TLS
    terminal_side.py  code run where the MetaTrader5 module lives (reads, sends, the claim)
    transports.py     the MetaTrader5 module, in process or behind an rpyc classic server
    records.py        the fields of the terminal's structures that the plugin reads
    session.py        the connection to one terminal, and blocking reads from it
    sending.py        trade requests sent, late replies taken, doubts made unknown
    finder.py         finding a signal's orders by ticket, or by (shortened) comment
    prices.py         filling modes per execution mode, tick rounding, stops levels
    requests.py       trade request dictionaries (deal, pending, close, remove)
    trading.py        open, close, reverse, cancel and lookup
    symbols.py        symbol names, volume rounding, comments from signal ids
    retcodes.py       trade server return codes sorted into the error tree
    plugin.py         the async plugin, running the session on one worker thread
"""

from plugins.mt5.config import MT5Config
from plugins.mt5.plugin import MT5Plugin

__all__ = ["MT5Config", "MT5Plugin"]
