"""The journal's signals as `tradehook signals` prints them: a table of the newest."""

from __future__ import annotations

from datetime import UTC, datetime

from webhook.journal import SignalRecord, SignalStatus, open_journal


def signal_row(record: SignalRecord) -> tuple[str, ...]:
    order = record.order
    what = ""
    if order is not None:
        parts = (order.action.value, order.side, order.quantity, order.symbol)
        what = " ".join(f"{p:g}" if isinstance(p, float) else str(p) for p in parts if p)
    when = datetime.fromtimestamp(record.received_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
    detail = record.error or record.reason or (record.result.order_id if record.result else "")
    if record.status is SignalStatus.AWAITING_APPROVAL and record.approval_deadline:
        until = datetime.fromtimestamp(record.approval_deadline, UTC).strftime("%H:%M:%S")
        detail = f"approve by {until} UTC or it expires"
    return (record.id, when, record.source, record.status.value, what, record.plugin or "",
            (detail or "")[:60])


async def read_signals(
    journal_url: str, status: SignalStatus | None, limit: int
) -> list[SignalRecord]:
    journal = open_journal(journal_url)
    await journal.open()
    try:
        return await journal.list_signals(status=status, limit=limit)
    finally:
        await journal.close()


def signal_table(records: list[SignalRecord]) -> list[str]:
    """The lines of the table, a header first, each column as wide as its widest cell."""
    rows: list[tuple[str, ...]] = [
        ("ID", "RECEIVED (UTC)", "SOURCE", "STATUS", "ORDER", "PLUGIN", "DETAIL")
    ]
    rows += [signal_row(record) for record in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in rows]
