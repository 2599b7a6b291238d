"""What each exchange guarantees about our client order ids and brackets, as its documentation
and ccxt's own code (the installed version) say, and nothing more.

The plugin declares per instance only what its exchange's row claims: an exchange whose lookup
by client id cannot be trusted gets `lookup_by_client_order_id = False`, so that a doubtful send
ends `unknown` for a person instead of a resend. An exchange missing from the table gets
`UNLISTED`: ccxt passes our id along, but nothing about it is trusted.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Uniqueness = Literal["all orders", "open orders", "unconfirmed"]


class ExchangeGuarantees(BaseModel):
    """One exchange's row of the table (see docs/plugins/ccxt.md for the sources)."""

    model_config = ConfigDict(frozen=True)

    exchange: str
    keeps_client_id: bool
    """The exchange stores the id we send with the order."""
    client_id_param: str = "clientOrderId"
    """The ccxt parameter our id travels in (Coinbase: its own `client_order_id`, since ccxt
    otherwise sends `ccxt-` and a random uuid)."""
    trigger_client_id_param: str | None = None
    """The parameter our id travels in on a trigger order kept apart (OKX: `algoClOrdId`, the
    one its Place algo order page lists; ccxt would send `clOrdId`), if not `client_id_param`."""
    lookup_by_client_id: bool
    """A lookup through ccxt finds the order by our id, so "not found" means "not there"."""
    lookup: str
    """Through which request the lookup goes, or why it is not trusted."""
    unique_among: Uniqueness
    """Which earlier orders a new order's client id may not repeat."""
    not_found_is_proof_after_recv_window: bool = False
    """A request may still be carried out until its timestamp + recvWindow (Binance), so a
    "not found" is proof only after that."""
    native_oco: tuple[str, ...] = ()
    """Market kinds where a stop-loss and a take-profit go in one order that cancels the other."""
    attached_stop_loss_take_profit: tuple[str, ...] = ()
    """Market kinds where stop-loss and take-profit travel with the entry (checked against
    ccxt's `createOrderWithTakeProfitAndStopLoss` too)."""
    reduce_only_stops: tuple[str, ...] = ()
    """Market kinds where a reduce-only stop-market trigger can hold a position's stop, which
    managed exits then place and move there (`position_stops`)."""
    triggers_kept_apart: tuple[str, ...] = ("swap",)
    """Market kinds where trigger orders live apart from ordinary ones (an algo service), so a
    lookup by client id does not see them and only a listing with `trigger` does."""
    order_query_params: dict[str, Any] = {}
    """ccxt parameters for asking how an order just placed stands, by the exchange's own order
    id (bybit: `acknowledged`, without which ccxt refuses, since its query sees only an
    account's last 500 orders)."""
    stop_entry_direction: bool = False
    """ccxt needs a stop entry's `triggerDirection` (bybit): a buy stop triggers on the way up
    ("ascending"), a sell stop on the way down."""
    trigger_listings: tuple[dict[str, Any], ...] = ({"trigger": True},)
    """The ccxt `fetch_open_orders` parameters that list every open trigger order."""
    sources: tuple[str, ...] = ()
    unconfirmed: tuple[str, ...] = ()
    """What the documentation does not say, and the plugin therefore does not rely on."""

    def weaknesses(self) -> list[str]:
        """What a user of this exchange cannot rely on, for `tradehook check` and the admin API."""
        notes = []
        if not self.keeps_client_id:
            notes.append("the exchange does not keep our client order id: no idempotency")
        if not self.lookup_by_client_id:
            notes.append(
                "orders cannot be looked up by client order id, so a send whose outcome is "
                f"unknown ends 'unknown' for a person to check ({self.lookup})"
            )
        if self.unique_among == "open orders":
            notes.append(
                "client order ids are unique only among open orders: a filled order's id can be "
                "used again, so resends rely on a lookup first"
            )
        notes.extend(f"unconfirmed: {item}" for item in self.unconfirmed)
        return notes


_IGNORED = "ccxt's fetchOrder ignores a client order id"


def _unreliable_lookup(exchange: str, why: str, **fields: Any) -> ExchangeGuarantees:
    """An exchange that keeps our id, but where a lookup through ccxt cannot be trusted."""
    defaults: dict[str, Any] = {"keeps_client_id": True, "unique_among": "unconfirmed"}
    return ExchangeGuarantees(
        exchange=exchange, lookup_by_client_id=False, lookup=why, **(defaults | fields)
    )


_BINANCE_DOCS = (
    "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints",
    "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/http-return-codes",
    "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/endpoint-security-type",
)
_BINANCE = {
    "keeps_client_id": True,
    "lookup_by_client_id": True,
    "lookup": "GET /api/v3/order with origClientOrderId (fetchOrder with clientOrderId)",
    "unique_among": "open orders",
    "not_found_is_proof_after_recv_window": True,
    "native_oco": ("spot",),
    "sources": _BINANCE_DOCS,
    "unconfirmed": (
        "that the matching engine refuses a request whose timestamp + recvWindow has passed "
        "when it reaches it late (the docs say the API server checks it on arrival)",
    ),
}

TABLE: dict[str, ExchangeGuarantees] = {
    row.exchange: row
    for row in (
        ExchangeGuarantees(exchange="binance", **_BINANCE),
        ExchangeGuarantees(exchange="binanceus", **_BINANCE),
        ExchangeGuarantees(
            exchange="binanceusdm",
            **(_BINANCE | {
                "lookup": "GET /fapi/v1/order with origClientOrderId; trigger orders live in "
                          "the algo service, where this lookup does not see them",
                "native_oco": (),
                "sources": ("https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api",),
            }),
        ),  # fmt: skip
        ExchangeGuarantees(
            exchange="okx",
            keeps_client_id=True,
            lookup_by_client_id=True,
            lookup="GET /api/v5/trade/order with clOrdId; trigger orders through "
            "GET /api/v5/trade/order-algo with algoClOrdId",
            unique_among="unconfirmed",
            native_oco=("swap",),
            attached_stop_loss_take_profit=("swap",),
            reduce_only_stops=("swap",),
            triggers_kept_apart=("spot", "swap"),
            trigger_client_id_param="algoClOrdId",
            trigger_listings=(  # only conditional and oco may share one listing
                {"trigger": True, "ordType": "conditional,oco"},
                {"trigger": True, "ordType": "trigger"},
            ),
            sources=(
                "https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order",
                "https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-post-place-algo-order",
            ),
            unconfirmed=(
                "how long after it is sent OKX may still carry out a delayed order request "
                "(OKX documents no receive window for REST orders)",
                "whether clOrdId is unique among all orders or only pending ones",
            ),
        ),
        _unreliable_lookup(
            "bybit",
            "ccxt's fetchOrder on a unified account raises ArgumentsRequired or returns "
            "the first order of a list queried with an empty order id",
            attached_stop_loss_take_profit=("swap",),
            reduce_only_stops=("swap",),
            stop_entry_direction=True,
            order_query_params={"acknowledged": True},
            sources=(
                "https://bybit-exchange.github.io/docs/v5/order/create-order",
                "https://bybit-exchange.github.io/docs/v5/order/open-order",
            ),
            unconfirmed=(
                "for how long an orderLinkId stays taken after its order ends",
            ),
        ),
        _unreliable_lookup(
            "kraken",
            "ccxt sends our id as cl_ord_id when it creates an order, but looks orders "
            "up by userref, an integer that is never set",
            unique_among="open orders",
            sources=(
                "https://docs.kraken.com/exchange/guides/general/clordid",
                "https://docs.kraken.com/api-reference/account-data/query-orders-info",
            ),
        ),
        _unreliable_lookup(
            "coinbase",
            _IGNORED,
            client_id_param="client_order_id",
            sources=("https://docs.cdp.coinbase.com/advanced-trade/reference/retailbrokerageapi_postorder",)
        ),  # fmt: skip
        _unreliable_lookup(
            "gate",
            "orders are found by their text id only for a while after they end",
            sources=("https://www.gate.com/docs/developers/apiv4/#create-an-order",),
        ),
        _unreliable_lookup(
            "kucoin",
            "unconfirmed through ccxt",
            unconfirmed=("that a spot entry carries its stop-loss (ccxt may drop it silently)",),
        ),
        _unreliable_lookup("cryptocom", _IGNORED),
        _unreliable_lookup("bingx", _IGNORED),
    )
}


def guarantees_for(exchange_id: str) -> ExchangeGuarantees:
    row = TABLE.get(exchange_id)
    if row is not None:
        return row
    return ExchangeGuarantees(
        exchange=exchange_id,
        keeps_client_id=True,
        lookup_by_client_id=False,
        lookup=f"not verified for {exchange_id}",
        unique_among="unconfirmed",
        unconfirmed=(f"that {exchange_id} keeps our client order id",),
    )


def market_buy_needs_price(exchange: Any) -> bool:
    """ccxt turns a market buy's amount into a cost on this exchange, so it needs a price
    (`createMarketBuyOrderRequiresPrice`, in the exchange's options or their createOrder)."""
    options = getattr(exchange, "options", None) or {}
    nested = options.get("createOrder")
    flag = options.get("createMarketBuyOrderRequiresPrice")
    if flag is None and isinstance(nested, dict):
        flag = nested.get("createMarketBuyOrderRequiresPrice")
    return flag is True
