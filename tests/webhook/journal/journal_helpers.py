"""Building journal rows for tests."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from plugins.orders import Order
from tests.webhook.journal.postgres_helpers import connect
from webhook.journal import NewSignal, SignalStatus
from webhook.journal.ids import new_signal_id


def queued_signal(
    symbol: str = "BTC/USDT",
    *,
    key: str | None = None,
    plugin: str = "paper",
    source: str = "signed",
    status: SignalStatus = SignalStatus.QUEUED,
    approval_deadline: float | None = None,
) -> NewSignal:
    signal_id = new_signal_id()
    order = Order.model_validate(
        {"symbol": symbol, "side": "buy", "quantity": 1, "client_order_id": signal_id}
    )
    return NewSignal(
        id=signal_id, received_at=time.time(), source=source, dialect="native",
        idempotency_key=key, content_type="application/json",
        raw_body=order.model_dump_json().encode(), order=order, plugin=plugin, status=status,
        approval_deadline=approval_deadline,
    )


def execute_beside(journal_url: str, statement: str, params: tuple[Any, ...]) -> None:
    """Run `statement` (placeholders written `?`) on a connection of its own beside the
    journal's, as a second process sharing the journal would, on either back end."""
    if journal_url.startswith("sqlite:///"):
        with sqlite3.connect(journal_url.removeprefix("sqlite:///")) as other:
            other.execute(statement, params)
        return
    with connect(journal_url) as other:
        other.execute(statement.replace("?", "%s"), params)
