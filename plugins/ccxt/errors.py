"""ccxt's exceptions, translated into tradehook's error tree.

    ccxt.InsufficientFunds                       -> InsufficientFunds       (final)
    ccxt.BadSymbol                               -> UnknownSymbol           (final)
    ccxt.InvalidOrder, BadRequest, OperationRejected, NotSupported,
    AuthenticationError, ExchangeError subclasses -> OrderRejected          (final)
        (but an ExchangeError caused by the HTTP client is a network failure, below)
    a bare ccxt.ExchangeError (a code ccxt does not map) after the order was sent
                                                 -> OutcomeUnknown          (lookup first)
    any answer with an HTTP 5xx status          -> ccxt.ExchangeNotAvailable, below: Binance
        documents 5xx as "execution status UNKNOWN", whatever code the body carries
    ccxt.RateLimitExceeded, DDoSProtection       -> RateLimited             (nothing placed)
    ccxt.OnMaintenance, InvalidNonce             -> TemporaryError          (nothing placed)
    ccxt.RequestTimeout, ExchangeNotAvailable, other network failures
        before the order was sent, or for a request that places nothing -> TemporaryError
        after the order was sent                                          -> OutcomeUnknown

Every message names what was asked (side, quantity, symbol) and has the credentials and request
signatures removed, since messages end up in logs and in the journal. Calls to the exchange run
inside `translated(...)`, the one place that turns a ccxt exception into one of ours.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import ccxt.async_support as ccxt

from plugins.errors import (
    ExecutionError,
    InsufficientFunds,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    TemporaryError,
    UnknownSymbol,
)
from plugins.redaction import Redactor

SIGNATURE = re.compile(r"(?i)\b((?:signature|sign)=)[^&\s\"']+")
"""A request signature in a query string or form; `signature=` itself is kept."""


def exchange_redactor(secrets: Iterable[str] = ()) -> Redactor:
    """Removes the API credentials (as written and URL-encoded) and request signatures."""
    return Redactor(secrets, [SIGNATURE])


class _RedactingFilter(logging.Filter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self._redact(record.getMessage()), None
        return True


def redacting_logger(name: str, redact: Redactor) -> logging.Logger:
    """A logger for ccxt, which logs request headers (API keys, passphrases) at debug level."""
    logger = logging.getLogger(name)
    logger.filters = [_RedactingFilter(redact)]
    return logger


def _from_transport(exc: BaseException) -> bool:
    """ccxt wraps some HTTP client failures (a cut-off answer) in a plain ExchangeError: the
    exchange said nothing, so it is a network failure, not a refusal."""
    cause = exc.__cause__
    return cause is not None and not isinstance(cause, ccxt.BaseError)


def is_duplicate_client_id(exc: BaseException) -> bool:
    """The exchange refused the order because its client order id was used before."""
    if isinstance(exc, ccxt.DuplicateOrderId):
        return True
    text = str(exc).lower()
    return isinstance(exc, ccxt.ExchangeError) and "duplicate" in text


def translate(exc: BaseException, what: str, *, sent: bool, redact: Redactor) -> ExecutionError:
    """The tradehook error for a failure of `what` (e.g. "buy 0.1 BTC/USDT on binance").

    `sent` says whether the request may have placed an order: a network failure then leaves the
    outcome unknown instead of being safe to retry.
    """
    detail = redact(f"{type(exc).__name__}: {exc}") if str(exc) else type(exc).__name__
    message = f"{what}: {detail}"
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientFunds(message)
    if isinstance(exc, ccxt.BadSymbol):
        return UnknownSymbol(message)
    if isinstance(exc, ccxt.AuthenticationError):
        return OrderRejected(f"{what}: the exchange refused the API credentials ({detail})")
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimited(message)
    if isinstance(exc, ccxt.OnMaintenance | ccxt.InvalidNonce):
        return TemporaryError(message)
    unmapped = type(exc) is ccxt.ExchangeError
    if isinstance(exc, ccxt.ExchangeError) and not _from_transport(exc):
        if unmapped and sent:
            return OutcomeUnknown(
                f"{message}; the exchange answered with an error ccxt does not know, so the "
                "order may have been placed"
            )
        return OrderRejected(message)
    if sent:
        return OutcomeUnknown(f"{message}; the order may have reached the exchange")
    return TemporaryError(message)


def server_failures_are_unknown(exchange: Any) -> None:
    """Make every HTTP 5xx answer an `ExchangeNotAvailable` (a network failure: unknown after a
    send), even where the body's code maps to a refusal in ccxt's exchange class.

    https://developers.binance.com/docs/binance-spot-api-docs/rest-api/http-return-codes:
    "HTTP 5XX return codes are used for internal errors ... the execution status is UNKNOWN
    and could have been a success"."""
    handle_errors = exchange.handle_errors

    def handle(code: int, reason: str, url: str, method: str, *rest: Any) -> Any:
        try:
            return handle_errors(code, reason, url, method, *rest)
        except ccxt.ExchangeError as exc:
            if isinstance(code, int) and code >= 500:
                raise ccxt.ExchangeNotAvailable(f"HTTP {code}: {exc}") from exc
            raise

    exchange.handle_errors = handle


@contextmanager
def translated(what: str, *, sent: bool, redact: Redactor, exchange: Any) -> Iterator[None]:
    """Raise what `translate` makes of a failure inside the block, ``from`` the original.

    Our own errors pass unchanged. A rate limit carries the exchange's Retry-After, read from
    its last answer."""
    try:
        yield
    except ExecutionError:
        raise
    except Exception as exc:
        error = translate(exc, what, sent=sent, redact=redact)
        if isinstance(error, RateLimited):
            error.retry_after = retry_after(exchange)
        raise error from exc


def retry_after(exchange: Any) -> float | None:
    """The Retry-After header of the exchange's last answer, in seconds."""
    headers = getattr(exchange, "last_response_headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
