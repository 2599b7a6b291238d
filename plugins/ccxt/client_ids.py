"""Client order ids derived from the signal id, fitted to what each exchange accepts.

The same signal id always gives the same client order id, so the order can be looked up after a
timeout or a crash. A signal id (a 26-character ULID) fits every exchange listed here as it is;
an id that does not fit (wrong characters, too long) is replaced by a hash of itself.
Orders placed for the same signal after the entry (stop-loss, take-profit) add a short suffix.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ClientIdRule:
    max_length: int
    allowed: re.Pattern[str]


_ALNUM = re.compile(r"[A-Za-z0-9]+")
_BINANCE = ClientIdRule(36, re.compile(r"[.A-Za-z0-9:/_-]+"))
_DASHES = ClientIdRule(36, re.compile(r"[A-Za-z0-9_-]+"))

RULES: dict[str, ClientIdRule] = {
    "binance": _BINANCE,
    "binanceus": _BINANCE,
    "binanceusdm": _BINANCE,
    "binancecoinm": _BINANCE,
    "bybit": _DASHES,
    "okx": ClientIdRule(32, _ALNUM),
    "kucoin": ClientIdRule(40, re.compile(r"[A-Za-z0-9_-]+")),
    "kucoinfutures": ClientIdRule(40, re.compile(r"[A-Za-z0-9_-]+")),
    "bitget": ClientIdRule(50, re.compile(r"[A-Za-z0-9_-]+")),
    "gate": ClientIdRule(28, re.compile(r"[A-Za-z0-9_.-]+")),
    "kraken": ClientIdRule(18, _ALNUM),
}
DEFAULT_RULE = ClientIdRule(32, _ALNUM)
"""Letters and digits, 32 at most: accepted by nearly every exchange."""


def rule_for(exchange_id: str) -> ClientIdRule:
    return RULES.get(exchange_id, DEFAULT_RULE)


def derive_client_order_id(signal_id: str, rule: ClientIdRule, suffix: str = "") -> str:
    """The exchange's client order id for one order of a signal (`suffix` tells them apart)."""
    wanted = f"{signal_id}{suffix}"
    if len(wanted) <= rule.max_length and rule.allowed.fullmatch(wanted):
        return wanted
    digest = base64.b32encode(hashlib.sha256(wanted.encode()).digest()).decode().rstrip("=")
    return digest[: rule.max_length]
