"""The policy: what happens to a routed signal, decided before it is stored and answered.

In order: the confidence threshold (`filtered`), the kill switch, then for the source's and the
plugin's risk tables the trading hours and allowed symbols, the protective prices (placed and
checked against the market: `webhook.decide.protective_prices`, whose `PayloadError` for a price
on the wrong side propagates to the caller as an invalid alert), the sizing (which may ask the
plugin for a price, the equity or the position), the quantity, notional and position limits, and
the signals-per-minute limits; a `test` alert that passed them all is not executed either. Any
refusal is `rejected` with the rule's key and the numbers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, replace

from plugins.orders import Order, OrderAction
from plugins.registry import PluginRegistry
from webhook.config.settings import Settings
from webhook.decide.broker_lookup import BrokerLookup
from webhook.decide.exit_checks import exits_refusal
from webhook.decide.position_sync import check_position
from webhook.decide.protective_prices import RULE as PROTECTIVE_RULE
from webhook.decide.protective_prices import ProtectivePriceSettings, place_protective_prices
from webhook.decide.quantities import QuantityUnit
from webhook.decide.rate_window import RateWindows, Reservation
from webhook.decide.risk import (
    Rejection,
    RiskScope,
    check_hours_and_symbols,
    check_rate,
    check_size,
)
from webhook.decide.sizing import size_order
from webhook.dialects import ParsedSignal
from webhook.errors import FactUnavailable, SizingError
from webhook.execute.kill_switch import KillSwitch
from webhook.journal import SignalStatus


@dataclass(frozen=True)
class PolicyVerdict:
    """The policy's ruling on one routed order, before anything is stored: the status it gets,
    the order as sized, and the rate-limit slots it holds. The pipeline stores it and turns it
    into the `Receipt` the sender is answered with."""

    status: SignalStatus
    order: Order
    reason: str | None = None
    rule: str | None = None
    sizing: str | None = None
    reservation: Reservation | None = None
    """Rate-limit slots this signal took; release them if it is not stored after all."""
    approval_timeout: float | None = None
    """For `awaiting_approval`: the seconds a person has to approve it."""
    position_mismatch: str | None = None
    """The alert expected another position than the broker's (`webhook.decide.position_sync`)."""

    def release(self) -> None:
        if self.reservation is not None:
            self.reservation.release()


class SignalPolicy:
    def __init__(
        self,
        settings: Settings,
        registry: PluginRegistry,
        kill_switch: KillSwitch,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._kill_switch = kill_switch
        self._clock = clock
        self._windows = RateWindows()
        self._position_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._source_risk = {name: source.risk for name, source in settings.sources.items()
                             if not source.risk.empty}
        self._plugin_risk = {name: plugin.risk for name, plugin in settings.plugins.items()
                             if not plugin.risk.empty}
        """The risk tables that limit anything, by source and by plugin: read per signal,
        decided once (the settings do not change while the app runs)."""
        self._limits_positions: dict[tuple[str, str], bool] = {}

    def serialized(
        self, source: str, plugin: str, symbol: str, *, checks_position: bool = False
    ) -> AbstractAsyncContextManager[object]:
        """Hold while deciding, storing and queueing a signal where a position limit applies
        or the alert's expected position is checked, so that two signals cannot both pass by
        not seeing each other."""
        if not (checks_position or self.limits_positions(source, plugin)):
            return nullcontext()
        return self._position_locks.setdefault((plugin, symbol), asyncio.Lock())

    async def decide(
        self,
        parsed: ParsedSignal,
        order: Order,
        source: str,
        plugin: str,
        *,
        queued: Sequence[Order] = (),
    ) -> PolicyVerdict:
        """`order` is the parsed order as routed, with the broker's symbol; `queued` the orders
        already queued for its plugin and symbol (needed only where `limits_positions`).
        Raises `PayloadError` for a protective price that cannot be right."""
        threshold = self._settings.threshold_for(source)
        confidence = order.confidence
        if confidence < threshold:
            short = round(threshold - confidence, 6)
            reason = f"confidence {confidence:g} is below the threshold {threshold:g} by {short:g}"
            return PolicyVerdict(SignalStatus.FILTERED, order, reason=reason)
        if (stopped := self._stopped(order)) is not None:
            return stopped
        if order.action is OrderAction.TARGET and not self._registry.capabilities(plugin).positions:
            reason = (f"positions: plugin {plugin!r} cannot report positions, which a target "
                      "order needs to know what to send")
            return PolicyVerdict(SignalStatus.REJECTED, order, reason=reason, rule="positions")
        now = self._clock()
        scopes = self._scopes(parsed.order.symbol, order.symbol, source, plugin)
        for scope in scopes:
            if (refused := check_hours_and_symbols(scope, now)) is not None:
                return _rejected(order, refused)
        facts = self._facts(plugin, order, queued)
        configured = self._settings.sources.get(source)
        protective = configured.protective_prices if configured else ProtectivePriceSettings()
        try:
            placed = await place_protective_prices(parsed, order, facts, protective,
                                                   source=source)
        except FactUnavailable as exc:
            return _rejected(order, Rejection(PROTECTIVE_RULE, str(exc)))
        order = placed.order
        # After placing: exits given in pips are in price now.
        if order.exits is not None and (
                unmanaged := exits_refusal(order, plugin, self._registry)):
            return PolicyVerdict(SignalStatus.REJECTED, order, reason=unmanaged, rule="exits")
        mode = configured.on_position_mismatch if configured else "ignore"
        synced = await check_position(parsed, order, facts, mode, source=source)
        if synced.rejection is not None:
            return replace(_rejected(order, synced.rejection), position_mismatch=synced.mismatch)
        order = synced.order
        default_unit = configured.sizing.unit if configured else QuantityUnit.UNITS
        origin = f"sources.{source}.sizing.quantity" if parsed.default_quantity else "the alert"
        try:
            sized = await size_order(
                order, parsed.quantity_unit or default_unit, facts,
                bracket=placed.bracket, origin=origin,
            )
        except SizingError as exc:
            return _rejected(order, Rejection("sizing", str(exc)))
        order = sized.order
        for scope in scopes:
            if (refused := await check_size(scope, order, facts)) is not None:
                return _rejected(order, refused, sized.note)
        now = self._clock()
        for scope in scopes:
            if (refused := check_rate(scope, self._windows, now)) is not None:
                return _rejected(order, refused, sized.note)
        if parsed.test:
            reason = ("test: the alert is a test (test: true, or sent from the alert "
                      "builder); it passed every check and was stored, but is not executed")
            return PolicyVerdict(SignalStatus.REJECTED, order, reason, "test", sized.note)
        limited = [s.rate_key for s in scopes if s.limits.max_signals_per_minute is not None]
        reservation = self._windows.reserve(limited, now) if limited else None
        return PolicyVerdict(SignalStatus.QUEUED, order, reason=synced.mismatch, sizing=sized.note,
                             reservation=reservation, position_mismatch=synced.mismatch)

    async def recheck(
        self, order: Order, alert_symbol: str, source: str, plugin: str, *,
        queued: Sequence[Order] = (),
    ) -> PolicyVerdict | None:
        """At approval time, for an order stored `awaiting_approval` as it was sized: the kill
        switch and the risk rules again (trading hours, allowed symbols, quantity, notional and
        position limits); a `rejected` verdict, or None when they still allow it. The
        threshold, the sizing and the signals-per-minute limits were judged on receipt."""
        if (stopped := self._stopped(order)) is not None:
            return stopped
        scopes = self._scopes(alert_symbol, order.symbol, source, plugin)
        now = self._clock()
        for scope in scopes:
            if (refused := check_hours_and_symbols(scope, now)) is not None:
                return _rejected(order, refused)
        facts = self._facts(plugin, order, queued)
        for scope in scopes:
            if (refused := await check_size(scope, order, facts)) is not None:
                return _rejected(order, refused)
        return None

    def _stopped(self, order: Order) -> PolicyVerdict | None:
        if not self._kill_switch.engaged:
            return None
        reason = (f"kill_switch: {self._kill_switch.describe()}; signals are stored but "
                  "not executed")
        return PolicyVerdict(SignalStatus.REJECTED, order, reason=reason, rule="kill_switch")

    def _facts(self, plugin: str, order: Order, queued: Sequence[Order]) -> BrokerLookup:
        return BrokerLookup(self._registry, plugin, order.symbol,
                            timeout=self._settings.broker_lookup_timeout, queued=queued)

    def _scopes(self, alert_symbol: str, broker_symbol: str, source: str, plugin: str
                ) -> list[RiskScope]:
        scopes = []
        if (source_risk := self._source_risk.get(source)) is not None:
            scopes.append(RiskScope(f"sources.{source}.risk", source_risk, alert_symbol,
                                    f"source:{source}", f"source {source!r}"))
        if (plugin_risk := self._plugin_risk.get(plugin)) is not None:
            scopes.append(RiskScope(f"plugins.{plugin}.risk", plugin_risk,
                                    broker_symbol, f"plugin:{plugin}", f"plugin {plugin!r}"))
        return scopes

    def limits_positions(self, source: str, plugin: str) -> bool:
        """Whether a position limit applies: then `decide` needs the orders already queued."""
        known = self._limits_positions.get((source, plugin))
        if known is None:
            tables = [t for t in (self._source_risk.get(source), self._plugin_risk.get(plugin))
                      if t is not None]
            known = self._limits_positions[(source, plugin)] = any(
                t.max_position is not None or any(s.max_position for s in t.symbols.values())
                for t in tables
            )
        return known


def _rejected(order: Order, refused: Rejection, sizing: str | None = None) -> PolicyVerdict:
    return PolicyVerdict(SignalStatus.REJECTED, order, refused.text(), refused.rule, sizing)
