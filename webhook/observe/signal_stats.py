"""Signal statistics for a period, from the journal: per source and per plugin.

For each group: signals by status, fills (filled and partially filled), rejections by reason (the
rule that refused, as the journal words it), and the time from the alert's arrival to its fill
being journaled, as p50 and p99 in milliseconds (nearest rank).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from webhook.journal import SignalRecord, SignalStatus

FILLED = (SignalStatus.FILLED, SignalStatus.PARTIALLY_FILLED)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of `values` (`share` in 0..1); None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


class _Group:
    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.rejections: Counter[str] = Counter()
        self.fill_ms: list[float] = []

    def add(self, record: SignalRecord) -> None:
        self.statuses[record.status.value] += 1
        if record.status is SignalStatus.REJECTED:
            self.rejections[record.reason or "unstated"] += 1
        if record.status in FILLED:
            self.fill_ms.append(max(record.updated_at - record.received_at, 0.0) * 1000)

    def view(self) -> dict[str, Any]:
        return {
            "signals": sum(self.statuses.values()),
            "by_status": dict(sorted(self.statuses.items())),
            "fills": len(self.fill_ms),
            "rejections": dict(self.rejections.most_common()),
            "alert_to_fill_ms": {"p50": percentile(self.fill_ms, 0.5),
                                 "p99": percentile(self.fill_ms, 0.99)},
        }


def signal_stats(records: Iterable[SignalRecord]) -> dict[str, Any]:
    """`{"signals": N, "sources": {name: group}, "plugins": {name: group}}`."""
    sources: defaultdict[str, _Group] = defaultdict(_Group)
    plugins: defaultdict[str, _Group] = defaultdict(_Group)
    count = 0
    for record in records:
        count += 1
        sources[record.source].add(record)
        if record.plugin:
            plugins[record.plugin].add(record)
    return {"signals": count,
            "sources": {name: group.view() for name, group in sorted(sources.items())},
            "plugins": {name: group.view() for name, group in sorted(plugins.items())}}
