"""`tradehook replay`: the journal's signals under a changed configuration, as a table.

Opens the journal the new settings name, starts their plugins (for routing and for sizing with
the broker's price and balance; no order is sent), replays the signals since `--since` and
prints each signal whose decision, plugin or quantity would differ, then the totals.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import TextIO

from plugins.loader import start_plugin, validate_plugin_config
from plugins.registry import PluginRegistry
from webhook.config.settings import Settings
from webhook.decide.replay import Decision, ReplayReport, SignalReplay
from webhook.journal import open_journal
from webhook.journal.since import stored_since

PROGRESS_EVERY = 100
"""Signals between two progress lines on a terminal."""


async def replay_journal(
    settings: Settings, since: float | None, *, limit: int,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    async with AsyncExitStack() as stack:
        journal = open_journal(settings.journal)
        await journal.open()
        stack.push_async_callback(journal.close)
        records = await stored_since(journal, since, limit=limit)
        registry = PluginRegistry()
        stack.push_async_callback(registry.close_all)
        for name, plugin in settings.plugins.items():
            config = validate_plugin_config(plugin.type, plugin.options)
            started = await start_plugin(name, plugin.type, config)
            registry.register(started, default=name == settings.default_plugin)
        total = len(records)
        told = None if progress is None else (lambda done: progress(done, total))
        return await SignalReplay(settings, registry, journal).replay(records, told)


def terminal_progress(stream: TextIO) -> Callable[[int, int], None]:
    """A bar on `stream` redrawn in place every PROGRESS_EVERY signals and at the end."""

    def show(done: int, total: int) -> None:
        if done % PROGRESS_EVERY and done != total:
            return
        filled = 30 * done // max(total, 1)
        end = "\n" if done == total else ""
        stream.write(f"\rreplaying [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}{end}")
        stream.flush()

    return show


def report_lines(report: ReplayReport) -> list[str]:
    rows: list[tuple[str, ...]] = [("ID", "RECEIVED (UTC)", "SOURCE", "THEN", "NOW", "WHY NOW")]
    rows += [(s.signal_id, _when(s.received_at), s.source, _shown(s.then), _shown(s.now),
              (s.now.why or "")[:60]) for s in report.changed]
    lines = _table(rows) if report.changed else ["no decision would differ"]
    lines.append("")
    totals: list[tuple[str, ...]] = [("DECISION", "THEN", "NOW", "CHANGE")]
    totals += [(status, str(then), str(now), f"{now - then:+d}")
               for status, (then, now) in report.totals().items()]
    totals.append(("all", str(len(report.signals)), str(len(report.signals)),
                   f"{len(report.changed)} differ"))
    return [*lines, *_table(totals)]


def _shown(decision: Decision) -> str:
    parts = [decision.status]
    if decision.quantity is not None:
        parts.append(f"{decision.quantity:g}")
    if decision.plugin:
        parts.append(f"via {decision.plugin}")
    return " ".join(parts)


def _when(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]
