"""From a signal's symbol, quantity and id to the symbol, volume and comment the terminal takes."""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal

from plugins.errors import OrderRejected

COMMENT_LIMIT = 31  # MetaTrader 5 truncates or refuses longer comments
COMMENT_PREFIX = "th:"
EXIT_SUFFIX = ":x"  # the deals of a close
REVERSE_EXIT_SUFFIX = ":r"  # the closing deals of a reverse, before its opening deal


def broker_symbol(symbol: str, mapping: dict[str, str], suffix: str = "") -> str:
    """`FX:EURUSD`, `EUR/USD` and `EURUSD` -> `EURUSD` + suffix; an explicit mapping wins."""
    if symbol in mapping:
        return mapping[symbol]
    base = symbol.rsplit(":", 1)[-1].replace("/", "")
    if base in mapping:
        return mapping[base]
    return base + suffix


def comment_for(client_order_id: str, suffix: str = "") -> str:
    """The order comment that carries a signal id, at most 31 characters.

    Ids too long to fit (a ULID fits) are replaced by a hash of the same length, so the comment
    is always the same for the same id.
    """
    room = COMMENT_LIMIT - len(COMMENT_PREFIX) - max(len(EXIT_SUFFIX), len(REVERSE_EXIT_SUFFIX))
    body = client_order_id
    if len(body) > room:
        body = hashlib.blake2b(body.encode(), digest_size=16).hexdigest()[:room]
    return f"{COMMENT_PREFIX}{body}{suffix}"


def round_volume(
    quantity: float, step: float, minimum: float, maximum: float, what: str
) -> float:
    """The quantity rounded to the symbol's volume step; refused outside its limits."""
    step_d = Decimal(str(step)) if step > 0 else Decimal("0.01")
    steps = (Decimal(str(quantity)) / step_d).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    volume = float(steps * step_d)
    if volume < minimum - 1e-12:
        raise OrderRejected(
            f"cannot {what}: {quantity:g} rounds to {volume:g} lots, below the symbol's minimum "
            f"volume {minimum:g}"
        )
    if maximum > 0 and volume > maximum + 1e-12:
        raise OrderRejected(
            f"cannot {what}: {volume:g} lots is above the symbol's maximum volume {maximum:g}"
        )
    return volume
