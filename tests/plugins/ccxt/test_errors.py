"""ccxt's exception classes map onto tradehook's error tree."""

from __future__ import annotations

from types import SimpleNamespace

import ccxt.async_support as ccxt
import pytest

from plugins.ccxt.errors import exchange_redactor, is_duplicate_client_id, translate, translated
from plugins.errors import (
    ExecutionError,
    InsufficientFunds,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    TemporaryError,
    UnknownSymbol,
)

WHAT = "buy 0.1 BTC/USDT on binance"


def translation(exc: Exception, *, sent: bool = True) -> ExecutionError:
    return translate(exc, WHAT, sent=sent, redact=exchange_redactor())


@pytest.mark.parametrize(
    ("vendor", "ours"),
    [
        (ccxt.InsufficientFunds, InsufficientFunds),
        (ccxt.BadSymbol, UnknownSymbol),
        (ccxt.InvalidOrder, OrderRejected),
        (ccxt.OrderNotFound, OrderRejected),
        (ccxt.AuthenticationError, OrderRejected),
        (ccxt.PermissionDenied, OrderRejected),
        (ccxt.BadRequest, OrderRejected),
        (ccxt.NotSupported, OrderRejected),
    ],
)
def test_refusals_are_final(vendor: type[Exception], ours: type[ExecutionError]) -> None:
    error = translation(vendor("binance says no"), sent=True)

    assert type(error) is ours
    assert str(error).startswith(WHAT)


@pytest.mark.parametrize("vendor", [ccxt.RateLimitExceeded, ccxt.DDoSProtection])
def test_rate_limits_are_retryable_even_after_sending(vendor: type[Exception]) -> None:
    assert type(translation(vendor("429"), sent=True)) is RateLimited


@pytest.mark.parametrize("vendor", [ccxt.OnMaintenance, ccxt.InvalidNonce])
def test_explicit_refusals_to_process_now_are_retryable(vendor: type[Exception]) -> None:
    assert type(translation(vendor("later"), sent=True)) is TemporaryError


@pytest.mark.parametrize(
    "vendor",
    [
        ccxt.RequestTimeout,
        ccxt.ExchangeNotAvailable,
        ccxt.NetworkError,
        ccxt.OperationFailed,
        ccxt.BadResponse,
        OSError,
    ],
)
def test_network_failures_after_sending_leave_the_outcome_unknown(vendor: type[Exception]) -> None:
    assert type(translation(vendor("timed out"), sent=True)) is OutcomeUnknown
    assert type(translation(vendor("timed out"), sent=False)) is TemporaryError


def test_an_error_ccxt_does_not_map_after_sending_leaves_the_outcome_unknown() -> None:
    error = translation(ccxt.ExchangeError("binance {\"code\":-9999}"), sent=True)

    assert type(error) is OutcomeUnknown


def test_an_error_ccxt_does_not_map_for_a_request_that_places_nothing_is_final() -> None:
    error = translation(ccxt.ExchangeError("binance {\"code\":-9999}"), sent=False)

    assert type(error) is OrderRejected


def test_duplicate_client_ids_are_recognised() -> None:
    assert is_duplicate_client_id(ccxt.DuplicateOrderId("dup"))
    assert is_duplicate_client_id(
        ccxt.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}')
    )
    assert is_duplicate_client_id(
        ccxt.InvalidOrder('okx {"sCode":"51016","sMsg":"Duplicated clOrdId"}')
    )
    assert not is_duplicate_client_id(ccxt.InvalidOrder("Filter failure: LOT_SIZE"))
    assert not is_duplicate_client_id(ccxt.RequestTimeout("duplicate?"))


def test_secrets_and_signatures_are_redacted() -> None:
    redact = exchange_redactor(["my-api-key-123", "s3cr3t-value"])

    text = redact("GET /api?apiKey=my-api-key-123&signature=abcdef0123 failed: s3cr3t-value")

    assert text == "GET /api?apiKey=***&signature=*** failed: ***"


def test_an_exchange_error_raised_by_the_http_client_is_a_network_failure() -> None:
    try:
        try:
            raise ConnectionResetError("answer cut off")
        except ConnectionResetError as cause:
            raise ccxt.ExchangeError("binance POST /api/v3/order") from cause
    except ccxt.ExchangeError as exc:
        assert type(translation(exc, sent=True)) is OutcomeUnknown


def test_url_encoded_secrets_are_redacted_too() -> None:
    redact = exchange_redactor(["pass/phrase+1"])

    assert redact("passphrase=pass%2Fphrase%2B1 or pass/phrase+1") == "passphrase=*** or ***"


def test_a_failure_inside_translated_is_raised_as_ours_from_the_original() -> None:
    exchange = SimpleNamespace(last_response_headers={"Retry-After": "2"})
    vendor = ccxt.RateLimitExceeded("429 my-api-key-123")
    with pytest.raises(RateLimited) as raised:
        with translated(WHAT, sent=True, redact=exchange_redactor(["my-api-key-123"]),
                        exchange=exchange):  # fmt: skip
            raise vendor
    assert str(raised.value) == f"{WHAT}: RateLimitExceeded: 429 ***"
    assert raised.value.retry_after == 2.0
    assert raised.value.__cause__ is vendor


def test_our_own_errors_pass_through_translated_unchanged() -> None:
    ours = OutcomeUnknown("already ours")
    with pytest.raises(OutcomeUnknown) as raised:
        with translated(WHAT, sent=False, redact=exchange_redactor(), exchange=None):
            raise ours
    assert raised.value is ours
