"""Client order ids derived from signal ids, fitted to each exchange's rules."""

from __future__ import annotations

import pytest

from plugins.ccxt.client_ids import DEFAULT_RULE, derive_client_order_id, rule_for

ULID = "01JDQ3F6Z8X2K9M4N7P5R0S1T2"


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx", "kucoin", "gate", "bitget"])
def test_a_signal_id_is_the_client_order_id_where_it_fits(exchange: str) -> None:
    assert derive_client_order_id(ULID, rule_for(exchange)) == ULID


def test_orders_after_the_entry_add_a_suffix() -> None:
    assert derive_client_order_id(ULID, rule_for("okx"), "sl") == f"{ULID}sl"


@pytest.mark.parametrize(
    ("exchange", "signal_id"),
    [("kraken", ULID), ("okx", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"), ("binance", "x" * 40)],
)
def test_an_id_that_does_not_fit_is_replaced_by_a_stable_hash(
    exchange: str, signal_id: str
) -> None:
    rule = rule_for(exchange)

    derived = derive_client_order_id(signal_id, rule)

    assert derived != signal_id
    assert len(derived) <= rule.max_length and rule.allowed.fullmatch(derived)
    assert derived == derive_client_order_id(signal_id, rule)
    assert derived != derive_client_order_id(signal_id + "x", rule)


def test_unlisted_exchanges_get_letters_and_digits() -> None:
    assert rule_for("someexchange") is DEFAULT_RULE
    assert derive_client_order_id(ULID, DEFAULT_RULE) == ULID
