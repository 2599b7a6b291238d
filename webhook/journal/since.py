"""`since` and `until`: the bounds of a period of the journal, as a person writes them, and the
period's signals.

Either a time ago (`90m`, `24h`, `7d`) or an ISO 8601 date or date and time (`2026-11-30`,
`2026-11-30T08:00`, `2026-11-30T08:00:00+01:00`); a time without a zone is UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from webhook.journal.ids import first_id_at

if TYPE_CHECKING:
    from webhook.journal.base import SignalJournal
    from webhook.journal.records import SignalRecord

_AGO = re.compile(r"(\d{1,6})([mhd])")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86_400}


def parse_since(text: str, now: float) -> float:
    """The moment `text` names, as a Unix time; `ValueError` saying what is accepted."""
    written = text.strip()
    if match := _AGO.fullmatch(written):
        return now - int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    try:
        moment = datetime.fromisoformat(written)
    except ValueError:
        raise ValueError(
            f"expected a time ago (90m, 24h, 7d) or an ISO 8601 date or time, got {written!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


async def stored_since(
    journal: SignalJournal, since: float | None, *, limit: int, page: int = 500,
    until: float | None = None,
) -> list[SignalRecord]:
    """Up to `limit` stored signals received at or after `since` and before `until`, oldest
    first (the newest of the period when there are more). Reads walk the primary key down from
    `until`, so a short period of a big journal reads only that period."""
    found: list[SignalRecord] = []
    before = None if until is None else first_id_at(until)
    while len(found) < limit:
        batch = await journal.list_signals(limit=min(page, limit - len(found)), before=before)
        fresh = [r for r in batch if since is None or r.received_at >= since]
        found.extend(r for r in fresh if until is None or r.received_at < until)
        if len(batch) < page or len(fresh) < len(batch):
            break
        before = batch[-1].id
    found.reverse()
    return found
