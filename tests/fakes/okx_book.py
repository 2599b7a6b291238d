"""The fake OKX account's instruments and orders, as the v5 API shows them
(GET /api/v5/public/instruments, GET /api/v5/trade/order in https://www.okx.com/docs-v5/en/)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

SPREAD = Decimal("0.0001")


def _now_ms() -> str:
    return str(int(time.time() * 1000))


@dataclass(frozen=True)
class Instrument:
    inst_id: str
    inst_type: str
    base: str
    quote: str
    ct_val: Decimal
    lot: Decimal
    min_size: Decimal
    tick: Decimal
    price: Decimal

    def quote_prices(self) -> tuple[Decimal, Decimal]:
        """(bid, ask) around the last price."""
        low, high = self.price * (1 - SPREAD), self.price * (1 + SPREAD)
        return low.quantize(self.tick), high.quantize(self.tick)

    def as_json(self) -> dict[str, Any]:
        swap = self.inst_type == "SWAP"
        family = f"{self.base}-{self.quote}" if swap else ""
        return {
            "alias": "", "baseCcy": "" if swap else self.base, "category": "1",
            "ctMult": "1" if swap else "", "ctType": "linear" if swap else "",
            "ctVal": str(self.ct_val) if swap else "", "ctValCcy": self.base if swap else "",
            "expTime": "", "instFamily": family, "instId": self.inst_id,
            "instType": self.inst_type, "lever": "100", "listTime": "1606468572000",
            "lotSz": str(self.lot), "maxIcebergSz": "1000000", "maxLmtAmt": "20000000",
            "maxLmtSz": "1000000", "maxMktAmt": "", "maxMktSz": "12000", "maxStopSz": "12000",
            "maxTriggerSz": "1000000", "maxTwapSz": "1000000", "minSz": str(self.min_size),
            "optType": "", "quoteCcy": "" if swap else self.quote,
            "settleCcy": self.quote if swap else "", "state": "live", "stk": "",
            "tickSz": str(self.tick), "uly": family, "ruleType": "normal",
        }  # fmt: skip


INSTRUMENTS = {
    i.inst_id: i
    for i in (
        Instrument("BTC-USDT-SWAP", "SWAP", "BTC", "USDT", Decimal("0.01"), Decimal("0.01"),
                   Decimal("0.01"), Decimal("0.1"), Decimal(60000)),
        Instrument("ETH-USDT-SWAP", "SWAP", "ETH", "USDT", Decimal("0.1"), Decimal("0.01"),
                   Decimal("0.01"), Decimal("0.01"), Decimal(3000)),
        Instrument("BTC-USDT", "SPOT", "BTC", "USDT", Decimal(1), Decimal("0.00000001"),
                   Decimal("0.00001"), Decimal("0.1"), Decimal(60000)),
    )
}  # fmt: skip


@dataclass
class OkxOrder:
    ord_id: str
    cl_ord_id: str
    inst_id: str
    side: str
    ord_type: str
    size: Decimal
    request: dict[str, Any]
    """The order exactly as the plugin sent it."""
    state: str = "live"
    filled: Decimal = Decimal(0)
    avg_price: Decimal = Decimal(0)
    created_ms: str = field(default_factory=_now_ms)

    def as_json(self) -> dict[str, Any]:
        fill = str(self.avg_price) if self.filled else ""
        return {
            "instType": "SWAP", "instId": self.inst_id, "ordId": self.ord_id,
            "clOrdId": self.cl_ord_id, "px": self.request.get("px", ""), "sz": str(self.size),
            "ordType": self.ord_type, "side": self.side, "posSide": "net",
            "tdMode": self.request.get("tdMode", "cross"), "accFillSz": str(self.filled),
            "fillPx": fill, "fillSz": str(self.filled), "avgPx": fill, "state": self.state,
            "lever": "10", "fee": "0", "feeCcy": "USDT", "rebate": "0", "rebateCcy": "USDT",
            "pnl": "0", "category": "normal", "tag": self.request.get("tag", ""),
            "reduceOnly": str(self.request.get("reduceOnly", False)).lower(),
            "attachAlgoOrds": self.request.get("attachAlgoOrds", []),
            "cTime": self.created_ms, "uTime": self.created_ms, "tgtCcy": "",
            "slTriggerPx": "", "tpTriggerPx": "",
        }  # fmt: skip
