"""MetaTrader 5 trade server return codes, sorted into tradehook's error tree."""

from __future__ import annotations

from enum import Enum

from plugins.errors import (
    ExecutionError,
    InsufficientFunds,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    TemporaryError,
)


class InvalidFilling(OrderRejected):
    """INVALID_FILL (10030): the server refused the filling mode; another one may pass."""


class Outcome(Enum):
    DONE = "done"
    TEMPORARY = "temporary"
    UNKNOWN = "unknown"
    FINAL = "final"


CANCEL = 10007
PLACED = 10008
DONE = 10009
DONE_PARTIAL = 10010
TIMEOUT = 10012
NO_MONEY = 10019
TOO_MANY_REQUESTS = 10024
INVALID_FILL = 10030

MEANINGS: dict[int, tuple[str, str]] = {
    10004: ("REQUOTE", "requote"),
    10006: ("REJECT", "request rejected"),
    CANCEL: ("CANCEL", "request canceled by trader"),
    PLACED: ("PLACED", "order placed"),
    DONE: ("DONE", "request completed"),
    DONE_PARTIAL: ("DONE_PARTIAL", "only part of the request was completed"),
    10011: ("ERROR", "request processing error"),
    TIMEOUT: ("TIMEOUT", "request canceled by timeout"),
    10013: ("INVALID", "invalid request"),
    10014: ("INVALID_VOLUME", "invalid volume in the request"),
    10015: ("INVALID_PRICE", "invalid price in the request"),
    10016: ("INVALID_STOPS", "invalid stops in the request"),
    10017: ("TRADE_DISABLED", "trade is disabled"),
    10018: ("MARKET_CLOSED", "market is closed"),
    NO_MONEY: ("NO_MONEY", "there is not enough money to complete the request"),
    10020: ("PRICE_CHANGED", "prices changed"),
    10021: ("PRICE_OFF", "there are no quotes to process the request"),
    10022: ("INVALID_EXPIRATION", "invalid order expiration date in the request"),
    10023: ("ORDER_CHANGED", "order state changed"),
    TOO_MANY_REQUESTS: ("TOO_MANY_REQUESTS", "too frequent requests"),
    10025: ("NO_CHANGES", "no changes in request"),
    10026: ("SERVER_DISABLES_AT", "autotrading disabled by server"),
    10027: ("CLIENT_DISABLES_AT", "autotrading disabled by client terminal"),
    10028: ("LOCKED", "request locked for processing"),
    10029: ("FROZEN", "order or position frozen"),
    INVALID_FILL: ("INVALID_FILL", "invalid order filling type"),
    10031: ("CONNECTION", "no connection with the trade server"),
    10032: ("ONLY_REAL", "operation is allowed only for live accounts"),
    10033: ("LIMIT_ORDERS", "the number of pending orders has reached the limit"),
    10034: ("LIMIT_VOLUME", "the volume of orders and positions for the symbol is at the limit"),
    10035: ("INVALID_ORDER", "incorrect or prohibited order type"),
    10036: ("POSITION_CLOSED", "position with the specified identifier has already been closed"),
    10038: ("INVALID_CLOSE_VOLUME", "a close volume exceeds the current position volume"),
    10039: ("CLOSE_ORDER_EXIST", "a close order already exists for this position"),
    10040: ("LIMIT_POSITIONS", "the number of open positions has reached the limit"),
    10041: ("REJECT_CANCEL", "the pending order activation request is rejected"),
    10042: ("LONG_ONLY", "only long positions are allowed for the symbol"),
    10043: ("SHORT_ONLY", "only short positions are allowed for the symbol"),
    10044: ("CLOSE_ONLY", "only position closing is allowed for the symbol"),
    10045: ("FIFO_CLOSE", "position closing is allowed only by FIFO rule"),
    10046: ("HEDGE_PROHIBITED", "opposite positions on a single symbol are disabled"),
}

_SUCCEEDED = frozenset({PLACED, DONE, DONE_PARTIAL})
_TEMPORARY = frozenset({10004, 10020, 10021, TOO_MANY_REQUESTS, 10031})


def outcome(retcode: int) -> Outcome:
    if retcode in _SUCCEEDED:
        return Outcome.DONE
    if retcode in _TEMPORARY:
        return Outcome.TEMPORARY
    if retcode == TIMEOUT:
        return Outcome.UNKNOWN
    return Outcome.FINAL


def describe(retcode: int, broker_comment: str = "") -> str:
    name, meaning = MEANINGS.get(retcode, ("UNKNOWN_RETCODE", "unknown return code"))
    said = f"; broker says {broker_comment!r}" if broker_comment else ""
    return f"{name} ({retcode}): {meaning}{said}"


def error_for(retcode: int, what: str, broker_comment: str = "") -> ExecutionError:
    """The error for a failed request; `what` names it ("buy 0.1 EURUSD")."""
    message = f"MetaTrader 5 refused {what}: {describe(retcode, broker_comment)}"
    kind = outcome(retcode)
    if kind is Outcome.TEMPORARY:
        if retcode == TOO_MANY_REQUESTS:
            return RateLimited(message)
        return TemporaryError(message)
    if kind is Outcome.UNKNOWN:
        return OutcomeUnknown(
            f"MetaTrader 5 timed out on {what}: {describe(retcode, broker_comment)}; "
            "the order may exist"
        )
    if retcode == NO_MONEY:
        return InsufficientFunds(message)
    if retcode == INVALID_FILL:
        return InvalidFilling(message)
    return OrderRejected(message)
