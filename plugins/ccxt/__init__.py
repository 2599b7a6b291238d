"""The ccxt plugin: real crypto exchanges (`type = "ccxt"`).

Importing this package imports ccxt; the loader turns a missing ccxt into an install hint.
"""

from plugins.ccxt.config import CcxtConfig
from plugins.ccxt.plugin import CcxtPlugin

__all__ = ["CcxtConfig", "CcxtPlugin"]
