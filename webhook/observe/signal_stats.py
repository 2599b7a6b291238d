"""Signal statistics for a period, from the journal: per source and per plugin.

For each group: signals by status, fills (filled and partially filled), rejections by reason (the
rule that refused, as the journal words it), realised P&L (FIFO, see `webhook.observe.fills`),
fees, slippage against the alert's price, and the time from the alert's arrival to its fill being
journaled, as p50 and p99 in milliseconds (nearest rank). For the charts: the newest fills, the
cumulative realised P&L after each fill that realised any, and a histogram of alert-to-fill times.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable

from pydantic import BaseModel

from webhook.journal import SignalStatus
from webhook.journal.period import FillRow, PeriodCount
from webhook.observe.fills import FifoBook, Fill, OpenLots, fills_of

FILLS_SHOWN = 1_000
"""Newest fills listed in one answer (for the price chart); the figures count them all."""
CURVE_POINTS = 2_000
"""Points of the P&L curve at most; a longer one keeps every n-th point and the last."""
LATENCY_BINS_MS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of `values` (`share` in 0..1); None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


class Percentiles(BaseModel):
    p50: float | None
    p99: float | None

    @classmethod
    def of(cls, values: list[float]) -> Percentiles:
        return cls(p50=percentile(values, 0.5), p99=percentile(values, 0.99))


class Slippage(Percentiles):
    mean: float | None

    @classmethod
    def of(cls, values: list[float]) -> Slippage:
        mean = sum(values) / len(values) if values else None
        return cls(p50=percentile(values, 0.5), p99=percentile(values, 0.99), mean=mean)


class GroupStats(BaseModel):
    signals: int
    by_status: dict[str, int]
    fills: int
    rejections: dict[str, int]
    alert_to_fill_ms: Percentiles
    realised_pnl: float
    """FIFO, before fees, in the quote currency (summed over symbols as plain numbers)."""
    fees: float
    net_pnl: float
    slippage_bps: Slippage
    """Positive: worse than the alert's price."""
    slippage_ticks: Slippage
    """Over the fills whose plugin reported the market's tick."""


class PnlPoint(BaseModel):
    time: float
    pnl: float
    """Cumulative realised P&L less fees, over every plugin and symbol, after this fill."""


class LatencyBin(BaseModel):
    from_ms: float
    to_ms: float | None
    """None: the last bin, without an upper bound."""
    count: int


class SignalStats(BaseModel):
    since: float | None
    until: float | None
    signals: int
    truncated: bool
    """The period held more signals than one answer reads: only the newest were counted."""
    sources: dict[str, GroupStats]
    plugins: dict[str, GroupStats]
    fills: list[Fill]
    open_lots: list[OpenLots]
    pnl_curve: list[PnlPoint]
    latency_histogram: list[LatencyBin]


class _Group:
    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.rejections: Counter[str] = Counter()
        self.fills: list[Fill] = []

    def add(self, count: PeriodCount) -> None:
        self.statuses[count.status] += count.signals
        if count.status == SignalStatus.REJECTED.value:
            self.rejections[count.reason or "unstated"] += count.signals

    def view(self) -> GroupStats:
        realised = sum(fill.realised_pnl for fill in self.fills)
        fees = sum(fill.fee or 0.0 for fill in self.fills)
        return GroupStats(
            signals=sum(self.statuses.values()),
            by_status=dict(sorted(self.statuses.items())),
            fills=len(self.fills),
            rejections=dict(self.rejections.most_common()),
            alert_to_fill_ms=Percentiles.of([fill.alert_to_fill_ms for fill in self.fills]),
            realised_pnl=realised, fees=fees, net_pnl=realised - fees,
            slippage_bps=Slippage.of([f.slippage_bps for f in self.fills
                                      if f.slippage_bps is not None]),
            slippage_ticks=Slippage.of([f.slippage_ticks for f in self.fills
                                        if f.slippage_ticks is not None]),
        )


def latency_histogram(values: Iterable[float]) -> list[LatencyBin]:
    counts = [0] * len(LATENCY_BINS_MS)
    for value in values:
        counts[bisect_right(LATENCY_BINS_MS, value) - 1] += 1
    uppers: list[float | None] = [*LATENCY_BINS_MS[1:], None]
    return [LatencyBin(from_ms=low, to_ms=high, count=count)
            for low, high, count in zip(LATENCY_BINS_MS, uppers, counts, strict=True)]


def _thinned(curve: list[tuple[float, float]]) -> list[PnlPoint]:
    kept = curve
    if len(curve) > CURVE_POINTS:
        kept = curve[::math.ceil(len(curve) / CURVE_POINTS)]
        if kept[-1] is not curve[-1]:
            kept.append(curve[-1])
    return [PnlPoint(time=time, pnl=pnl) for time, pnl in kept]


def signal_stats(counts: Iterable[PeriodCount], fill_rows: list[FillRow], *,
                 since: float | None = None, until: float | None = None,
                 truncated: bool = False) -> SignalStats:
    """The period's figures from the journal's `counts` and its `fill_rows`, oldest first."""
    sources: defaultdict[str, _Group] = defaultdict(_Group)
    plugins: defaultdict[str, _Group] = defaultdict(_Group)
    total_signals = 0
    for count in counts:
        total_signals += count.signals
        sources[count.source].add(count)
        if count.plugin:
            plugins[count.plugin].add(count)
    book = FifoBook()
    fills = list(fills_of(fill_rows, book))
    curve: list[tuple[float, float]] = []
    total = 0.0
    for fill in fills:
        sources[fill.source].fills.append(fill)
        plugins[fill.plugin].fills.append(fill)
        if fill.realised_pnl or fill.fee:
            total += fill.realised_pnl - (fill.fee or 0.0)
            curve.append((fill.time, total))
    return SignalStats(
        since=since, until=until, signals=total_signals, truncated=truncated,
        sources={name: group.view() for name, group in sorted(sources.items())},
        plugins={name: group.view() for name, group in sorted(plugins.items())},
        fills=fills[-FILLS_SHOWN:],
        open_lots=book.open_lots(), pnl_curve=_thinned(curve),
        latency_histogram=latency_histogram(fill.alert_to_fill_ms for fill in fills),
    )
