"""Symbol patterns (`*USDT`, `ES*`, `BINANCE:*`) as routing rules and risk limits use them.

Patterns are shell-style (`*` any run of characters, `?` one character), matched without regard
to case. Where several patterns match, the most specific one wins: the one with the most
characters that are not wildcards, then the one written first. So `*` always catches the rest,
whatever order the table is written in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

_WILDCARDS = "*?["


def matches(pattern: str, symbol: str) -> bool:
    return fnmatchcase(symbol.upper(), pattern.upper())


def specificity(pattern: str) -> int:
    return sum(1 for char in pattern if char not in _WILDCARDS)


def best_match(patterns: Iterable[str], symbol: str) -> str | None:
    """The most specific pattern that matches `symbol`, or None."""
    best: str | None = None
    for pattern in patterns:
        if matches(pattern, symbol) and (best is None or specificity(pattern) > specificity(best)):
            best = pattern
    return best


def map_symbol(table: Mapping[str, str], symbol: str) -> str:
    """A symbol map lookup: the exact name (any case), else the name without its `EXCHANGE:`
    prefix, else the symbol unchanged."""
    if not table:
        return symbol
    folded = {key.upper(): value for key, value in table.items()}
    for candidate in (symbol, symbol.rsplit(":", 1)[-1]):
        if candidate.upper() in folded:
            return folded[candidate.upper()]
    return symbol


def check_patterns(patterns: Iterable[str]) -> list[str]:
    """For settings validators: refuse empty patterns."""
    checked = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip():
            raise ValueError("a symbol pattern is empty")
        checked.append(pattern.strip())
    return checked
