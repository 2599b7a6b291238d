"""The fake OKX account's algo orders: stop-loss and take-profit triggers that really trigger.

Rules, from OKX's v5 documentation (https://www.okx.com/docs-v5/en/):
- POST /api/v5/trade/order-algo ("Place algo order"): `ordType` conditional (one of
  `slTriggerPx` / `tpTriggerPx`), oco (both: "one-cancels-the-other", the first to trigger ends
  the order), or trigger (`triggerPx`, a stop entry). `-1` as order price means a market order.
- GET /api/v5/trade/orders-algo-pending ("Algo order list"): `ordType` is required; only
  "conditional" and "oco" may be combined, separated by a comma.
- POST /api/v5/trade/cancel-algos ("Cancel algo order"): a list of {algoId, instId}.
- A triggered algo order places an ordinary order and leaves the pending list ("effective").
- "Place order" `attachAlgoOrds`: the stop-loss / take-profit attached to an entry become an
  algo order once the entry has filled, closing what it filled. That the algo list then shows
  them as `oco` (both prices) or `conditional` (one), as if placed through "Place algo order",
  with the entry's `attachAlgoClOrdId` as their `algoClOrdId`, is unconfirmed.
Which price a trigger watches is `slTriggerPxType` / `tpTriggerPxType` (last by default); the
fake watches the last price, set by `FakeOkx.move_price`.
- A stop-loss already on the far side of the last price is refused: 51280 "SL trigger price
  must be less than the last price" (closing a long), 51278 "SL trigger price cannot be lower
  than the last price" (closing a short). The codes are those of OKX's "Error Code" page
  (REST, trade); their wording here is as users report it, unconfirmed on the page itself.
- `sz` with `reduceOnly` rather than `closeFraction` "1": the Place algo order page allows only
  one whole-position (`closeFraction`) TP/SL pending per position, so the fake does not model
  `closeFraction` (tradehook never sends it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def fired(algo: dict[str, Any], price: Decimal) -> bool:
    """Whether this live algo order triggers at `price`."""
    if algo.get("state") != "live":
        return False
    closing_long = algo.get("side") == "sell"
    stop, target = algo.get("slTriggerPx"), algo.get("tpTriggerPx")
    if stop and (price <= Decimal(stop) if closing_long else price >= Decimal(stop)):
        return True
    if target and (price >= Decimal(target) if closing_long else price <= Decimal(target)):
        return True
    trigger = algo.get("triggerPx")
    if trigger:
        placed = Decimal(algo["placedPx"])
        level = Decimal(trigger)
        return (placed < level <= price) or (placed > level >= price)
    return False


def misplaced_stop(algo: dict[str, Any], last: Decimal) -> tuple[str, str] | None:
    """The error code and message refusing this stop-loss at the last price, if any."""
    stop = algo.get("slTriggerPx")
    if not stop or algo.get("ordType") not in ("conditional", "oco"):
        return None
    if algo.get("side") == "sell" and Decimal(stop) >= last:
        return "51280", "SL trigger price must be less than the last price"
    if algo.get("side") == "buy" and Decimal(stop) <= last:
        return "51278", "SL trigger price cannot be lower than the last price"
    return None


def market_order_of(algo: dict[str, Any]) -> dict[str, Any]:
    """The ordinary order a triggered algo order places (order price -1: market)."""
    order = {key: algo[key] for key in ("instId", "side", "sz", "tdMode") if key in algo}
    order |= {"ordType": "market", "clOrdId": f"algo{algo['algoId']}"}
    if str(algo.get("reduceOnly", "")).lower() == "true" or algo.get("ordType") != "trigger":
        order["reduceOnly"] = True
    return order


def pending(algos: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    """GET orders-algo-pending: the live orders of the asked types (and instrument)."""
    kinds = [k for k in query.get("ordType", "").split(",") if k]
    if not kinds or (len(kinds) > 1 and set(kinds) != {"conditional", "oco"}):
        raise ValueError("ordType")
    inst_id = query.get("instId")
    return [
        as_json(a)
        for a in algos
        if a["state"] == "live" and a.get("ordType") in kinds and inst_id in (None, a["instId"])
    ]


def as_json(algo: dict[str, Any]) -> dict[str, Any]:
    """An algo order as the algo order list shows it."""
    fields = ("instId", "ordType", "side", "sz", "tdMode", "slTriggerPx", "tpTriggerPx",
              "slOrdPx", "tpOrdPx", "triggerPx", "orderPx", "algoClOrdId", "tag")  # fmt: skip
    shown = {key: str(algo.get(key, "")) for key in fields}
    return shown | {
        "instType": "SWAP", "algoId": algo["algoId"], "clOrdId": "", "state": algo["state"],
        "posSide": "net", "reduceOnly": str(algo.get("reduceOnly", False)).lower(),
        "ordPx": str(algo.get("orderPx", "")), "actualSz": "", "actualPx": "",
        "slTriggerPxType": "last", "tpTriggerPxType": "last", "triggerPxType": "last",
        "cTime": algo["cTime"], "uTime": algo["cTime"], "lever": "10", "tgtCcy": "",
    }  # fmt: skip


def attached(entry: dict[str, Any], filled: str, price: str) -> list[dict[str, Any]]:
    """The algo orders an entry's `attachAlgoOrds` become once it filled `filled` contracts
    (without `algoId` and `cTime`, which the caller gives them)."""
    closing = "sell" if entry.get("side") == "buy" else "buy"
    orders = []
    for attachment in entry.get("attachAlgoOrds") or []:
        prices = {key: attachment[key] for key in _ATTACHED_PRICES if attachment.get(key)}
        both = "slTriggerPx" in prices and "tpTriggerPx" in prices
        orders.append(prices | {
            "instId": entry.get("instId"), "tdMode": entry.get("tdMode", "cross"),
            "side": closing, "sz": filled, "ordType": "oco" if both else "conditional",
            "reduceOnly": "true", "algoClOrdId": attachment.get("attachAlgoClOrdId", ""),
            "state": "live", "placedPx": price,
        })  # fmt: skip
    return orders


_ATTACHED_PRICES = ("slTriggerPx", "slOrdPx", "tpTriggerPx", "tpOrdPx")
