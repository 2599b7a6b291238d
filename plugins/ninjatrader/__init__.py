"""NinjaTrader 8: futures orders through the Automated Trading Interface.

    config.py       the `[plugins.NAME]` options
    instruments.py  TradingView symbols (ES1!, ESZ2025) to NinjaTrader contracts (ES 12-25)
    ati.py          order instructions, order states, and what a transport provides
    oif.py          transport `oif`: files in NinjaTrader's incoming and outgoing folders
    dll.py          transport `dll`: NinjaTrader.Client.dll through pythonnet
    reports.py      waiting for NinjaTrader's reports and reading them as results
    brackets.py     the orders kept working, and the OCO brackets that protect entries
    trading.py      entries, brackets, close, reverse, cancel and lookup
    plugin.py       the async plugin, running the transport on one worker thread
"""

from plugins.ninjatrader.config import NinjaTraderConfig
from plugins.ninjatrader.plugin import NinjaTraderPlugin

__all__ = ["NinjaTraderConfig", "NinjaTraderPlugin"]
