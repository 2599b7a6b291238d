"""The journal read for statistics: a period's signals counted in the database, and its fills.

Statistics over a busy period must not cost the signal path: turning 50,000 rows into full
`SignalRecord`s (raw bodies, validated orders and results) takes seconds of CPU. So the
database counts the signals by source, plugin, status and rejection reason, and only the
filled ones come back, as plain rows of the few values a fill needs, taken out of the stored
order and result JSON by the database itself. Both are bounded by the period on the primary key
(ids sort by arrival), and the fills by a limit, newest first.
"""

from __future__ import annotations

from typing import NamedTuple

from webhook.journal.ids import first_id_at


class PeriodCount(NamedTuple):
    source: str
    plugin: str | None
    status: str
    reason: str | None
    """Only for rejected signals (the rule that refused); None for the others."""
    signals: int


class FillRow(NamedTuple):
    """A filled signal: the values of its order and result that make a fill."""

    id: str
    received_at: float
    updated_at: float
    source: str
    plugin: str | None
    symbol: str | None
    side: str | None
    action: str | None
    order_type: str | None
    price: float | None
    stop_price: float | None
    filled_quantity: float | None
    average_price: float | None
    fee: float | None
    price_tick: float | None


_ORDER_FIELDS = ("side", "action", "order_type", "price", "stop_price")
_RESULT_FIELDS = ("filled_quantity", "average_price", "fee", "price_tick")
_TEXT_FIELDS = frozenset({"side", "action", "order_type"})


def id_bounds(since: float | None, until: float | None) -> tuple[str, str]:
    """The ids at or above the first and below the second are the period's."""
    return first_id_at(since or 0), "~" if until is None else first_id_at(until)


def count_query(placeholder: str) -> str:
    rejection = "CASE WHEN status = 'rejected' THEN reason END"
    return (
        f"SELECT source, plugin, status, {rejection}, COUNT(*) FROM signals "  # noqa: S608
        f"WHERE id >= {placeholder} AND id < {placeholder} "
        f"GROUP BY source, plugin, status, {rejection}"
    )


def fills_query(placeholder: str) -> str:
    """Newest first; the (status, id) index serves it. `?` is SQLite's JSON, `%s` PostgreSQL's."""
    if placeholder == "?":
        values = [f"json_extract(order_json, '$.{name}')" for name in _ORDER_FIELDS]
        values += [f"json_extract(result_json, '$.{name}')" for name in _RESULT_FIELDS]
    else:
        values = [f"(order_json::jsonb ->> '{name}')" if name in _TEXT_FIELDS
                  else f"(order_json::jsonb ->> '{name}')::float8" for name in _ORDER_FIELDS]
        values += [f"(result_json::jsonb ->> '{name}')::float8" for name in _RESULT_FIELDS]
    return (
        f"SELECT id, received_at, updated_at, source, plugin, symbol, {', '.join(values)} "  # noqa: S608
        f"FROM signals WHERE status IN ('filled', 'partially_filled') AND id >= {placeholder} "
        f"AND id < {placeholder} ORDER BY id DESC LIMIT {placeholder}"
    )
