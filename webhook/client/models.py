"""The bodies agents send, as pydantic models: the HTTP agent API and the OpenAPI document read
them and the MCP tools' input schemas are generated from them, so every surface takes the same
thing. (Here, in the client, because the client may import no server room.)"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from plugins.orders import OrderAction, OrderSide, OrderType, TimeInForce

QuantityUnit = Literal[
    "units", "quote", "percent_of_equity", "percent_of_position", "risk_amount", "risk_percent"
]
"""The units of `webhook.decide.quantities.QuantityUnit` (a test keeps the two the same)."""

Price = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class AgentSignal(BaseModel):
    """One order as an agent asks for it (tradehook's native dialect)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    symbol: Annotated[str, Field(min_length=1, max_length=64)]
    """As the agent names it, e.g. `BTC/USDT`, `BINANCE:BTCUSDT`, `EURUSD`."""
    side: OrderSide | None = None
    """Required to open or reverse; with `action: target`, none."""
    order_type: OrderType = OrderType.MARKET
    quantity: Price | None = None
    """In `quantity_unit`s; omitted: the source's `sizing.quantity`."""
    quantity_unit: QuantityUnit | None = None
    price: Price | None = None
    stop_price: Price | None = None
    stop_loss: Price | None = None
    take_profit: Price | None = None
    confidence: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.6
    """How sure the agent is; below the threshold the signal is stored as `filtered`."""
    action: OrderAction = OrderAction.OPEN
    target_position: Annotated[float, Field(allow_inf_nan=False)] | None = None
    """With `action: target`: the net position wanted (3, -2, 0); only the difference to the
    broker's position is ordered, so sending it again is safe."""
    expected_position: Annotated[float, Field(allow_inf_nan=False)] | None = None
    """The net position the agent believes the account holds before this order; a mismatch is
    handled as the source's `on_position_mismatch` says."""
    plugin: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    accounts: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = None
    """Accounts (plugins or account groups) to fan the order out to, instead of `plugin`."""
    time_in_force: TimeInForce | None = None
    comment: Annotated[str, Field(max_length=256)] | None = None

    def body(self) -> bytes:
        """The signal as the native dialect's JSON, which the pipeline parses like any body."""
        return self.model_dump_json(exclude_none=True).encode()


class KillSwitchEngagement(BaseModel):
    """An agent engaging the kill switch: only a person can release it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: Annotated[str, Field(min_length=1, max_length=400)]
