"""ccxt's unified order structure, read into a model and turned into an `ExecutionResult`, and
its ticker turned into a `MarketData` quote."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from plugins.ccxt.symbols import Market, market_specs
from plugins.errors import NotSupported
from plugins.orders import ExecutionResult, ExecutionStatus, MarketData


class CcxtFee(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cost: float | None = None
    currency: str | None = None


class CcxtOrder(BaseModel):
    """The fields of a ccxt order that tradehook reads (ccxt fills in many more)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str | None = None
    client_order_id: str | None = Field(default=None, alias="clientOrderId")
    symbol: str | None = None
    status: str | None = None
    side: str | None = None
    amount: float | None = None
    filled: float | None = None
    average: float | None = None
    price: float | None = None
    reduce_only: bool | None = Field(default=None, alias="reduceOnly")
    trigger_price: float | None = Field(default=None, alias="triggerPrice")
    stop_loss_price: float | None = Field(default=None, alias="stopLossPrice")
    fees: list[CcxtFee] = Field(default_factory=list)

    @classmethod
    def parse(cls, raw: Any) -> CcxtOrder:
        data = dict(raw) if isinstance(raw, dict) else {}
        data["fees"] = [fee for fee in data.get("fees") or [] if isinstance(fee, dict)]
        info = data.get("info")
        if not data.get("clientOrderId") and isinstance(info, dict) and info.get("algoClOrdId"):
            # okx's algo orders carry our id as algoClOrdId, which ccxt does not read
            data["clientOrderId"] = info["algoClOrdId"]
        return cls.model_validate(data)

    def fee_in(self, currency: str) -> float:
        return sum(fee.cost or 0.0 for fee in self.fees if fee.currency == currency)

    def fee_in_quote(self, market: Market) -> float | None:
        """What the fills cost in the market's quote (or settlement) currency, as
        `ExecutionResult.fee` counts it: fees charged in the base currency are valued at the
        average price. None when the exchange reported none, or charged part of it in another
        currency (Binance's BNB discount), rather than an undercount."""
        if not self.fees:
            return None
        quote = {market.get("quote"), market.get("settle")} - {None}
        price = self.average or self.price
        total = 0.0
        for fee in self.fees:
            if fee.cost is None or fee.currency is None:
                return None
            if fee.currency in quote:
                total += fee.cost
            elif fee.currency == market.get("base") and price:
                total += fee.cost * price
            else:
                return None
        return total

    def to_result(
        self, market: Market | None = None, *, contract_size: float = 1.0,
        precision_mode: int | None = None,
    ) -> ExecutionResult:
        """`contract_size` turns filled contracts back into base currency. With the `market`
        (and ccxt's `precisionMode`) the result also carries the fee and the price tick."""
        filled = (self.filled or 0.0) * contract_size
        if self.status == "rejected":
            return ExecutionResult.rejected(
                f"the exchange rejected order {self.id}", client_order_id=self.client_order_id
            )
        return ExecutionResult(
            success=True,
            status=self._status(filled),
            order_id=self.id,
            client_order_id=self.client_order_id,
            filled_quantity=filled,
            average_price=(self.average or self.price) if filled else None,
            fee=self.fee_in_quote(market) if market is not None and filled else None,
            price_tick=price_tick(market, precision_mode),
        )

    def _status(self, filled: float) -> ExecutionStatus:
        if self.status == "closed":
            return ExecutionStatus.FILLED
        if filled > 0:
            return ExecutionStatus.PARTIALLY_FILLED
        if self.status in ("canceled", "cancelled", "expired"):
            return ExecutionStatus.CANCELLED
        return ExecutionStatus.PLACED


def price_tick(market: Market | None, precision_mode: int | None) -> float | None:
    """The market's smallest price step, when ccxt's markets say it."""
    if market is None or precision_mode is None:
        return None
    try:
        specs = market_specs(str(market.get("symbol")), market, precision_mode)
    except NotSupported:
        return None
    return specs.tick_size or specs.point


def quote_of(symbol: str, ticker: Any) -> MarketData:
    """ccxt's unified ticker as a quote: a missing bid or ask is the last price, a missing last
    the middle of the two."""
    last = ticker.get("last") or ticker.get("close") or 0.0
    bid, ask = ticker.get("bid") or last, ticker.get("ask") or last
    stamp = ticker.get("timestamp")
    return MarketData(
        symbol=symbol,
        bid=float(bid),
        ask=float(ask),
        last=float(last or (float(bid) + float(ask)) / 2),
        volume=float(ticker.get("baseVolume") or 0.0),
        timestamp=stamp / 1000 if stamp else time.time(),
    )
