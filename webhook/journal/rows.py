"""What both journal back ends share: the signal columns, rows turned back into records, and
the filters of the journal listing."""

from __future__ import annotations

from typing import Any

from plugins.orders import ExecutionResult, Order
from webhook.journal.records import Attempt, SignalRecord, SignalStatus

COLUMNS = (
    "id, received_at, updated_at, source, dialect, idempotency_key, content_type, raw_body, "
    "plugin, order_json, status, reason, error, result_json, sizing, approval_deadline, "
    "approved_at"
)


def listing_filters(
    placeholder: str,
    *,
    status: SignalStatus | None,
    source: str | None,
    symbol: str | None,
    before: str | None,
) -> tuple[list[str], list[str]]:
    """The WHERE conditions (written with the driver's `placeholder`) and their values."""
    conditions, params = ["1 = 1"], []
    for column, value in (("status", status), ("source", source), ("symbol", symbol)):
        if value is not None:
            conditions.append(f"{column} = {placeholder}")
            params.append(str(value))
    if before is not None:
        conditions.append(f"id < {placeholder}")
        params.append(before)
    return conditions, params


def result_from(text: str | None) -> ExecutionResult | None:
    return ExecutionResult.model_validate_json(text) if text else None


def record_from(row: tuple[Any, ...], attempts: list[Attempt]) -> SignalRecord:
    (id_, received, updated, source, dialect, key, content_type, raw, plugin, order_json,
     status, reason, error, result_json, sizing, approval_deadline, approved_at) = row
    return SignalRecord(
        id=id_, received_at=received, updated_at=updated, source=source, dialect=dialect,
        idempotency_key=key, content_type=content_type, raw_body=bytes(raw), plugin=plugin,
        order=Order.model_validate_json(order_json) if order_json else None,
        status=SignalStatus(status), reason=reason, error=error, sizing=sizing,
        result=result_from(result_json), attempts=attempts,
        approval_deadline=approval_deadline, approved_at=approved_at,
    )
