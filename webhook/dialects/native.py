"""The native dialect: a JSON object with the `Order` fields, for agents and scripts.

    {"symbol": "BTC/USDT", "side": "buy", "order_type": "limit", "quantity": 0.1,
     "price": 67500, "stop_loss": 66000, "take_profit": 70000, "confidence": 0.75}

plus optional `action` (`target` with `target_position`: the net position wanted), `exits` (of
an entry: how its position is brought out, as `plugins.orders.ManagedExits` has it, distances
in price units), `plugin`,
`accounts` (a list of accounts to fan the order out to), `expected_position` (the net position
the sender believes the account holds before this order), `id` (the idempotency key when there
is no `webhook-id`), `comment`, `passphrase`, `time_in_force` and `quantity_unit` (units,
quote, percent_of_equity, percent_of_position, risk_amount, risk_percent; default: the
source's `sizing.unit`).
Unknown fields are refused, so a typo does not pass silently.
"""

from __future__ import annotations

from typing import Any

from webhook.decide.quantities import parse_quantity_unit
from webhook.dialects.signal import (
    ParsedSignal,
    account_names,
    build_order,
    check_placeholders,
    exits_object,
    needs_default_quantity,
    to_number,
    to_text,
)
from webhook.errors import PayloadError

ORDER_FIELDS = frozenset(
    {
        "symbol", "side", "order_type", "quantity", "price", "stop_price", "stop_loss",
        "take_profit", "confidence", "action", "comment", "time_in_force", "target_position",
        "exits",
    }
)
SIDE_WORDS = {"long": "buy", "short": "sell"}
SIGNAL_FIELDS = frozenset(
    {"plugin", "id", "passphrase", "quantity_unit", "accounts", "expected_position"}
)
FIELDS = ORDER_FIELDS | SIGNAL_FIELDS


def looks_native(payload: dict[str, Any]) -> bool:
    return "symbol" in payload and set(payload) <= FIELDS


def parse_native(
    payload: dict[str, Any], *, default_quantity: float | None = None
) -> ParsedSignal:
    for key, value in payload.items():
        if isinstance(value, str):
            check_placeholders(key, value)
    unknown = sorted(set(payload) - FIELDS)
    if unknown:
        raise PayloadError(unknown[0], "unknown field")
    fields = {k: v for k, v in payload.items() if k in ORDER_FIELDS and v is not None}
    for key in ("side", "order_type", "action", "time_in_force"):
        if isinstance(fields.get(key), str):
            fields[key] = fields[key].strip().lower()
    if "exits" in fields:
        fields["exits"] = exits_object("exits", fields["exits"])
    side = fields.get("side")
    if isinstance(side, str) and side in SIDE_WORDS:
        fields["side"] = SIDE_WORDS[side]
    unit = payload.get("quantity_unit")
    order = build_order(fields, default_quantity=default_quantity)
    return ParsedSignal(
        order=order,
        dialect="native",
        plugin=_optional_text(payload, "plugin"),
        idempotency_key=_optional_text(payload, "id"),
        passphrase=_optional_text(payload, "passphrase"),
        quantity_unit=None if unit is None else parse_quantity_unit("quantity_unit", unit),
        default_quantity=default_quantity is not None and needs_default_quantity(fields),
        accounts=account_names("accounts", payload.get("accounts")),
        expected_position=_optional_number(payload, "expected_position"),
    )


def _optional_number(payload: dict[str, Any], key: str) -> float | None:
    value = payload.get(key)
    return None if value is None else to_number(key, value)


def _optional_text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    text = to_text(key, value)
    if not text:
        raise PayloadError(key, "is empty")
    return text
