"""`SignalPreview`: what the pipeline would decide about a signal, told without storing it.

`SignalPipeline.preview` makes one from the same steps as `receive` (parse, the passphrase,
routing and symbol mapping, threshold, kill switch, every risk rule, sizing with the broker's
price and balance) and stops before the journal: nothing is stored, nothing executed, and any
rate-limit slot the decision took is given back.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from plugins.orders import Order
from webhook.journal import SignalStatus


class SignalPreview(BaseModel):
    """The decision a signal would get now. `status` is what `POST /webhook` would answer
    (`queued`, `filtered`, `rejected`, `duplicate` or `invalid`); `stored` is always false."""

    model_config = ConfigDict(frozen=True)

    status: SignalStatus
    stored: bool = False
    reason: str | None = None
    rule: str | None = None
    """The setting that would reject it (`sources.signed.risk.max_quantity`, `kill_switch`)."""
    error: str | None = None
    field: str | None = None
    dialect: str | None = None
    plugin: str | None = None
    alert_symbol: str | None = None
    """The symbol as the signal names it; `order.symbol` is the broker's."""
    order: Order | None = None
    """The order as routed and sized, as it would be sent."""
    sizing: str | None = None
    """How the quantity would be computed."""
    threshold: float | None = None
    """The confidence threshold that applies to this sender."""
