"""What every dialect produces, and the helpers they share."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from plugins.orders import Order, OrderAction
from webhook.decide.exit_distances import ExitDistances
from webhook.decide.quantities import PendingEntry, QuantityUnit, RelativeBracket
from webhook.errors import PayloadError

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


class ParsedSignal(BaseModel):
    """An alert turned into an order, with what the alert said about routing and identity."""

    model_config = ConfigDict(frozen=True)

    order: Order
    dialect: str
    plugin: str | None = None
    idempotency_key: str | None = None
    passphrase: str | None = None
    quantity_unit: QuantityUnit | None = None
    """The unit the alert gave its quantity in; None: the source's `sizing.unit`."""
    default_quantity: bool = False
    """The alert had no quantity and the source's `sizing.quantity` was used."""
    bracket: RelativeBracket | None = None
    """Stop-loss / take-profit distances still to be measured from the broker's price."""
    pending_entry: PendingEntry | None = None
    """A pending entry still to be measured from the market: the order is a market order until
    then (`webhook.decide.protective_prices` places it)."""
    exit_distances: ExitDistances | None = None
    """Managed exits the alert gave in pips, to become the order's `exits` once the broker's pip
    size is known (`webhook.decide.protective_prices`)."""
    price_fields: dict[str, str] = Field(default_factory=dict)
    """The alert's names for the order's price fields (`stop_loss` -> `sl`), for messages."""
    test: bool = False
    """A test alert: checked and stored, never executed."""
    accounts: tuple[str, ...] | None = None
    """The accounts (plugins or account groups) the alert names for its order."""
    expected_position: float | None = None
    """The net position the alert says the account held before its order (TradingView's
    previous market position and size), to check against the broker's."""
    resulting_position: float | None = None
    """The net position the alert says its order leaves, for `on_position_mismatch = "resync"`."""


def account_names(field: str, value: Any) -> tuple[str, ...] | None:
    """An alert's `accounts`: a list of names, or one text of names separated by commas."""
    if value is None or value == "":
        return None
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise PayloadError(field, "expected a list of account names, or names separated by "
                           "commas")
    names = tuple(dict.fromkeys(to_text(field, item, limit=64) for item in items))
    if any(not name for name in names):
        raise PayloadError(field, "holds an empty account name")
    return names


def exits_object(field: str, value: Any) -> dict[str, Any] | None:
    """An alert's `exits` as the order model has them (`trailing_stop`, `break_even`,
    `take_profits`), with any placeholder TradingView left unfilled refused by its path."""
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise PayloadError(field, f"expected an object such as {{\"trailing_stop\": "
                           f"{{\"percent\": 1.5}}}}, got {type(value).__name__}")
    _check_nested_placeholders(field, value)
    return value


def _check_nested_placeholders(field: str, value: Any) -> None:
    if isinstance(value, str):
        check_placeholders(field, value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_nested_placeholders(f"{field}.{key}", item)
    elif isinstance(value, list):
        for number, item in enumerate(value):
            _check_nested_placeholders(f"{field}.{number}", item)


def check_placeholders(field: str, value: str) -> None:
    """Refuse a TradingView placeholder that was sent as written, e.g. a literal `{{ticker}}`."""
    if "{{" not in value:  # what the pattern starts with: a tenth of its search's time
        return
    match = _PLACEHOLDER.search(value)
    if match:
        raise PayloadError(
            field,
            f"TradingView did not fill in the placeholder {{{{{match.group(1)}}}}}: placeholders "
            "work only where TradingView supports them (strategy placeholders need a strategy "
            "alert, not an indicator alert)",
        )


def to_number(field: str, value: Any) -> float:
    """A number from JSON or text; TradingView sends numbers as strings."""
    if isinstance(value, bool):
        raise PayloadError(field, f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace("_", ""))
        except ValueError:
            raise PayloadError(field, f"expected a number, got {value[:40]!r}") from None
    else:
        raise PayloadError(field, f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise PayloadError(field, f"expected a finite number, got {value!r}")
    return number


def to_text(field: str, value: Any, *, limit: int = 256) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise PayloadError(field, f"expected text, got {type(value).__name__}")
    if len(value) > limit:
        raise PayloadError(field, f"longer than {limit} characters")
    return value.strip()


MILLISECONDS_FROM = 1e11
"""A unix time above this is in milliseconds (1e11 seconds is the year 5138)."""


def to_alert_time(field: str, value: Any) -> float:
    """The time an alert says it was made, in unix seconds: ISO 8601 as TradingView's
    `{{timenow}}` gives it (`2026-12-01T09:30:00Z`), or unix seconds or milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = to_text(field, value, limit=64)
        try:
            number = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise PayloadError(field, f"expected a time such as 2026-12-01T09:30:00Z or "
                                   f"unix seconds, got {text!r}") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)  # TradingView's times are UTC
            return moment.timestamp()
    if not math.isfinite(number) or number <= 0:
        raise PayloadError(field, f"expected a time after 1970, got {value!r}")
    return number / 1000 if number > MILLISECONDS_FROM else number


def build_order(
    fields: dict[str, Any],
    *,
    renamed: dict[str, str] | None = None,
    default_quantity: float | None = None,
) -> Order:
    """Validate order fields, turning pydantic's errors into one `PayloadError` that names the
    field as the sender wrote it (`renamed` maps order fields back to the alert's names).
    `default_quantity` fills in the quantity of an opening order that has none."""
    if default_quantity is not None and needs_default_quantity(fields):
        fields = {**fields, "quantity": default_quantity}
    try:
        return Order.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        ctx = error.get("ctx") or {}
        field = str(ctx["field"]) if "field" in ctx else ".".join(str(p) for p in error["loc"])
        field = (renamed or {}).get(field, field) or "body"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        raise PayloadError(field, message) from exc


def needs_default_quantity(fields: dict[str, Any]) -> bool:
    action = fields.get("action", OrderAction.OPEN.value)
    return fields.get("quantity") is None and action == OrderAction.OPEN.value
