"""PineConnector alert text, so that alerts written for PineConnector work as they are.

    60123456789,buy,EURUSD,risk=1,sl=1.0750,tp=1.0950
    60123456789,sell,GBPJPY,sl=50,risk=1
    60123456789,buylimit,XAUUSD,price=2350.5,vol_lots=0.1,comment="gold dip"
    60123456789,closelong,EURUSD

`LicenseID,command,symbol,key=value,...`. The license id is not checked (use `secret=` and a
source passphrase for that). `risk=` is read in the source's `sizing.unit` (units, i.e. lots,
unless configured otherwise); `vol_lots=` is always lots. `sl=`, `tp=` and `price=` are read as
the source's `pineconnector` settings say, mirroring the EA's Target Type and Pending Order
Entry (`pineconnector_targets`); `sl_pips=`, `sl_pct=`, `sl_price=` (and `tp_...`) say their
unit themselves; `vol_dollar=` is the money lost at the stop-loss. Breakeven (`betrigger=`,
`beoffset=`) and pips trailing (`trailtrig=`, `traildist=`, `trailstep=`) become the order's
managed exits, in pips (`pineconnector_exits`). Parameters tradehook cannot honour (ATR
trailing, spread and account filters) are refused, each with the reason.
"""

from __future__ import annotations

import re
from typing import Any

from plugins.orders import OrderSide
from webhook.decide.quantities import QuantityUnit, RelativeBracket, resolve_bracket
from webhook.dialects.pineconnector_exits import EXIT_PARAMS, read_exit_distances
from webhook.dialects.pineconnector_exits import RENAMED as EXIT_NAMES
from webhook.dialects.pineconnector_targets import (
    TARGETS,
    PineConnectorSettings,
    read_entry,
    read_targets,
)
from webhook.dialects.signal import (
    ParsedSignal,
    build_order,
    check_placeholders,
    needs_default_quantity,
    to_number,
)
from webhook.errors import PayloadError

# command -> (action, side, order_type)
COMMANDS: dict[str, tuple[str, str | None, str]] = {
    "buy": ("open", "buy", "market"),
    "sell": ("open", "sell", "market"),
    "buylimit": ("open", "buy", "limit"),
    "selllimit": ("open", "sell", "limit"),
    "buystop": ("open", "buy", "stop"),
    "sellstop": ("open", "sell", "stop"),
    "closelong": ("close", "sell", "market"),
    "closeshort": ("close", "buy", "market"),
    "closeall": ("close", None, "market"),
    "cancellong": ("cancel", "buy", "market"),
    "cancelshort": ("cancel", "sell", "market"),
}
ALIASES = {"long": "buy", "bull": "buy", "bullish": "buy", "short": "sell", "bear": "sell",
           "bearish": "sell"}
TEXT_PARAMS = frozenset({"comment", "secret", "id", "plugin"})
NUMBER_PARAMS = frozenset({"risk", "vol_lots", "vol_dollar", "price", "confidence"})
VOLUMES = {"risk": None, "vol_lots": QuantityUnit.UNITS, "vol_dollar": QuantityUnit.RISK_AMOUNT}
"""How each size parameter is read: lots, money lost at the stop-loss, the source's unit."""
SUPPORTED = sorted({*TARGETS, *TEXT_PARAMS, *NUMBER_PARAMS, *EXIT_PARAMS})
REFUSED = {
    **dict.fromkeys(("atrtimeframe", "atrperiod", "atrmultiplier", "atrshift", "atrtrigger"),
                    "(ATR trailing stop) is not supported: tradehook trails at a fixed distance "
                    "(traildist=), it computes no indicator from the symbol's bars"),
    "spread": "(spread filter) is not supported: use trading hours or risk limits",
    "accfilter": "(account filter) is not supported: use the source's risk limits",
}
"""PineConnector parameters tradehook knows and refuses, and why."""
_LOOKS_LIKE = re.compile(r"^\s*[^\s,=]+\s*,\s*[A-Za-z]+\s*(,|$)")
_PARTS = re.compile(r'(?:[^,"]|"[^"]*")+|(?<=,)(?=,|$)')


def looks_like_pineconnector(text: str) -> bool:
    return bool(_LOOKS_LIKE.match(text))


def parse_pineconnector(
    text: str,
    *,
    default_quantity: float | None = None,
    settings: PineConnectorSettings | None = None,
) -> ParsedSignal:
    """`settings`: the source's reading of `sl=`, `tp=` and `price=` (default: prices)."""
    settings = settings or PineConnectorSettings()
    check_placeholders("body", text)
    parts = [part.strip() for part in _PARTS.findall(text.strip())]
    if len(parts) < 3 or not all(parts[:3]):
        raise PayloadError("body", "expected LicenseID,command,symbol[,key=value...], e.g. "
                                   "'60123456789,buy,EURUSD,risk=1'")
    _license, command, symbol = parts[0], parts[1].lower(), parts[2]
    command = ALIASES.get(command, command)
    if command not in COMMANDS:
        raise PayloadError("command", f"{command[:30]!r} is not supported; supported: "
                                      f"{', '.join([*COMMANDS, *ALIASES])}")
    action, side, order_type = COMMANDS[command]
    fields: dict[str, Any] = {"symbol": symbol, "action": action, "order_type": order_type}
    if side is not None:
        fields["side"] = side
    params = _params(parts[3:])
    renamed: dict[str, str] = {}
    unit = _read_quantity(params, fields, renamed)
    if action == "cancel":
        fields.pop("quantity", None)
    offsets = read_targets(params, settings, fields, renamed)
    exit_distances = read_exit_distances(params, action)
    if exit_distances is not None:
        renamed.update(EXIT_NAMES)
    pending = None
    if "price" in params:
        reading = settings if action == "open" else PineConnectorSettings()
        pending = read_entry("price", params["price"], order_type, reading, fields, renamed)
        if pending is not None:
            fields["order_type"] = "market"  # until the market is known: `PendingEntry`
    for key, value in params.items():
        if key == "confidence":
            fields["confidence"] = to_number(key, value)
        elif key == "comment":
            fields["comment"] = value[:256]
    if action != "open":
        for target in ("stop_loss", "take_profit"):
            fields.pop(target, None)
        offsets = {}
    bracket = RelativeBracket(**offsets) if offsets else None
    entry = fields.get("stop_price") if order_type == "stop" else fields.get("price")
    if bracket is not None and not bracket.in_pips and entry is not None and side is not None:
        resolve_bracket(fields, bracket, entry, OrderSide(side))
        bracket = None
    used_default = default_quantity is not None and needs_default_quantity(fields)
    if action == "open" and "quantity" not in fields and default_quantity is None:
        raise PayloadError("risk", f"missing: '{command}' needs risk= (or vol_lots=) to size "
                                   "the order")
    return ParsedSignal(
        order=build_order(fields, renamed=renamed, default_quantity=default_quantity),
        dialect="pineconnector",
        plugin=params.get("plugin"),
        idempotency_key=params.get("id"),
        passphrase=params.get("secret"),
        quantity_unit=unit,
        default_quantity=used_default,
        bracket=bracket,
        pending_entry=pending,
        exit_distances=exit_distances,
        price_fields={k: v for k, v in renamed.items() if k != "quantity"},
    )


def _params(parts: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in parts:
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not key:
            raise PayloadError("body", f"expected key=value after the symbol, got {part[:30]!r}")
        if key in REFUSED:
            raise PayloadError(key[:30], f"PineConnector parameter {key}= {REFUSED[key]}")
        if key not in SUPPORTED:
            raise PayloadError(key[:30], f"PineConnector parameter not supported by tradehook; "
                                         f"supported: {', '.join(SUPPORTED)}")
        if key in params:
            raise PayloadError(key, "given twice")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if not value:
            raise PayloadError(key, "is empty")
        params[key] = value
    return params


def _read_quantity(
    params: dict[str, str], fields: dict[str, Any], renamed: dict[str, str]
) -> QuantityUnit | None:
    """`vol_lots=` is lots, `vol_dollar=` the money lost at the stop-loss; `risk=` is in the
    source's sizing unit (None here)."""
    given = [key for key in VOLUMES if key in params]
    if len(given) > 1:
        raise PayloadError(given[1], f"give one of {', '.join(f'{k}=' for k in VOLUMES)}, "
                                     "not several")
    for key in given:
        fields["quantity"] = to_number(key, params[key])
        renamed["quantity"] = key
        return VOLUMES[key]
    return None
