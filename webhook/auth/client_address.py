"""Who sent a request: the peer, or the client a trusted proxy forwarded for.

`X-Forwarded-For` is honoured only when the peer itself is a configured trusted proxy; then the
client is the right-most address in it that is not a trusted proxy too, so a client cannot
choose its own address by sending the header (the proxy appends or overwrites; anything to
the left of what the proxies added is the client's own claim). The same rule covers the other
headers only a proxy may set: `X-Forwarded-Proto` and `X-TradingView-Certificate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer
from starlette.requests import Request

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

TRADINGVIEW_ADDRESSES = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")
"""Where TradingView sends webhooks from (https://www.tradingview.com/support/solutions/43000529348/)."""
PRESETS: dict[str, tuple[str, ...]] = {"tradingview": TRADINGVIEW_ADDRESSES}
CERTIFICATE_HEADER = "x-tradingview-certificate"
"""Set by the proxy to `verified` when TradingView's TLS client certificate checked out."""


def _networks(value: Any, *, presets: bool) -> tuple[IPNetwork, ...]:
    """Read addresses and networks from a list or a comma/space separated string (as an
    environment variable gives it); with `presets`, names like `tradingview` expand."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list | tuple):
        raise ValueError("expected a list of addresses or networks")
    found: list[IPNetwork] = []
    for entry in value:
        if isinstance(entry, IPv4Network | IPv6Network):
            found.append(entry)
            continue
        text = str(entry).strip()
        if presets and text.lower() in PRESETS:
            found += [ip_network(a) for a in PRESETS[text.lower()]]
            continue
        try:
            found.append(ip_network(text))
        except ValueError as exc:
            hint = f" or a preset ({', '.join(PRESETS)})" if presets else ""
            raise ValueError(f"{text!r} is not an address or network{hint}: {exc}") from exc
    return tuple(found)


def _as_strings(networks: tuple[IPNetwork, ...]) -> list[str]:
    return [str(n) for n in networks]


TrustedProxies = Annotated[
    tuple[IPNetwork, ...],
    BeforeValidator(lambda v: _networks(v, presets=False)),
    PlainSerializer(_as_strings),
]
AddressAllowlist = Annotated[
    tuple[IPNetwork, ...],
    BeforeValidator(lambda v: _networks(v, presets=True)),
    PlainSerializer(_as_strings),
]


def _address(text: str | None) -> IPAddress | None:
    if not text:
        return None
    try:
        address = ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _within(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in networks)


def forwarded_client(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> IPAddress | None:
    """The client's address given the TCP peer and the `X-Forwarded-For` header values."""
    address = _address(peer)
    if address is None or not _within(address, trusted):
        return address
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        candidate = _address(hop)
        if candidate is None:
            return None  # a malformed hop added by or after our proxies: trust nothing
        if not _within(candidate, trusted):
            return candidate
        address = candidate
    return address


def from_trusted_proxy(request: Request, trusted: Sequence[IPNetwork]) -> bool:
    address = _address(request.client.host if request.client else None)
    return address is not None and _within(address, trusted)


def client_address(request: Request, trusted: Sequence[IPNetwork]) -> IPAddress | None:
    peer = request.client.host if request.client else None
    return forwarded_client(peer, request.headers.getlist("x-forwarded-for"), trusted)


def is_allowed(address: IPAddress | None, allowlist: Sequence[IPNetwork]) -> bool:
    return address is not None and _within(address, allowlist)


def request_scheme(request: Request, trusted: Sequence[IPNetwork]) -> str:
    """`https` when the request came over TLS, directly or to a trusted proxy."""
    if from_trusted_proxy(request, trusted):
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if forwarded in ("http", "https"):
            return forwarded
    return request.url.scheme


def tradingview_certificate_verified(request: Request, trusted: Sequence[IPNetwork]) -> bool:
    """Whether a trusted proxy says the client showed TradingView's TLS certificate."""
    verified = request.headers.get(CERTIFICATE_HEADER, "").strip().lower() == "verified"
    return verified and from_trusted_proxy(request, trusted)
