"""Whatever a sender posts, parsing ends in an order or a PayloadError, never anything else."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from webhook.dialects import DIALECTS, parse_alert
from webhook.errors import PayloadError

KEYS = ["ticker", "symbol", "action", "sentiment", "quantity", "quantityType", "orderType",
        "limitPrice", "stopPrice", "price", "signalPrice", "takeProfit", "stopLoss",
        "timeInForce", "test", "extendedHours", "side", "contracts", "position",
        "prev_market_position", "position_size", "quantity_unit", "plugin", "confidence"]
WORDS = ["buy", "sell", "exit", "cancel", "add", "long", "short", "flat", "bullish", "limit",
         "stop", "market", "percent", "gtc", "1", "0", "-1", "1e400", "nan", "", "{{ticker}}"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.sampled_from(WORDS), st.text(max_size=8),
)
VALUES = st.recursive(SCALARS, lambda inner: st.dictionaries(
    st.sampled_from(["percent", "amount", "limitPrice", "stopPrice", "type"]), inner,
    max_size=3), max_leaves=6)
PAYLOADS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8)
PC_TEXT = st.lists(
    st.one_of(st.sampled_from(["60123", "buy", "selllimit", "closeall", "EURUSD", "risk=1",
                               "sl=1", "tp_pct=2", "price=x", "comment=\"a,b\"", "=", ""]),
              st.text(max_size=6)),
    max_size=6,
).map(",".join)


def parses_or_names_a_field(body: bytes, dialect: str = "auto") -> None:
    try:
        parse_alert(body, dialect)
    except PayloadError as exc:
        assert exc.field and exc.problem


@settings(max_examples=300, deadline=None)
@given(PAYLOADS, st.sampled_from(["auto", *DIALECTS]))
def test_any_json_object(payload: dict[str, object], dialect: str) -> None:
    parses_or_names_a_field(json.dumps(payload).encode(), dialect)


@settings(max_examples=300, deadline=None)
@given(PC_TEXT)
def test_any_comma_separated_text(text: str) -> None:
    parses_or_names_a_field(text.encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes(body: bytes) -> None:
    parses_or_names_a_field(body)
